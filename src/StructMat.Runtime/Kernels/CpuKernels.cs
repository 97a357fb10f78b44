using System;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
/// of operations whatever the threading, and large products are split over threads by batch rows or by groups
/// (weight gradients, and staged products by groups of their weights) so no two threads ever write the same element.
/// </remarks>
public static unsafe class CpuKernels
{
    /// <summary>
    /// <c>y[b, outIdx(g,o)] = (accumulate ? y[b, outIdx(g,o)] : 0) + alpha · Σ_i W[g,o,i] · x[b, inIdx(g ⊕ s, i)]</c>
    /// with <c>s</c> = <paramref name="inputGroupXor"/>: block <c>g</c> of the output reads block <c>g XOR s</c> of the
    /// input, a diagonal of the flat block butterfly (0, the default, is the plain block-diagonal product).
    /// </summary>
    /// <param name="inputGroupXor">
    /// Non-negative; non-zero only with contiguous layouts and with <paramref name="groups"/> a multiple of the power of
    /// two above its highest bit, so that every <c>g XOR s</c> is a group.
    /// </param>
    /// <remarks>
    /// Inside <see cref="BatchTiles.Run"/>, <paramref name="w"/> must be one of the layer's parameters (it is kept
    /// packed by address from tile to tile); kernels that pass scratch as the weight use the internal overload.
    /// </remarks>
    public static void BlockMatMul(ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<float> w, int batch, int groups, int blockOut, int blockIn, BlockLayout inLayout = BlockLayout.Contiguous, BlockLayout outLayout = BlockLayout.Contiguous, float alpha = 1.0f, bool accumulate = false, int inputGroupXor = 0) =>
        BlockMatMul(x, y, w, batch, groups, blockOut, blockIn, inLayout, outLayout, alpha, accumulate, weightIsParameter: true, inputGroupXor);

    /// <summary><see cref="BlockMatMul(ReadOnlySpan{float}, Span{float}, ReadOnlySpan{float}, int, int, int, int, BlockLayout, BlockLayout, float, bool, int)"/>, saying whether <paramref name="w"/> is a parameter that a pack cache may keep.</summary>
    internal static void BlockMatMul(ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<float> w, int batch, int groups, int blockOut, int blockIn, BlockLayout inLayout, BlockLayout outLayout, float alpha, bool accumulate, bool weightIsParameter, int inputGroupXor = 0)
    {
        var shape = BlockShape.Create(batch, groups, blockOut, blockIn, inLayout, outLayout);
        shape.CheckGroupXor(inputGroupXor, nameof(inputGroupXor));
        x = Prefix(x, (long)batch * shape.InWidth, nameof(x), "batch * groups * blockIn");
        y = Prefix(y, (long)batch * shape.OutWidth, nameof(y), "batch * groups * blockOut");
        w = Prefix(w, shape.WorkPerRow, nameof(w), "groups * blockOut * blockIn");
        KernelArguments.NoOverlap(x, y, nameof(x), nameof(y));
        KernelArguments.NoOverlap(w, y, nameof(w), nameof(y));
        if (batch == 0 || shape.OutWidth == 0) return;

        var engine = BlockProductPlanner.Forward(shape, batch, inputGroupXor, VectorSupport.Current);
        fixed (float* px = x, py = y, pw = w)
        {
            if (engine == BlockEngine.StagedStrips)
            {
                StridedStaging.Run(px, blockIn, inLayout, py, blockOut, outLayout, groups, batch, new StridedMatrix(pw, 1, blockIn), (nint)blockOut * blockIn, alpha, accumulate, weightIsParameter);
                return;
            }
            BlockEngines.Run(BlockProducts.Forward(px, py, pw, batch, shape, alpha, accumulate, weightIsParameter, inputGroupXor), engine);
        }
    }

