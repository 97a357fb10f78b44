using System;
using System.Collections.Generic;
using StructMat.Runtime;
using StructMat.Runtime.Kernels;
using Xunit;

namespace StructMat.Runtime.Tests;

/// <summary>
/// The three block products against naive float64 loops written from their definitions in CpuKernels' contract:
/// every layout combination, accumulate on and off, alpha, batch 0/1/odd, groups 1 (plain dense), and sizes
/// large enough to take the parallel path.
/// </summary>
public class BlockMatMulTests
{
    private static readonly BlockLayout[] Layouts = [BlockLayout.Contiguous, BlockLayout.Strided];

    /// <summary>(batch, groups, blockOut, blockIn): empty batch, single row, odd batch, dense, tails of every SIMD width.</summary>
    private static readonly (int Batch, int Groups, int BlockOut, int BlockIn)[] SmallShapes =
    [
        (0, 3, 4, 5),
        (1, 3, 4, 5),
        (7, 4, 3, 17),
        (5, 1, 9, 33),
        (9, 8, 16, 16),
        (6, 2, 19, 8),
        (3, 2, 5, 70),
        (12, 3, 64, 32), // whole 32-wide panels: B is read in place, not packed
    ];

    /// <summary>
    /// Above the parallel threshold, with batches that are not a multiple of the register tile: split by groups
    /// (67 rows), split by rows (150 and 300 rows), depths past one 256-deep pass (blockIn 300 forward, the
    /// batch of 300 in the weight gradient), strided layouts over both cores (1100 rows of width 1024: staged in 18
    /// strips of 64 rows, except the both-strided product, which runs in place with the groups as 512-bit lanes where
    /// AVX-512 is present), and 13 groups of 12 × 20 (a weight gradient split 6 + 7 groups over
    /// the cores, staging column ranges that are not whole 8 × 8 blocks).
    /// </summary>
    private static readonly (int Batch, int Groups, int BlockOut, int BlockIn)[] ParallelShapes =
    [
        (67, 16, 32, 32),
        (45, 1, 96, 130),
        (150, 2, 40, 300),
        (300, 1, 33, 64),
        (1100, 64, 16, 16),
        (300, 13, 12, 20),
    ];

    public static IEnumerable<object[]> Cases(bool parallel)
    {
        int seed = 1;
        foreach (var (batch, groups, blockOut, blockIn) in parallel ? ParallelShapes : SmallShapes)
            foreach (var inLayout in Layouts)
                foreach (var outLayout in Layouts)
                    foreach (bool accumulate in new[] { false, true })
                        yield return [batch, groups, blockOut, blockIn, inLayout, outLayout, (seed / 2) % 2 == 0 ? 1f : -0.75f, accumulate, seed++, 0];
    }

    /// <summary>
    /// (batch, groups, blockOut, blockIn, input group XOR): the flat block butterfly's diagonals, contiguous layouts only.
    /// XORs whose highest bit is the groups' top one (4 of 8, 32 of 64), XORs with several bits (5, 7, 15, 3), the
    /// parallel paths (67 rows of 16 groups; 1100 rows, whose weight gradient stages strips of 64 groups), and 32 × 32
    /// blocks like Pixelfly's.
    /// </summary>
    private static readonly (int Batch, int Groups, int BlockOut, int BlockIn, int Xor)[] XorShapes =
    [
        (0, 8, 16, 16, 1),
        (9, 8, 16, 16, 4),
        (9, 8, 16, 16, 5),
        (7, 4, 3, 17, 3),
        (5, 2, 9, 33, 1),
        (67, 16, 32, 32, 15),
        (1100, 64, 16, 16, 32),
        (40, 16, 32, 32, 7),
    ];

    public static IEnumerable<object[]> XorCases()
    {
        int seed = 500;
        foreach (var (batch, groups, blockOut, blockIn, xor) in XorShapes)
            foreach (bool accumulate in new[] { false, true })
                yield return [batch, groups, blockOut, blockIn, BlockLayout.Contiguous, BlockLayout.Contiguous, (seed / 2) % 2 == 0 ? 1f : -0.75f, accumulate, seed++, xor];
    }

