namespace StructMat.Runtime.Kernels;

/// <summary>A matrix view on raw memory: element <c>(r, c)</c> lives at <c>Data + r·RowStride + c·ColStride</c>.</summary>
internal readonly unsafe struct StridedMatrix
{
    public StridedMatrix(float* data, nint rowStride, nint colStride)
    {
        Data = data;
        RowStride = rowStride;
        ColStride = colStride;
    }

    public float* Data { get; }

    public nint RowStride { get; }

    public nint ColStride { get; }

    /// <summary>The same memory read as the transpose: no data moves.</summary>
    public StridedMatrix Transposed => new(Data, ColStride, RowStride);

    public float* At(nint row, nint col) => Data + row * RowStride + col * ColStride;
}