    /// <summary>
    /// <c>dx[b, inIdx(g ⊕ s, i)] = (accumulate ? dx[b, inIdx(g ⊕ s, i)] : 0) + alpha · Σ_o W[g,o,i] · dy[b, outIdx(g,o)]</c>
    /// with <c>s</c> = <paramref name="inputGroupXor"/>: the transposed product that backward uses, with the same weight,
    /// layouts and input group XOR as <see cref="BlockMatMul(ReadOnlySpan{float}, Span{float}, ReadOnlySpan{float}, int, int, int, int, BlockLayout, BlockLayout, float, bool, int)"/>.
    /// </summary>
    public static void BlockMatMulTransposed(ReadOnlySpan<float> dy, Span<float> dx, ReadOnlySpan<float> w, int batch, int groups, int blockOut, int blockIn, BlockLayout inLayout = BlockLayout.Contiguous, BlockLayout outLayout = BlockLayout.Contiguous, float alpha = 1.0f, bool accumulate = false, int inputGroupXor = 0) =>
        BlockMatMulTransposed(dy, dx, w, batch, groups, blockOut, blockIn, inLayout, outLayout, alpha, accumulate, weightIsParameter: true, inputGroupXor);

    /// <summary><see cref="BlockMatMulTransposed(ReadOnlySpan{float}, Span{float}, ReadOnlySpan{float}, int, int, int, int, BlockLayout, BlockLayout, float, bool, int)"/>, saying whether <paramref name="w"/> is a parameter that a pack cache may keep.</summary>
    internal static void BlockMatMulTransposed(ReadOnlySpan<float> dy, Span<float> dx, ReadOnlySpan<float> w, int batch, int groups, int blockOut, int blockIn, BlockLayout inLayout, BlockLayout outLayout, float alpha, bool accumulate, bool weightIsParameter, int inputGroupXor = 0)
    {
        var shape = BlockShape.Create(batch, groups, blockOut, blockIn, inLayout, outLayout);
        shape.CheckGroupXor(inputGroupXor, nameof(inputGroupXor));
        dy = Prefix(dy, (long)batch * shape.OutWidth, nameof(dy), "batch * groups * blockOut");
        dx = Prefix(dx, (long)batch * shape.InWidth, nameof(dx), "batch * groups * blockIn");
        w = Prefix(w, shape.WorkPerRow, nameof(w), "groups * blockOut * blockIn");
        KernelArguments.NoOverlap(dy, dx, nameof(dy), nameof(dx));
        KernelArguments.NoOverlap(w, dx, nameof(w), nameof(dx));
        if (batch == 0 || shape.InWidth == 0) return;

        var engine = BlockProductPlanner.Transposed(shape, batch, inputGroupXor, VectorSupport.Current);
        fixed (float* pdy = dy, pdx = dx, pw = w)
        {
            if (engine == BlockEngine.StagedStrips)
            {
                StridedStaging.Run(pdy, blockOut, outLayout, pdx, blockIn, inLayout, groups, batch, new StridedMatrix(pw, blockIn, 1), (nint)blockOut * blockIn, alpha, accumulate, weightIsParameter);
                return;
            }
            BlockEngines.Run(BlockProducts.Transposed(pdy, pdx, pw, batch, shape, alpha, accumulate, weightIsParameter, inputGroupXor), engine);
        }
    }

    /// <summary>
    /// <c>dW[g,o,i] += alpha · Σ_b dy[b, outIdx(g,o)] · x[b, inIdx(g ⊕ s, i)]</c> (always accumulates), with <c>s</c> =
    /// <paramref name="inputGroupXor"/> as in <see cref="BlockMatMul(ReadOnlySpan{float}, Span{float}, ReadOnlySpan{float}, int, int, int, int, BlockLayout, BlockLayout, float, bool, int)"/>.
    /// </summary>
    public static void BlockWeightGradient(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dw, int batch, int groups, int blockOut, int blockIn, BlockLayout inLayout = BlockLayout.Contiguous, BlockLayout outLayout = BlockLayout.Contiguous, float alpha = 1.0f, int inputGroupXor = 0)
    {
        var shape = BlockShape.Create(batch, groups, blockOut, blockIn, inLayout, outLayout);
        shape.CheckGroupXor(inputGroupXor, nameof(inputGroupXor));
        dy = Prefix(dy, (long)batch * shape.OutWidth, nameof(dy), "batch * groups * blockOut");
        x = Prefix(x, (long)batch * shape.InWidth, nameof(x), "batch * groups * blockIn");
        dw = Prefix(dw, shape.WorkPerRow, nameof(dw), "groups * blockOut * blockIn");
        KernelArguments.NoOverlap(dy, dw, nameof(dy), nameof(dw));
        KernelArguments.NoOverlap(x, dw, nameof(x), nameof(dw));
        if (batch == 0 || shape.WorkPerRow == 0) return;

        var engine = BlockProductPlanner.WeightGradient(shape, batch, inputGroupXor, VectorSupport.Current);
        fixed (float* pdy = dy, px = x, pdw = dw)
        {
            if (engine == BlockEngine.StagedWeightGradient)
            {
                StridedStaging.WeightGradient(pdy, blockOut, outLayout, px, blockIn, inLayout, groups, batch, pdw, alpha, inputGroupXor);
                return;
            }
            BlockEngines.Run(BlockProducts.WeightGradient(pdy, px, pdw, batch, shape, alpha, inputGroupXor), engine);
        }
    }