    public static IEnumerable<object[]> SmallCases() => Cases(parallel: false);

    public static IEnumerable<object[]> ParallelCases() => Cases(parallel: true);

    [Theory]
    [MemberData(nameof(SmallCases))]
    [MemberData(nameof(ParallelCases))]
    [MemberData(nameof(XorCases))]
    public void BlockMatMul_matches_float64_reference_for_every_layout(int batch, int groups, int blockOut, int blockIn, BlockLayout inLayout, BlockLayout outLayout, float alpha, bool accumulate, int seed, int inputGroupXor)
    {
        int inWidth = groups * blockIn, outWidth = groups * blockOut;
        var x = TestData.Uniform(batch * inWidth, seed);
        var w = TestData.Uniform(groups * blockOut * blockIn, seed + 1000);
        // Without accumulate the old contents must be ignored entirely, NaN included.
        var y = accumulate ? TestData.Uniform(batch * outWidth, seed + 2000) : TestData.Filled(batch * outWidth, float.NaN);

        var expected = new double[y.Length];
        var bound = new double[y.Length];
        for (int b = 0; b < batch; b++)
            for (int g = 0; g < groups; g++)
                for (int o = 0; o < blockOut; o++)
                {
                    double sum = 0, magnitude = 0;
                    for (int i = 0; i < blockIn; i++)
                    {
                        double term = (double)w[(g * blockOut + o) * blockIn + i] * x[b * inWidth + TestData.Index(inLayout, groups, blockIn, g ^ inputGroupXor, i)];
                        sum += term;
                        magnitude += Math.Abs(term);
                    }
                    int index = b * outWidth + TestData.Index(outLayout, groups, blockOut, g, o);
                    double old = accumulate ? y[index] : 0;
                    expected[index] = old + alpha * sum;
                    bound[index] = Math.Abs(old) + Math.Abs(alpha) * magnitude;
                }

        CpuKernels.BlockMatMul(x, y, w, batch, groups, blockOut, blockIn, inLayout, outLayout, alpha, accumulate, inputGroupXor);

        TestData.AssertWithinRoundoff(expected, bound, y, blockIn);
    }

    [Theory]
    [MemberData(nameof(SmallCases))]
    [MemberData(nameof(ParallelCases))]
    [MemberData(nameof(XorCases))]
    public void BlockMatMulTransposed_matches_float64_reference_for_every_layout(int batch, int groups, int blockOut, int blockIn, BlockLayout inLayout, BlockLayout outLayout, float alpha, bool accumulate, int seed, int inputGroupXor)
    {
        int inWidth = groups * blockIn, outWidth = groups * blockOut;
        var dy = TestData.Uniform(batch * outWidth, seed);
        var w = TestData.Uniform(groups * blockOut * blockIn, seed + 1000);
        var dx = accumulate ? TestData.Uniform(batch * inWidth, seed + 2000) : TestData.Filled(batch * inWidth, float.NaN);

        var expected = new double[dx.Length];
        var bound = new double[dx.Length];
        for (int b = 0; b < batch; b++)
            for (int g = 0; g < groups; g++)
                for (int i = 0; i < blockIn; i++)
                {
                    double sum = 0, magnitude = 0;
                    for (int o = 0; o < blockOut; o++)
                    {
                        double term = (double)w[(g * blockOut + o) * blockIn + i] * dy[b * outWidth + TestData.Index(outLayout, groups, blockOut, g, o)];
                        sum += term;
                        magnitude += Math.Abs(term);
                    }
                    // Block g's input gradient goes to input block g XOR s.
                    int index = b * inWidth + TestData.Index(inLayout, groups, blockIn, g ^ inputGroupXor, i);
                    double old = accumulate ? dx[index] : 0;
                    expected[index] = old + alpha * sum;
                    bound[index] = Math.Abs(old) + Math.Abs(alpha) * magnitude;
                }

        CpuKernels.BlockMatMulTransposed(dy, dx, w, batch, groups, blockOut, blockIn, inLayout, outLayout, alpha, accumulate, inputGroupXor);

        TestData.AssertWithinRoundoff(expected, bound, dx, blockOut);
    }

