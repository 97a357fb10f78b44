using System;
using System.Buffers;
using System.Numerics.Tensors;

namespace StructMat.Runtime.Kernels;

/// <summary>
/// Elementwise kernels on row-major <c>[batch, width]</c> activations: a diagonal scaling, its gradient,
/// and a gather through an index map (a permutation folded into a copy; see <see cref="Permutations"/>).
/// </summary>
/// <remarks>
/// Spans must hold at least the elements their shapes need (only the prefix is used). Bad arguments throw
/// <see cref="ArgumentException"/> naming the argument. Results are deterministic: every output element is
/// one fixed sequence of float32 operations, and the gradient sums over the batch in row order.
/// </remarks>
public static class ElementKernels
{
    /// <summary>
    /// <c>y[b, j] = (accumulate ? y[b, j] : 0) + d[j] · x[b, j]</c>. <paramref name="y"/> may be
    /// <paramref name="x"/> itself (the very same elements); any other overlap with <paramref name="x"/>,
    /// or any overlap with <paramref name="d"/>, is rejected.
    /// </summary>
    public static void Diagonal(ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<float> d, int batch, int width, bool accumulate)
    {
        int size = KernelArguments.Rows(batch, width);
        KernelArguments.Length(x.Length, size, nameof(x), "batch * width");
        KernelArguments.Length(y.Length, size, nameof(y), "batch * width");
        KernelArguments.Length(d.Length, width, nameof(d), "width");
        x = x.Slice(0, size);
        y = y.Slice(0, size);
        d = d.Slice(0, width);
        if (x.Overlaps(y, out int offset) && offset != 0)
            throw new ArgumentException($"{nameof(y)} must be {nameof(x)} itself or not overlap it.", nameof(y));
        KernelArguments.NoOverlap(d, y, nameof(d), nameof(y));

        for (int b = 0; b < batch; b++)
        {
            var xRow = x.Slice(b * width, width);
            var yRow = y.Slice(b * width, width);
            if (accumulate) TensorPrimitives.MultiplyAdd(xRow, d, yRow, yRow);
            else TensorPrimitives.Multiply(xRow, d, yRow);
        }
    }

    /// <summary><c>dd[j] += Σ_b dy[b, j] · x[b, j]</c>, added to <paramref name="dd"/> one row at a time in batch order.</summary>
    public static void DiagonalGradient(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dd, int batch, int width)
    {
        int size = KernelArguments.Rows(batch, width);
        KernelArguments.Length(dy.Length, size, nameof(dy), "batch * width");
        KernelArguments.Length(x.Length, size, nameof(x), "batch * width");
        KernelArguments.Length(dd.Length, width, nameof(dd), "width");
        dy = dy.Slice(0, size);
        x = x.Slice(0, size);
        dd = dd.Slice(0, width);
        KernelArguments.NoOverlap(dy, dd, nameof(dy), nameof(dd));
        KernelArguments.NoOverlap(x, dd, nameof(x), nameof(dd));

        for (int b = 0; b < batch; b++)
            TensorPrimitives.MultiplyAdd(dy.Slice(b * width, width), x.Slice(b * width, width), dd, dd);
    }

    /// <summary>
    /// <c>y[b, j] = (accumulate ? y[b, j] : 0) + x[b, map[j]]</c>: output column <c>j</c> reads input column
    /// <c>map[j]</c>. <paramref name="map"/> must hold at least <paramref name="width"/> entries, each in
    /// <c>[0, width)</c> (it need not be a permutation); <paramref name="y"/> must not overlap <paramref name="x"/>.
    /// </summary>
    public static void Gather(ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<int> map, int batch, int width, bool accumulate)
    {
        int size = KernelArguments.Rows(batch, width);
        KernelArguments.Length(x.Length, size, nameof(x), "batch * width");
        KernelArguments.Length(y.Length, size, nameof(y), "batch * width");
        KernelArguments.Length(map.Length, width, nameof(map), "width");
        x = x.Slice(0, size);
        y = y.Slice(0, size);
        map = map.Slice(0, width);
        KernelArguments.NoOverlap(x, y, nameof(x), nameof(y));
        // The map is checked and cut into runs of consecutive sources in one pass; block permutations (a
        // butterfly's block xor, say) are a few long runs, which copy as vectors instead of element by element.
        int runCount = 0;
        int[] runStarts = ArrayPool<int>.Shared.Rent(width + 1);
        try
        {
            for (int j = 0; j < width; j++)
            {
                if ((uint)map[j] >= (uint)width)
                    throw new ArgumentException($"{nameof(map)}[{j}] = {map[j]} is outside [0, {width}).", nameof(map));
                if (j == 0 || map[j] != map[j - 1] + 1) runStarts[runCount++] = j;
            }
            runStarts[runCount] = width;

            for (int b = 0; b < batch; b++)
            {
                var xRow = x.Slice(b * width, width);
                var yRow = y.Slice(b * width, width);
                for (int r = 0; r < runCount; r++)
                {
                    int start = runStarts[r], length = runStarts[r + 1] - start;
                    var source = xRow.Slice(map[start], length);
                    var target = yRow.Slice(start, length);
                    if (accumulate) TensorPrimitives.Add(target, source, target);
                    else source.CopyTo(target);
                }
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(runStarts);
        }
    }
}
