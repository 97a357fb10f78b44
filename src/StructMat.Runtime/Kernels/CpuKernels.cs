using System;
using System.Buffers;
using System.Numerics.Tensors;
using System.Threading.Tasks;

namespace StructMat.Runtime.Kernels;

/// <summary>
/// The CPU micro-kernels that generated layers call. Activations are row-major <c>[batch, width]</c>;
/// block weights are row-major <c>[groups, blockOut, blockIn]</c>; <c>inIdx(g, i)</c> and <c>outIdx(g, o)</c>
/// follow <see cref="BlockLayout"/>, which is how permutations fold into the products.
/// </summary>
/// <remarks>
/// Every span must hold at least the elements its shape needs (longer spans are allowed, only the prefix
/// is read or written); outputs must not overlap inputs. Bad arguments throw <see cref="ArgumentException"/>
/// naming the argument. Results are deterministic: each output element is computed by one fixed sequence
/// of operations whatever the threading, and large products are split over threads by batch rows (or, for
/// the weight gradient, by weight rows) so no two threads ever write the same element.
/// </remarks>
public static unsafe class CpuKernels
{
    /// <summary>Below this many multiply-adds a call stays on the calling thread.</summary>
    private const long ParallelThreshold = 1L << 16;

    /// <summary>Rows handled together so that one load of a weight row serves four activation rows.</summary>
    private const int RowTile = 4;

    /// <summary>Forward blocks at least this wide use dot products; narrower ones use axpy updates.</summary>
    private const int DotFormMinimumLength = 64;