    [Theory]
    [MemberData(nameof(SmallCases))]
    [MemberData(nameof(ParallelCases))]
    [MemberData(nameof(XorCases))]
    public void BlockWeightGradient_accumulates_float64_reference_for_every_layout(int batch, int groups, int blockOut, int blockIn, BlockLayout inLayout, BlockLayout outLayout, float alpha, bool accumulate, int seed, int inputGroupXor)
    {
        _ = accumulate; // the weight gradient always accumulates; the flag only doubles the seeds tried
        int inWidth = groups * blockIn, outWidth = groups * blockOut;
        var dy = TestData.Uniform(batch * outWidth, seed);
        var x = TestData.Uniform(batch * inWidth, seed + 1000);
        var dw = TestData.Uniform(groups * blockOut * blockIn, seed + 2000);

        var expected = new double[dw.Length];
        var bound = new double[dw.Length];
        for (int g = 0; g < groups; g++)
            for (int o = 0; o < blockOut; o++)
                for (int i = 0; i < blockIn; i++)
                {
                    double sum = 0, magnitude = 0;
                    for (int b = 0; b < batch; b++)
                    {
                        double term = (double)dy[b * outWidth + TestData.Index(outLayout, groups, blockOut, g, o)] * x[b * inWidth + TestData.Index(inLayout, groups, blockIn, g ^ inputGroupXor, i)];
                        sum += term;
                        magnitude += Math.Abs(term);
                    }
                    int index = (g * blockOut + o) * blockIn + i;
                    expected[index] = dw[index] + alpha * sum;
                    bound[index] = Math.Abs(dw[index]) + Math.Abs(alpha) * magnitude;
                }

        CpuKernels.BlockWeightGradient(dy, x, dw, batch, groups, blockOut, blockIn, inLayout, outLayout, alpha, inputGroupXor);

        TestData.AssertWithinRoundoff(expected, bound, dw, batch);
    }

    [Fact]
    public void BlockMatMul_strided_layouts_fold_the_monarch_permutation()
    {
        // Monarch with k = l = 4 blocks: the second factor reads out1 viewed as (r l) -> (l r) and writes (s l),
        // which are exactly the strided layouts with groups = l. Compared with the float64 oracle built from fly's formula.
        const int k = 4, q = 3, p = 5, l = 4, s = 2, r = 3, batch = 3;
        var w1 = TestData.Uniform(k * q * p, 11);
        var w2 = TestData.Uniform(l * s * r, 12);
        var x = TestData.Uniform(batch * k * p, 13);
        var middle = new float[batch * k * q];
        var y = new float[batch * s * l];

        CpuKernels.BlockMatMul(x, middle, w1, batch, k, q, p, BlockLayout.Contiguous, BlockLayout.Contiguous, 1f, accumulate: false);
        CpuKernels.BlockMatMul(middle, y, w2, batch, l, s, r, BlockLayout.Strided, BlockLayout.Strided, 1f, accumulate: false);

        var dense = Oracle.DenseMath.Monarch(w1, k, q, p, w2, l, s, r);
        for (int b = 0; b < batch; b++)
            for (int row = 0; row < s * l; row++)
            {
                double expected = 0;
                for (int col = 0; col < k * p; col++) expected += dense[row * k * p + col] * x[b * k * p + col];
                Assert.Equal(expected, y[b * s * l + row], 5);
            }
    }