    /// <summary>
    /// The weight gradients of several block products that read the same <paramref name="dy"/> and <paramref name="x"/>,
    /// product <c>t</c> with input group XOR <c>s_t</c> = <paramref name="inputGroupXors"/>[t] (a flat block butterfly's
    /// diagonals): <c>dW_t[g,o,i] += alpha · Σ_b dy[b, g·blockOut + o] · x[b, (g ⊕ s_t)·blockIn + i]</c>, where
    /// <c>dW_t</c> is the <c>t</c>-th run of <c>groups · blockOut · blockIn</c> floats of <paramref name="dw"/>.
    /// Contiguous layouts (those a block swap is folded into).
    /// </summary>
    /// <remarks>
    /// The bits are those of <see cref="BlockWeightGradient"/> called once per product. With 8 or more groups and blocks
    /// of 8 or more, each strip of both activations is copied into cache once for all the products instead of once
    /// each; otherwise the products run one after the other. Every argument is checked before anything is written.
    /// </remarks>
    public static void BlockWeightGradients(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dw, int batch, int groups, int blockOut, int blockIn, ReadOnlySpan<int> inputGroupXors, float alpha)
    {
        var shape = BlockShape.Create(batch, groups, blockOut, blockIn, BlockLayout.Contiguous, BlockLayout.Contiguous);
        foreach (int xor in inputGroupXors) shape.CheckGroupXor(xor, nameof(inputGroupXors));
        long perProduct = shape.WorkPerRow;
        KernelArguments.FitsInt32(perProduct * inputGroupXors.Length, nameof(inputGroupXors), "inputGroupXors.Length * groups * blockOut * blockIn");
        dy = Prefix(dy, (long)batch * shape.OutWidth, nameof(dy), "batch * groups * blockOut");
        x = Prefix(x, (long)batch * shape.InWidth, nameof(x), "batch * groups * blockIn");
        dw = Prefix(dw, perProduct * inputGroupXors.Length, nameof(dw), "inputGroupXors.Length * groups * blockOut * blockIn");
        KernelArguments.NoOverlap(dy, dw, nameof(dy), nameof(dw));
        KernelArguments.NoOverlap(x, dw, nameof(x), nameof(dw));
        if (batch == 0 || perProduct == 0 || inputGroupXors.IsEmpty) return;

        if (BlockProductPlanner.WeightGradients(shape, inputGroupXors.Length) == BlockEngine.SeparateProducts)
        {
            for (int t = 0; t < inputGroupXors.Length; t++)
                BlockWeightGradient(dy, x, dw.Slice((int)(t * perProduct), (int)perProduct), batch, groups, blockOut, blockIn,
                    BlockLayout.Contiguous, BlockLayout.Contiguous, alpha, inputGroupXors[t]);
            return;
        }
        fixed (float* pdy = dy, px = x, pdw = dw)
        {
            StridedStaging.WeightGradients(pdy, blockOut, px, blockIn, groups, batch, pdw, alpha, inputGroupXors.ToArray());
        }
    }

