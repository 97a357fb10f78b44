namespace StructMat.Runtime.Kernels;

/// <summary>
/// The grouped product that each block kernel is: how a block product's layouts become strides (a folded permutation
/// costs nothing but indexing). The kernels run these products; <see cref="BlockProductPlanner"/> plans on the same
/// descriptors (without memory), so the plan and the run cannot disagree about a stride.
/// </summary>
internal static unsafe class BlockProducts
{
    /// <summary>
    /// <see cref="CpuKernels.BlockMatMul(System.ReadOnlySpan{float}, System.Span{float}, System.ReadOnlySpan{float}, int, int, int, int, BlockLayout, BlockLayout, float, bool, int)"/>
    /// per group: <c>C[b, o] = A[b, i] · B[i, o]</c> with A = the group's columns of x, B = W_gᵀ, C = its columns of y.
    /// </summary>
    public static GroupedProduct Forward(float* x, float* y, float* w, int batch, in BlockShape shape, float alpha, bool accumulate, bool weightIsParameter, int inputGroupXor)
    {
        var activations = Activations(x, shape.InWidth, shape.InLayout, shape.Groups, shape.BlockIn);
        var outputs = Activations(y, shape.OutWidth, shape.OutLayout, shape.Groups, shape.BlockOut);
        return new GroupedProduct(shape.Groups, batch, shape.BlockOut, shape.BlockIn,
            activations.Matrix, activations.GroupStride,
            new StridedMatrix(w, 1, shape.BlockIn), (nint)shape.BlockOut * shape.BlockIn,
            outputs.Matrix, outputs.GroupStride,
            alpha, accumulate, bIsParameter: weightIsParameter) { AGroupXor = inputGroupXor };
    }

    /// <summary>
    /// The transposed product per group: <c>C[b, i] = A[b, o] · B[o, i]</c> with A = the group's columns of dy and B = W_g
    /// read in place. With an input group XOR s, group h of dx is written by block h ⊕ s: A and B are read at group h ⊕ s.
    /// </summary>
    public static GroupedProduct Transposed(float* dy, float* dx, float* w, int batch, in BlockShape shape, float alpha, bool accumulate, bool weightIsParameter, int inputGroupXor)
    {
        var gradients = Activations(dy, shape.OutWidth, shape.OutLayout, shape.Groups, shape.BlockOut);
        var inputs = Activations(dx, shape.InWidth, shape.InLayout, shape.Groups, shape.BlockIn);
        return new GroupedProduct(shape.Groups, batch, shape.BlockIn, shape.BlockOut,
            gradients.Matrix, gradients.GroupStride,
            new StridedMatrix(w, shape.BlockIn, 1), (nint)shape.BlockOut * shape.BlockIn,
            inputs.Matrix, inputs.GroupStride,
            alpha, accumulate, bIsParameter: weightIsParameter) { AGroupXor = inputGroupXor, BGroupXor = inputGroupXor };
    }

    /// <summary>
    /// The weight gradient per group: <c>C[o, i] += A[o, b] · B[b, i]</c> with A = dy_gᵀ and B = x_g, both read in place
    /// (the batch is the depth).
    /// </summary>
    public static GroupedProduct WeightGradient(float* dy, float* x, float* dw, int batch, in BlockShape shape, float alpha, int inputGroupXor)
    {
        var gradients = Activations(dy, shape.OutWidth, shape.OutLayout, shape.Groups, shape.BlockOut);
        var inputs = Activations(x, shape.InWidth, shape.InLayout, shape.Groups, shape.BlockIn);
        return new GroupedProduct(shape.Groups, shape.BlockOut, shape.BlockIn, batch,
            gradients.Matrix.Transposed, gradients.GroupStride,
            inputs.Matrix, inputs.GroupStride,
            new StridedMatrix(dw, shape.BlockIn, 1), (nint)shape.BlockOut * shape.BlockIn,
            alpha, accumulate: true) { BGroupXor = inputGroupXor };
    }

    /// <summary>
    /// Group <c>g</c>'s columns of a row-major <c>[batch, width]</c> activation as a <c>[batch, block]</c> matrix:
    /// column <c>j</c> is <c>g·block + j</c> (contiguous) or <c>j·groups + g</c> (strided).
    /// </summary>
    private static (StridedMatrix Matrix, nint GroupStride) Activations(float* data, int width, BlockLayout layout, int groups, int block) =>
        layout == BlockLayout.Contiguous
            ? (new StridedMatrix(data, width, 1), block)
            : (new StridedMatrix(data, width, groups), 1);
}