    [Fact]
    public void Empty_blocks_give_an_empty_sum()
    {
        // blockIn = 0: every output is alpha · (empty sum) = 0, added to y when accumulating.
        var y = TestData.Filled(2 * 3 * 4, float.NaN);
        CpuKernels.BlockMatMul([], y, [], 2, 3, 4, 0, BlockLayout.Strided, BlockLayout.Strided, 2f, accumulate: false);
        Assert.All(y, v => Assert.Equal(0f, v));

        var dx = TestData.Filled(2 * 3 * 5, 1.5f);
        CpuKernels.BlockMatMulTransposed([], dx, [], 2, 3, 0, 5, BlockLayout.Contiguous, BlockLayout.Strided, 2f, accumulate: true);
        Assert.All(dx, v => Assert.Equal(1.5f, v));
    }

    [Fact]
    public void BlockMatMul_leaves_elements_past_the_used_prefix_untouched()
    {
        const int batch = 3, groups = 2, blockOut = 3, blockIn = 4;
        var x = TestData.Uniform(batch * groups * blockIn + 5, 21);
        var w = TestData.Uniform(groups * blockOut * blockIn + 5, 22);
        var y = TestData.Filled(batch * groups * blockOut + 7, 42f);

        CpuKernels.BlockMatMul(x, y, w, batch, groups, blockOut, blockIn, BlockLayout.Strided, BlockLayout.Strided, 1f, accumulate: false);

        Assert.NotEqual(42f, y[0]);
        for (int k = batch * groups * blockOut; k < y.Length; k++) Assert.Equal(42f, y[k]);
    }

    [Theory]
    [InlineData(BlockLayout.Contiguous, BlockLayout.Contiguous, 37, 53, 8, 40)]
    [InlineData(BlockLayout.Strided, BlockLayout.Strided, 37, 53, 8, 40)]
    [InlineData(BlockLayout.Strided, BlockLayout.Contiguous, 83, 53, 8, 40)]
    [InlineData(BlockLayout.Contiguous, BlockLayout.Strided, 300, 53, 8, 40)]
    [InlineData(BlockLayout.Strided, BlockLayout.Strided, 16, 1100, 64, 16)] // groups as lanes with 512-bit vectors, else staged
    [InlineData(BlockLayout.Strided, BlockLayout.Strided, 48, 300, 16, 40)] // staged in strips of 80 rows
    [InlineData(BlockLayout.Strided, BlockLayout.Contiguous, 2, 70, 64, 2)] // blocks too small to stage
    public void Block_kernels_are_deterministic_and_rows_do_not_depend_on_the_batch_split(BlockLayout inLayout, BlockLayout outLayout, int blockIn, int batch, int groups, int blockOut)
    {
        int inWidth = groups * blockIn, outWidth = groups * blockOut;
        var x = TestData.Uniform(batch * inWidth, 31);
        var dy = TestData.Uniform(batch * outWidth, 32);
        var w = TestData.Uniform(groups * blockOut * blockIn, 33);

        var y1 = new float[batch * outWidth];
        var y2 = new float[batch * outWidth];
        CpuKernels.BlockMatMul(x, y1, w, batch, groups, blockOut, blockIn, inLayout, outLayout, 0.5f, false);
        CpuKernels.BlockMatMul(x, y2, w, batch, groups, blockOut, blockIn, inLayout, outLayout, 0.5f, false);
        Assert.Equal(y1, y2);

        // The whole-batch call must equal row-by-row single calls bit for bit (a single row runs the product
        // transposed, with other tiles and threads, yet must sum in the same order).
        var dx1 = new float[batch * inWidth];
        CpuKernels.BlockMatMulTransposed(dy, dx1, w, batch, groups, blockOut, blockIn, inLayout, outLayout, 0.5f, false);
        for (int b = 0; b < batch; b++)
        {
            var yRow = new float[outWidth];
            CpuKernels.BlockMatMul(x.AsSpan(b * inWidth, inWidth), yRow, w, 1, groups, blockOut, blockIn, inLayout, outLayout, 0.5f, false);
            Assert.Equal(y1.AsSpan(b * outWidth, outWidth).ToArray(), yRow);

            var dxRow = new float[inWidth];
            CpuKernels.BlockMatMulTransposed(dy.AsSpan(b * outWidth, outWidth), dxRow, w, 1, groups, blockOut, blockIn, inLayout, outLayout, 0.5f, false);
            Assert.Equal(dx1.AsSpan(b * inWidth, inWidth).ToArray(), dxRow);
        }

        var dw1 = new float[w.Length];
        var dw2 = new float[w.Length];
        CpuKernels.BlockWeightGradient(dy, x, dw1, batch, groups, blockOut, blockIn, inLayout, outLayout, 1f);
        CpuKernels.BlockWeightGradient(dy, x, dw2, batch, groups, blockOut, blockIn, inLayout, outLayout, 1f);
        Assert.Equal(dw1, dw2);
    }