    /// <summary>
    /// Both gradients of <see cref="BlockMatMul(ReadOnlySpan{float}, Span{float}, ReadOnlySpan{float}, int, int, int, int, BlockLayout, BlockLayout, float, bool, int)"/>
    /// in one pass over <paramref name="dy"/>: <c>dx[b, inIdx(g,i)] = (accumulate ? dx[b, inIdx(g,i)] : 0) + alpha · Σ_o W[g,o,i] · dy[b, outIdx(g,o)]</c>
    /// and <c>dW[g,o,i] += alpha · Σ_b dy[b, outIdx(g,o)] · x[b, inIdx(g,i)]</c>.
    /// </summary>
    /// <remarks>
    /// The results are those of <see cref="BlockMatMulTransposed(ReadOnlySpan{float}, Span{float}, ReadOnlySpan{float}, int, int, int, int, BlockLayout, BlockLayout, float, bool, int)"/>
    /// followed by <see cref="BlockWeightGradient"/>, bit for bit. With 8 or more groups and blocks of 8 or more (and, for
    /// a strided layout, 256-bit vectors), each strip of dy's rows is copied (a strided one transposed) once for both
    /// products instead of once per product, and read from cache by both; otherwise, and for a product strided on both
    /// sides that the groups-as-lanes engine runs in place (small blocks with AVX-512), the two run one after the other.
    /// Every argument is checked before anything is written. Inside <see cref="BatchTiles.RunBackward"/>,
    /// <paramref name="w"/> must be one of the layer's parameters (it may be kept packed by address).
    /// </remarks>
    public static void BlockMatMulBackward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dx, ReadOnlySpan<float> w, Span<float> dw, int batch, int groups, int blockOut, int blockIn, BlockLayout inLayout = BlockLayout.Contiguous, BlockLayout outLayout = BlockLayout.Contiguous, float alpha = 1.0f, bool accumulate = false)
    {
        var shape = BlockShape.Create(batch, groups, blockOut, blockIn, inLayout, outLayout);
        dy = Prefix(dy, (long)batch * shape.OutWidth, nameof(dy), "batch * groups * blockOut");
        x = Prefix(x, (long)batch * shape.InWidth, nameof(x), "batch * groups * blockIn");
        dx = Prefix(dx, (long)batch * shape.InWidth, nameof(dx), "batch * groups * blockIn");
        w = Prefix(w, shape.WorkPerRow, nameof(w), "groups * blockOut * blockIn");
        dw = Prefix(dw, shape.WorkPerRow, nameof(dw), "groups * blockOut * blockIn");
        KernelArguments.NoOverlap(dy, dx, nameof(dy), nameof(dx));
        KernelArguments.NoOverlap(x, dx, nameof(x), nameof(dx));
        KernelArguments.NoOverlap(w, dx, nameof(w), nameof(dx));
        KernelArguments.NoOverlap(dy, dw, nameof(dy), nameof(dw));
        KernelArguments.NoOverlap(x, dw, nameof(x), nameof(dw));
        KernelArguments.NoOverlap(w, dw, nameof(w), nameof(dw));
        KernelArguments.NoOverlap(dx, dw, nameof(dx), nameof(dw));
        if (BlockProductPlanner.Backward(shape, VectorSupport.Current) == BlockEngine.SeparateProducts)
        {
            BlockMatMulTransposed(dy, dx, w, batch, groups, blockOut, blockIn, inLayout, outLayout, alpha, accumulate);
            BlockWeightGradient(dy, x, dw, batch, groups, blockOut, blockIn, inLayout, outLayout, alpha);
            return;
        }
        if (batch == 0 || shape.WorkPerRow == 0) return;

        fixed (float* pdy = dy, px = x, pdx = dx, pw = w, pdw = dw)
        {
            StridedStaging.Backward(pdy, blockOut, outLayout, px, blockIn, inLayout, groups, batch,
                pdx, new StridedMatrix(pw, blockIn, 1), (nint)blockOut * blockIn, accumulate, weightIsParameter: true, pdw, alpha);
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

    /// <summary>Per row: <c>y[c·rows + r] = (accumulate ? y : 0) + x[r·cols + c]</c>; rows split over threads when large.</summary>
    private static void TransposeRows(float* x, float* y, int batch, int rows, int cols, bool accumulate)
    {
        long width = (long)rows * cols;
        nint px = (nint)x, py = (nint)y;
        KernelThreading.Split(batch * width, batch, KernelThreading.BalancingChunks, (start, end) =>
        {
            for (int b = start; b < end; b++)
                TransposeRow((float*)px + b * width, (float*)py + b * width, rows, cols, accumulate);
        });
    }

    /// <summary>One <c>[rows, cols]</c> matrix transposed (see <see cref="TransposeBlock"/>).</summary>
    internal static void TransposeRow(float* x, float* y, int rows, int cols, bool accumulate) =>
        TransposeBlock(x, cols, y, rows, rows, cols, accumulate);

    /// <summary>
    /// <c>y[c·yStride + r] = (accumulate ? y : 0) + x[r·xStride + c]</c> for <c>r &lt; rows</c>, <c>c &lt; cols</c>: 8 × 8
    /// blocks transposed in registers, the edges element by element.
    /// </summary>
    internal static void TransposeBlock(float* x, int xStride, float* y, int yStride, int rows, int cols, bool accumulate)
    {
        int blockedRows = CanTranspose8x8 ? rows / 8 * 8 : 0, blockedCols = cols / 8 * 8;
        for (int r0 = 0; r0 < blockedRows; r0 += 8)
            for (int c0 = 0; c0 < blockedCols; c0 += 8)
                Transpose8x8(x + (long)r0 * xStride + c0, xStride, y + (long)c0 * yStride + r0, yStride, accumulate);
        for (int r = 0; r < rows; r++)
        {
            for (int c = r < blockedRows ? blockedCols : 0; c < cols; c++)
            {
                float* target = y + (long)c * yStride + r;
                float value = x[(long)r * xStride + c];
                *target = accumulate ? *target + value : value;
            }
        }
    }

    /// <summary>Whether <see cref="Transpose8x8"/> runs on this machine (it needs AVX).</summary>
    internal static bool CanTranspose8x8 => Avx.IsSupported;

    /// <summary>The 8 × 8 block at <paramref name="x"/> (row stride <paramref name="xStride"/>) written transposed at <paramref name="y"/>.</summary>
    internal static void Transpose8x8(float* x, int xStride, float* y, int yStride, bool accumulate)
    {
        var r0 = Avx.LoadVector256(x);
        var r1 = Avx.LoadVector256(x + xStride);
        var r2 = Avx.LoadVector256(x + 2 * xStride);
        var r3 = Avx.LoadVector256(x + 3 * xStride);
        var r4 = Avx.LoadVector256(x + 4 * xStride);
        var r5 = Avx.LoadVector256(x + 5 * xStride);
        var r6 = Avx.LoadVector256(x + 6 * xStride);
        var r7 = Avx.LoadVector256(x + 7 * xStride);
        Transpose8x8(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
        Put(y, r0, accumulate);
        Put(y + yStride, r1, accumulate);
        Put(y + 2 * yStride, r2, accumulate);
        Put(y + 3 * yStride, r3, accumulate);
        Put(y + 4 * yStride, r4, accumulate);
        Put(y + 5 * yStride, r5, accumulate);
        Put(y + 6 * yStride, r6, accumulate);
        Put(y + 7 * yStride, r7, accumulate);

        static void Put(float* target, Vector256<float> value, bool accumulate) =>
            (accumulate ? Avx.Add(Avx.LoadVector256(target), value) : value).Store(target);
    }

    /// <summary>The 8 × 8 matrix whose rows are <paramref name="r0"/> … <paramref name="r7"/>, transposed in registers (AVX): row q becomes lane q of every vector.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal static void Transpose8x8(ref Vector256<float> r0, ref Vector256<float> r1, ref Vector256<float> r2, ref Vector256<float> r3,
        ref Vector256<float> r4, ref Vector256<float> r5, ref Vector256<float> r6, ref Vector256<float> r7)
    {
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        r0 = Avx.Permute2x128(u0, u4, 0x20);
        r1 = Avx.Permute2x128(u1, u5, 0x20);
        r2 = Avx.Permute2x128(u2, u6, 0x20);
        r3 = Avx.Permute2x128(u3, u7, 0x20);
        r4 = Avx.Permute2x128(u0, u4, 0x31);
        r5 = Avx.Permute2x128(u1, u5, 0x31);
        r6 = Avx.Permute2x128(u2, u6, 0x31);
        r7 = Avx.Permute2x128(u3, u7, 0x31);
    }
}
