using System.Collections.Generic;

namespace StructMat.Runtime.IO;

/// <summary>
/// One tensor read from a <c>.safetensors</c> file: the dtype as stored in the file (<c>F32</c>, <c>F16</c>,
/// <c>BF16</c>, <c>F64</c>, <c>U8</c>, <c>I8</c>) and its shape. A float tensor's elements are converted to float32
/// in <see cref="Data"/>, row-major; a <c>U8</c> or <c>I8</c> tensor (the codes of a quantised base) keeps its bytes
/// in <see cref="Bytes"/>, and its <see cref="Data"/> throws.
/// </summary>
public sealed record Tensor(string DType, int[] Shape, float[] Data)
{
    private readonly float[] _data = Data;

    /// <summary>The float32 elements of a float tensor.</summary>
    /// <exception cref="InvalidOperationException">The tensor is U8 or I8: its elements are in <see cref="Bytes"/>.</exception>
    public float[] Data
    {
        get => Bytes is null ? _data : throw new System.InvalidOperationException($"A {DType} tensor holds bytes, not float32: read {nameof(Bytes)}.");
        init => _data = value;
    }

    /// <summary>The raw bytes of a <c>U8</c> or <c>I8</c> tensor; null for float tensors.</summary>
    public byte[]? Bytes { get; init; }

    /// <summary>Elements of the tensor, whichever way they are held.</summary>
    public int Length => Bytes?.Length ?? _data.Length;
}

/// <summary>Everything a <c>.safetensors</c> file holds: its tensors (in file order) and its <c>__metadata__</c> map.</summary>
public sealed record SafeTensorsContent(
    IReadOnlyDictionary<string, Tensor> Tensors,
    IReadOnlyDictionary<string, string> Metadata);