    /// <summary>
    /// (batch, groups, blockOut, blockIn): shapes whose two gradients run from shared strips of dy (8 or more groups and
    /// blocks of 8 or more: one strip, 1100 rows in 5 strips over both cores, 13 groups split 6 + 7), and two that run
    /// the products one after the other (blocks of 3, 4 groups).
    /// </summary>
    public static IEnumerable<object[]> BackwardCases()
    {
        (int, int, int, int)[] shapes = [(9, 8, 16, 16), (1100, 64, 16, 16), (300, 13, 12, 20), (67, 16, 8, 40), (7, 4, 3, 17), (20, 9, 3, 9)];
        int seed = 900;
        foreach (var (batch, groups, blockOut, blockIn) in shapes)
            foreach (var inLayout in Layouts)
                foreach (var outLayout in Layouts)
                    foreach (bool accumulate in new[] { false, true })
                        yield return [batch, groups, blockOut, blockIn, inLayout, outLayout, accumulate, seed++];
    }

    [Theory]
    [MemberData(nameof(BackwardCases))]
    public void BlockMatMulBackward_equals_the_two_gradient_kernels_bit_for_bit_and_the_float64_reference(int batch, int groups, int blockOut, int blockIn, BlockLayout inLayout, BlockLayout outLayout, bool accumulate, int seed)
    {
        int inWidth = groups * blockIn, outWidth = groups * blockOut;
        float alpha = seed % 3 == 0 ? -0.75f : 1f;
        var dy = TestData.Uniform(batch * outWidth, seed);
        var x = TestData.Uniform(batch * inWidth, seed + 1000);
        var w = TestData.Uniform(groups * blockOut * blockIn, seed + 2000);
        var dxOld = accumulate ? TestData.Uniform(batch * inWidth, seed + 3000) : TestData.Filled(batch * inWidth, float.NaN);
        var dwOld = TestData.Uniform(w.Length, seed + 4000);

        var dx = (float[])dxOld.Clone();
        var dw = (float[])dwOld.Clone();
        CpuKernels.BlockMatMulBackward(dy, x, dx, w, dw, batch, groups, blockOut, blockIn, inLayout, outLayout, alpha, accumulate);

        var dxSeparate = (float[])dxOld.Clone();
        var dwSeparate = (float[])dwOld.Clone();
        CpuKernels.BlockMatMulTransposed(dy, dxSeparate, w, batch, groups, blockOut, blockIn, inLayout, outLayout, alpha, accumulate);
        CpuKernels.BlockWeightGradient(dy, x, dwSeparate, batch, groups, blockOut, blockIn, inLayout, outLayout, alpha);
        Assert.Equal(dxSeparate, dx);
        Assert.Equal(dwSeparate, dw);

        var expectedDx = new double[dx.Length];
        var boundDx = new double[dx.Length];
        var expectedDw = new double[dw.Length];
        var boundDw = new double[dw.Length];
        for (int g = 0; g < groups; g++)
            for (int o = 0; o < blockOut; o++)
                for (int i = 0; i < blockIn; i++)
                {
                    int wi = (g * blockOut + o) * blockIn + i;
                    double sum = 0, magnitude = 0;
                    for (int b = 0; b < batch; b++)
                    {
                        double gradient = dy[b * outWidth + TestData.Index(outLayout, groups, blockOut, g, o)];
                        int xi = b * inWidth + TestData.Index(inLayout, groups, blockIn, g, i);
                        expectedDx[xi] += alpha * (double)w[wi] * gradient;
                        boundDx[xi] += Math.Abs(alpha * (double)w[wi] * gradient);
                        sum += gradient * x[xi];
                        magnitude += Math.Abs(gradient * x[xi]);
                    }
                    expectedDw[wi] = dwOld[wi] + alpha * sum;
                    boundDw[wi] = Math.Abs(dwOld[wi]) + Math.Abs(alpha) * magnitude;
                }
        if (accumulate)
            for (int k = 0; k < dx.Length; k++)
            {
                expectedDx[k] += dxOld[k];
                boundDx[k] += Math.Abs(dxOld[k]);
            }
        TestData.AssertWithinRoundoff(expectedDx, boundDx, dx, blockOut);
        TestData.AssertWithinRoundoff(expectedDw, boundDw, dw, batch);
    }