    /// <summary>
    /// <c>y[b, outIdx(g,o)] = (accumulate ? y[b, outIdx(g,o)] : 0) + alpha · Σ_i W[g,o,i] · x[b, inIdx(g,i)]</c>.
    /// </summary>
    public static void BlockMatMul(ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<float> w, int batch, int groups, int blockOut, int blockIn, BlockLayout inLayout, BlockLayout outLayout, float alpha, bool accumulate)
    {
        var shape = BlockShape.Create(batch, groups, blockOut, blockIn, inLayout, outLayout);
        x = Prefix(x, (long)batch * shape.InWidth, nameof(x), "batch * groups * blockIn");
        y = Prefix(y, (long)batch * shape.OutWidth, nameof(y), "batch * groups * blockOut");
        w = Prefix(w, shape.WorkPerRow, nameof(w), "groups * blockOut * blockIn");
        KernelArguments.NoOverlap(x, y, nameof(x), nameof(y));
        KernelArguments.NoOverlap(w, y, nameof(w), nameof(y));
        if (batch == 0 || shape.OutWidth == 0) return;

        if (blockIn >= DotFormMinimumLength)
        {
            fixed (float* px = x, py = y, pw = w)
            {
                var args = new MatMulArgs(px, py, pw, shape, alpha, accumulate);
                ForEachRowRange(batch, shape.WorkPerRow, args, static (in MatMulArgs a, int start, int end) => ForwardRows(a, start, end));
            }
            return;
        }

        // Short blocks: a dot product of length blockIn would spend more on its horizontal sum than on its
        // multiply-adds, so the product runs as axpy updates over whole output blocks instead, which is the
        // transposed kernel applied to Wᵀ [groups, blockIn, blockOut] with the roles of the layouts swapped.
        float[] transposed = ArrayPool<float>.Shared.Rent((int)shape.WorkPerRow);
        try
        {
            fixed (float* px = x, py = y, pw = w, pwT = transposed)
            {
                TransposeRows(pw, pwT, groups, blockOut, blockIn, accumulate: false);
                var swapped = new BlockShape(groups, blockIn, blockOut, outLayout, inLayout);
                var args = new MatMulArgs(px, py, pwT, swapped, alpha, accumulate);
                ForEachRowRange(batch, shape.WorkPerRow, args, static (in MatMulArgs a, int start, int end) => TransposedRows(a, start, end));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(transposed);
        }
    }

    /// <summary>
    /// <c>dx[b, inIdx(g,i)] = (accumulate ? dx[b, inIdx(g,i)] : 0) + alpha · Σ_o W[g,o,i] · dy[b, outIdx(g,o)]</c>:
    /// the transposed product that backward uses, with the same weight and layouts as <see cref="BlockMatMul"/>.
    /// </summary>
    public static void BlockMatMulTransposed(ReadOnlySpan<float> dy, Span<float> dx, ReadOnlySpan<float> w, int batch, int groups, int blockOut, int blockIn, BlockLayout inLayout, BlockLayout outLayout, float alpha, bool accumulate)
    {
        var shape = BlockShape.Create(batch, groups, blockOut, blockIn, inLayout, outLayout);
        dy = Prefix(dy, (long)batch * shape.OutWidth, nameof(dy), "batch * groups * blockOut");
        dx = Prefix(dx, (long)batch * shape.InWidth, nameof(dx), "batch * groups * blockIn");
        w = Prefix(w, shape.WorkPerRow, nameof(w), "groups * blockOut * blockIn");
        KernelArguments.NoOverlap(dy, dx, nameof(dy), nameof(dx));
        KernelArguments.NoOverlap(w, dx, nameof(w), nameof(dx));
        if (batch == 0 || shape.InWidth == 0) return;

        fixed (float* pdy = dy, pdx = dx, pw = w)
        {
            var args = new MatMulArgs(pdy, pdx, pw, shape, alpha, accumulate);
            ForEachRowRange(batch, shape.WorkPerRow, args, static (in MatMulArgs a, int start, int end) => TransposedRows(a, start, end));
        }
    }

    /// <summary>
    /// <c>dW[g,o,i] += alpha · Σ_b dy[b, outIdx(g,o)] · x[b, inIdx(g,i)]</c> (always accumulates).
    /// </summary>
    public static void BlockWeightGradient(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dw, int batch, int groups, int blockOut, int blockIn, BlockLayout inLayout, BlockLayout outLayout, float alpha)
    {
        var shape = BlockShape.Create(batch, groups, blockOut, blockIn, inLayout, outLayout);
        dy = Prefix(dy, (long)batch * shape.OutWidth, nameof(dy), "batch * groups * blockOut");
        x = Prefix(x, (long)batch * shape.InWidth, nameof(x), "batch * groups * blockIn");
        dw = Prefix(dw, shape.WorkPerRow, nameof(dw), "groups * blockOut * blockIn");
        KernelArguments.NoOverlap(dy, dw, nameof(dy), nameof(dw));
        KernelArguments.NoOverlap(x, dw, nameof(x), nameof(dw));
        if (batch == 0 || shape.WorkPerRow == 0) return;

        // Each dW element is one dot product over the batch, so x and dy are first transposed to
        // [width, batch]: both operands of every dot are then contiguous, whatever the layouts.
        int xLength = checked(shape.InWidth * batch);
        int dyLength = checked(shape.OutWidth * batch);
        float[] xT = ArrayPool<float>.Shared.Rent(xLength);
        float[] dyT = ArrayPool<float>.Shared.Rent(dyLength);
        try
        {
            fixed (float* px = x, pdy = dy, pdw = dw, pxT = xT, pdyT = dyT)
            {
                TransposeRows(px, pxT, 1, batch, shape.InWidth, accumulate: false);
                TransposeRows(pdy, pdyT, 1, batch, shape.OutWidth, accumulate: false);
                var args = new GradientArgs(pxT, pdyT, pdw, shape, batch, alpha);
                int weightRows = shape.Groups * shape.BlockOut;
                long work = shape.WorkPerRow * batch;
                if (work <= ParallelThreshold || weightRows == 1)
                {
                    GradientRows(args, 0, weightRows);
                }
                else
                {
                    int chunks = ChunkCount(weightRows, work);
                    Parallel.For(0, chunks, c =>
                    {
                        var (start, end) = ChunkBounds(c, chunks, weightRows);
                        GradientRows(args, start, end);
                    });
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(xT);
            ArrayPool<float>.Shared.Return(dyT);
        }
    }

    /// <summary><c>y[b, c·rows + r] = (accumulate ? y[b, c·rows + r] : 0) + x[b, r·cols + c]</c>: each row read as [rows, cols] and transposed.</summary>
    public static void Transpose(ReadOnlySpan<float> x, Span<float> y, int batch, int rows, int cols, bool accumulate)
    {
        KernelArguments.NonNegative(batch, nameof(batch));
        KernelArguments.NonNegative(rows, nameof(rows));
        KernelArguments.NonNegative(cols, nameof(cols));
        long width = (long)rows * cols;
        KernelArguments.FitsInt32(width, nameof(cols), "rows * cols");
        x = Prefix(x, batch * width, nameof(x), "batch * rows * cols");
        y = Prefix(y, batch * width, nameof(y), "batch * rows * cols");
        KernelArguments.NoOverlap(x, y, nameof(x), nameof(y));
        if (batch == 0 || width == 0) return;

        fixed (float* px = x, py = y)
        {
            TransposeRows(px, py, batch, rows, cols, accumulate);
        }
    }

    /// <summary><c>y[k] = (accumulate ? y[k] : 0) + alpha · x[k]</c> for <c>k &lt; length</c>; <paramref name="y"/> may be <paramref name="x"/> itself.</summary>
    public static void Scale(ReadOnlySpan<float> x, Span<float> y, int length, float alpha, bool accumulate)
    {
        KernelArguments.NonNegative(length, nameof(length));
        x = Prefix(x, length, nameof(x), "length");
        y = Prefix(y, length, nameof(y), "length");
        // In place (the very same elements) is fine for an elementwise operation; a shifted overlap is not.
        if (x.Overlaps(y, out int offset) && offset != 0)
            throw new ArgumentException($"{nameof(y)} must be {nameof(x)} itself or not overlap it.", nameof(y));
        if (accumulate) TensorPrimitives.MultiplyAdd(x, alpha, y, y);
        else TensorPrimitives.Multiply(x, alpha, y);
    }

    /// <summary><c>y[b, j] += bias[j]</c>.</summary>
    public static void AddBias(Span<float> y, ReadOnlySpan<float> bias, int batch, int width)
    {
        KernelArguments.NonNegative(batch, nameof(batch));
        KernelArguments.NonNegative(width, nameof(width));
        y = Prefix(y, (long)batch * width, nameof(y), "batch * width");
        bias = Prefix(bias, width, nameof(bias), "width");
        KernelArguments.NoOverlap(bias, y, nameof(bias), nameof(y));
        for (int b = 0; b < batch; b++)
        {
            var row = y.Slice(b * width, width);
            TensorPrimitives.Add(row, bias, row);
        }
    }

    /// <summary><c>dbias[j] += Σ_b dy[b, j]</c>, summed in batch order.</summary>
    public static void BiasGradient(ReadOnlySpan<float> dy, Span<float> dbias, int batch, int width)
    {
        KernelArguments.NonNegative(batch, nameof(batch));
        KernelArguments.NonNegative(width, nameof(width));
        dy = Prefix(dy, (long)batch * width, nameof(dy), "batch * width");
        dbias = Prefix(dbias, width, nameof(dbias), "width");
        KernelArguments.NoOverlap(dy, dbias, nameof(dy), nameof(dbias));
        for (int b = 0; b < batch; b++)
            TensorPrimitives.Add(dbias, dy.Slice(b * width, width), dbias);
    }

    private static ReadOnlySpan<float> Prefix(ReadOnlySpan<float> span, long required, string name, string what)
    {
        KernelArguments.Length(span.Length, required, name, what);
        return span.Slice(0, (int)required);
    }

    private static Span<float> Prefix(Span<float> span, long required, string name, string what)
    {
        KernelArguments.Length(span.Length, required, name, what);
        return span.Slice(0, (int)required);
    }

    private delegate void RowRangeAction(in MatMulArgs args, int start, int end);

    /// <summary>Runs <paramref name="action"/> over [0, batch), split into row chunks on the thread pool when the product is big enough.</summary>
    private static void ForEachRowRange(int batch, long workPerRow, MatMulArgs args, RowRangeAction action)
    {
        long work = workPerRow * batch;
        if (work <= ParallelThreshold || batch <= RowTile)
        {
            action(args, 0, batch);
            return;
        }
        // Chunks hold whole row tiles, so the split never changes which rows are computed together
        // (and results would not depend on it anyway: rows are independent).
        int tiles = (batch + RowTile - 1) / RowTile;
        int chunks = ChunkCount(tiles, work);
        Parallel.For(0, chunks, c =>
        {
            var (startTile, endTile) = ChunkBounds(c, chunks, tiles);
            action(args, startTile * RowTile, Math.Min(batch, endTile * RowTile));
        });
    }

    /// <summary>Enough chunks to balance the cores, but each worth at least a quarter of the threshold.</summary>
    private static int ChunkCount(int items, long work)
    {
        long byWork = Math.Max(1, work / (ParallelThreshold / 4));
        long wanted = Math.Min(byWork, 4L * Environment.ProcessorCount);
        return (int)Math.Max(1, Math.Min(items, wanted));
    }

    private static (int Start, int End) ChunkBounds(int chunk, int chunks, int items)
    {
        int start = (int)((long)items * chunk / chunks);
        int end = (int)((long)items * (chunk + 1) / chunks);
        return (start, end);
    }

    /// <summary>Pointers and scalars of one matmul call; a struct so that the parallel lambda can capture it.</summary>
    private readonly struct MatMulArgs
    {
        public MatMulArgs(float* input, float* output, float* weight, BlockShape shape, float alpha, bool accumulate)
        {
            Input = input;
            Output = output;
            Weight = weight;
            Shape = shape;
            Alpha = alpha;
            Accumulate = accumulate;
        }

        public float* Input { get; }

        public float* Output { get; }

        public float* Weight { get; }

        public BlockShape Shape { get; }

        public float Alpha { get; }

        public bool Accumulate { get; }
    }

    private readonly struct GradientArgs
    {
        public GradientArgs(float* xT, float* dyT, float* dw, BlockShape shape, int batch, float alpha)
        {
            XT = xT;
            DyT = dyT;
            Dw = dw;
            Shape = shape;
            Batch = batch;
            Alpha = alpha;
        }

        /// <summary>x transposed to [inWidth, batch].</summary>
        public float* XT { get; }

        /// <summary>dy transposed to [outWidth, batch].</summary>
        public float* DyT { get; }

        public float* Dw { get; }

        public BlockShape Shape { get; }

        public int Batch { get; }

        public float Alpha { get; }
    }

    /// <summary>Forward product for rows [start, end), four rows per weight-row load.</summary>
    private static void ForwardRows(in MatMulArgs a, int start, int end)
    {
        var s = a.Shape;
        int inWidth = s.InWidth, outWidth = s.OutWidth, bi = s.BlockIn;
        bool gather = s.InLayout == BlockLayout.Strided && s.Groups > 1;
        float[]? rented = gather ? ArrayPool<float>.Shared.Rent(RowTile * inWidth) : null;
        try
        {
            fixed (float* scratch = rented)
            {
                float** rows = stackalloc float*[RowTile];
                float* dots = stackalloc float[RowTile];
                for (int b0 = start; b0 < end; b0 += RowTile)
                {
                    int tile = Math.Min(RowTile, end - b0);
                    // Rows as group-major [groups, blockIn]: strided inputs are gathered, contiguous ones read in place.
                    for (int t = 0; t < tile; t++)
                    {
                        float* xRow = a.Input + (long)(b0 + t) * inWidth;
                        if (!gather)
                        {
                            rows[t] = xRow;
                            continue;
                        }
                        float* dst = scratch + t * inWidth;
                        for (int i = 0; i < bi; i++)
                            for (int g = 0; g < s.Groups; g++)
                                dst[g * bi + i] = xRow[i * s.Groups + g];
                        rows[t] = dst;
                    }

                    for (int g = 0; g < s.Groups; g++)
                    {
                        int offset = g * bi;
                        for (int o = 0; o < s.BlockOut; o++)
                        {
                            float* wRow = a.Weight + ((long)g * s.BlockOut + o) * bi;
                            if (tile == RowTile)
                                SimdKernels.Dot4(wRow, rows[0] + offset, rows[1] + offset, rows[2] + offset, rows[3] + offset, bi, dots);
                            else
                                for (int t = 0; t < tile; t++) dots[t] = SimdKernels.Dot(wRow, rows[t] + offset, bi);

                            int column = s.OutIndex(g, o);
                            for (int t = 0; t < tile; t++)
                            {
                                float* target = a.Output + (long)(b0 + t) * outWidth + column;
                                float value = a.Alpha * dots[t];
                                *target = a.Accumulate ? *target + value : value;
                            }
                        }
                    }
                }
            }
        }
        finally
        {
            if (rented is not null) ArrayPool<float>.Shared.Return(rented);
        }
    }

    /// <summary>Transposed product for rows [start, end): axpy of weight rows into a group-major scratch row, then scatter.</summary>
    private static void TransposedRows(in MatMulArgs a, int start, int end)
    {
        var s = a.Shape;
        int inWidth = s.InWidth, outWidth = s.OutWidth, bi = s.BlockIn;
        float[] rented = ArrayPool<float>.Shared.Rent(RowTile * inWidth);
        try
        {
            fixed (float* scratch = rented)
            {
                float* coefficients = stackalloc float[RowTile];
                for (int b0 = start; b0 < end; b0 += RowTile)
                {
                    int tile = Math.Min(RowTile, end - b0);
                    new Span<float>(scratch, RowTile * inWidth).Clear();
                    for (int g = 0; g < s.Groups; g++)
                    {
                        int offset = g * bi;
                        for (int o = 0; o < s.BlockOut; o++)
                        {
                            float* wRow = a.Weight + ((long)g * s.BlockOut + o) * bi;
                            int column = s.OutIndex(g, o);
                            for (int t = 0; t < tile; t++)
                                coefficients[t] = a.Input[(long)(b0 + t) * outWidth + column];
                            if (tile == RowTile)
                                SimdKernels.Axpy4(coefficients, wRow, scratch + offset, scratch + inWidth + offset, scratch + 2 * inWidth + offset, scratch + 3 * inWidth + offset, bi);
                            else
                                for (int t = 0; t < tile; t++) SimdKernels.Axpy(coefficients[t], wRow, scratch + t * inWidth + offset, bi);
                        }
                    }

                    for (int t = 0; t < tile; t++)
                    {
                        float* row = scratch + t * inWidth;
                        float* dxRow = a.Output + (long)(b0 + t) * inWidth;
                        for (int g = 0; g < s.Groups; g++)
                            for (int i = 0; i < bi; i++)
                            {
                                float* target = dxRow + s.InIndex(g, i);
                                float value = a.Alpha * row[g * bi + i];
                                *target = a.Accumulate ? *target + value : value;
                            }
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rented);
        }
    }

    /// <summary>Weight gradient for weight rows [start, end) (a weight row is one (g, o)), four columns per dy load.</summary>
    private static void GradientRows(in GradientArgs a, int start, int end)
    {
        var s = a.Shape;
        int n = a.Batch, bi = s.BlockIn;
        float* dots = stackalloc float[RowTile];
        for (int row = start; row < end; row++)
        {
            int g = row / s.BlockOut, o = row % s.BlockOut;
            float* dyColumn = a.DyT + (long)s.OutIndex(g, o) * n;
            float* dwRow = a.Dw + (long)row * bi;
            int i = 0;
            for (; i <= bi - RowTile; i += RowTile)
            {
                SimdKernels.Dot4(dyColumn,
                    a.XT + (long)s.InIndex(g, i) * n,
                    a.XT + (long)s.InIndex(g, i + 1) * n,
                    a.XT + (long)s.InIndex(g, i + 2) * n,
                    a.XT + (long)s.InIndex(g, i + 3) * n,
                    n, dots);
                for (int t = 0; t < RowTile; t++) dwRow[i + t] += a.Alpha * dots[t];
            }
            for (; i < bi; i++)
                dwRow[i] += a.Alpha * SimdKernels.Dot(dyColumn, a.XT + (long)s.InIndex(g, i) * n, n);
        }
    }

    /// <summary>Per row: <c>y[c·rows + r] = (accumulate ? y : 0) + x[r·cols + c]</c>, in cache-sized tiles.</summary>
    private static void TransposeRows(float* x, float* y, int batch, int rows, int cols, bool accumulate)
    {
        const int Tile = 32;
        long width = (long)rows * cols;
        for (int b = 0; b < batch; b++)
        {
            float* xRow = x + b * width;
            float* yRow = y + b * width;
            for (int r0 = 0; r0 < rows; r0 += Tile)
            {
                int r1 = Math.Min(rows, r0 + Tile);
                for (int c0 = 0; c0 < cols; c0 += Tile)
                {
                    int c1 = Math.Min(cols, c0 + Tile);
                    for (int r = r0; r < r1; r++)
                        for (int c = c0; c < c1; c++)
                        {
                            float* target = yRow + (long)c * rows + r;
                            float value = xRow[(long)r * cols + c];
                            *target = accumulate ? *target + value : value;
                        }
                }
            }
        }
    }
}