    /// <summary>
    /// (batch, groups, blockOut, blockIn, XORs): a flat block butterfly's diagonals whose weight gradients run together —
    /// staged once for all (one strip of 9 rows; 1100 rows in 5 strips of 256 with 64 groups split over both cores, so
    /// the XORs reach into the other core's groups; Pixelfly's 32 × 32 blocks), in another order, and blocks too small
    /// to stage (run one after the other).
    /// </summary>
    public static IEnumerable<object[]> WeightGradientsCases() =>
    [
        [9, 8, 16, 16, new[] { 0, 1, 2, 4 }],
        [1100, 64, 16, 16, new[] { 0, 1, 2, 4, 8, 16, 32 }],
        [70, 16, 32, 32, new[] { 8, 0, 4 }],
        [40, 8, 3, 5, new[] { 0, 1, 2, 4 }],
    ];

    [Theory]
    [MemberData(nameof(WeightGradientsCases))]
    public void BlockWeightGradients_equal_one_weight_gradient_per_xor_bit_for_bit_and_the_float64_reference(int batch, int groups, int blockOut, int blockIn, int[] xors)
    {
        int inWidth = groups * blockIn, outWidth = groups * blockOut, size = groups * blockOut * blockIn;
        const float alpha = -0.75f;
        var dy = TestData.Uniform(batch * outWidth, 700 + batch);
        var x = TestData.Uniform(batch * inWidth, 800 + batch);
        var dwOld = TestData.Uniform(xors.Length * size + 3, 900 + batch);

        var dw = (float[])dwOld.Clone();
        CpuKernels.BlockWeightGradients(dy, x, dw, batch, groups, blockOut, blockIn, xors, alpha);

        var separate = (float[])dwOld.Clone();
        for (int t = 0; t < xors.Length; t++)
            CpuKernels.BlockWeightGradient(dy, x, separate.AsSpan(t * size, size), batch, groups, blockOut, blockIn, BlockLayout.Contiguous, BlockLayout.Contiguous, alpha, xors[t]);
        Assert.Equal(separate, dw);

        var expected = new double[xors.Length * size];
        var bound = new double[expected.Length];
        for (int t = 0; t < xors.Length; t++)
            for (int g = 0; g < groups; g++)
                for (int o = 0; o < blockOut; o++)
                    for (int i = 0; i < blockIn; i++)
                    {
                        double sum = 0, magnitude = 0;
                        for (int b = 0; b < batch; b++)
                        {
                            double term = (double)dy[b * outWidth + g * blockOut + o] * x[b * inWidth + (g ^ xors[t]) * blockIn + i];
                            sum += term;
                            magnitude += Math.Abs(term);
                        }
                        int index = t * size + (g * blockOut + o) * blockIn + i;
                        expected[index] = dwOld[index] + alpha * sum;
                        bound[index] = Math.Abs(dwOld[index]) + Math.Abs(alpha) * magnitude;
                    }
        TestData.AssertWithinRoundoff(expected, bound, dw.AsSpan(0, expected.Length).ToArray(), batch);
        for (int k = expected.Length; k < dw.Length; k++) Assert.Equal(dwOld[k], dw[k]);
    }

    [Fact]
    public void BlockWeightGradients_checks_every_xor_and_the_gradient_length_before_writing()
    {
        var dy = TestData.Uniform(4 * 8 * 8, 1);
        var x = TestData.Uniform(4 * 8 * 8, 2);
        var dw = TestData.Filled(2 * 8 * 8 * 8, 5f);
        var bad = Assert.Throws<ArgumentException>(() => CpuKernels.BlockWeightGradients(dy, x, dw, 4, 8, 8, 8, new[] { 1, 8 }, 1f));
        Assert.Equal("inputGroupXors", bad.ParamName);
        Assert.All(dw, v => Assert.Equal(5f, v));
        var shortDw = TestData.Filled(2 * 8 * 8 * 8 - 1, 5f);
        var tooShort = Assert.Throws<ArgumentException>(() => CpuKernels.BlockWeightGradients(dy, x, shortDw, 4, 8, 8, 8, new[] { 0, 1 }, 1f));
        Assert.Equal("dw", tooShort.ParamName);
        Assert.All(shortDw, v => Assert.Equal(5f, v));
    }

    [Fact]
    public void Block_swaps_give_the_same_bits_inside_batch_tiles_where_weights_stay_packed()
    {
        // Inside BatchTiles each worker keeps weights packed by address; the input gradients of two diagonals read the
        // same weights at different group XORs, so the packed forms must not be confused. 8 groups of 16 x 16, 300 rows.
        const int batch = 300, groups = 8, block = 16, width = groups * block;
        var parameter = new Parameter("w", [groups, block, block], trainable: true);
        TestData.Uniform(parameter.Data.Length, 77).CopyTo(parameter.Data, 0);
        var w = parameter.Data;
        var dy = TestData.Uniform(batch * width, 78);
        var c = BlockLayout.Contiguous;
        var expected = new float[batch * 2 * width];
        var one = new float[batch * width];
        var two = new float[batch * width];
        CpuKernels.BlockMatMulTransposed(dy, one, w, batch, groups, block, block, c, c, 1f, false, inputGroupXor: 1);
        CpuKernels.BlockMatMulTransposed(dy, two, w, batch, groups, block, block, c, c, 1f, false, inputGroupXor: 6);
        for (int b = 0; b < batch; b++)
        {
            one.AsSpan(b * width, width).CopyTo(expected.AsSpan(b * 2 * width));
            two.AsSpan(b * width, width).CopyTo(expected.AsSpan(b * 2 * width + width));
        }

        var tiled = new float[batch * 2 * width];
        BatchTiles.Run(dy, tiled, batch, width, 2 * width, 64, [parameter], (tileDy, tileOut, rows) =>
        {
            var first = new float[rows * width];
            var second = new float[rows * width];
            CpuKernels.BlockMatMulTransposed(tileDy, first, w, rows, groups, block, block, c, c, 1f, false, inputGroupXor: 1);
            CpuKernels.BlockMatMulTransposed(tileDy, second, w, rows, groups, block, block, c, c, 1f, false, inputGroupXor: 6);
            for (int b = 0; b < rows; b++)
            {
                first.AsSpan(b * width, width).CopyTo(tileOut.Slice(b * 2 * width));
                second.AsSpan(b * width, width).CopyTo(tileOut.Slice(b * 2 * width + width));
            }
        });
        Assert.Equal(expected, tiled);
    }
}
