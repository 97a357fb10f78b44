using System;
using System.Linq;
using StructMat.Runtime.Kernels;
using Xunit;

namespace StructMat.Runtime.Tests;

/// <summary>
/// A dense product of at most one register tile of rows (batch 1 to 8) streams the weight slice by slice instead of
/// packing it whole or running transposed: it must agree with a float64 loop, and each row must have the same bits as
/// the same row inside a batch of 64 (which takes the packed path), whatever the thread count.
/// </summary>
public class GemmStreamingTests
{
    /// <summary>Depth 800: two whole 384-deep slices and a tail of 32; 100 outputs: three whole 32-wide panels and a partial one.</summary>
    private const int In = 800, Out = 100;

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(3, true)]
    [InlineData(8, false)]
    [InlineData(8, true)]
    public void Few_rows_match_float64_and_the_same_rows_of_a_large_batch_bit_for_bit(int batch, bool accumulate)
    {
        var random = new Random(batch);
        float[] Random(int count) => Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var w = Random(Out * In);
        var large = Random(64 * In);
        var start = Random(64 * Out);
        var x = large.AsSpan(0, batch * In).ToArray();

        var y = start.AsSpan(0, batch * Out).ToArray();
        CpuKernels.BlockMatMul(x, y, w, batch, 1, Out, In, BlockLayout.Contiguous, BlockLayout.Contiguous, 0.75f, accumulate);

        var yLarge = start.ToArray();
        CpuKernels.BlockMatMul(large, yLarge, w, 64, 1, Out, In, BlockLayout.Contiguous, BlockLayout.Contiguous, 0.75f, accumulate);
        Assert.Equal(yLarge.AsSpan(0, batch * Out).ToArray(), y);

        float[] serial = start.AsSpan(0, batch * Out).ToArray();
        using (KernelThreading.EnterSerial())
            CpuKernels.BlockMatMul(x, serial, w, batch, 1, Out, In, BlockLayout.Contiguous, BlockLayout.Contiguous, 0.75f, accumulate);
        Assert.Equal(serial, y);

        for (var b = 0; b < batch; b++)
            for (var o = 0; o < Out; o++)
            {
                double expected = accumulate ? start[b * Out + o] : 0;
                double sum = 0;
                for (var i = 0; i < In; i++) sum += (double)w[o * In + i] * x[b * In + i];
                expected += 0.75 * sum;
                Assert.True(Math.Abs(expected - y[b * Out + o]) <= 1e-4 * (1 + Math.Abs(expected)), $"row {b}, output {o}: {y[b * Out + o]} vs {expected}");
            }
    }

    /// <summary>Four groups of 40 × 420 (a partial panel, a depth past one slice), contiguous or strided on either side.</summary>
    [Theory]
    [InlineData(1, BlockLayout.Contiguous, BlockLayout.Contiguous)]
    [InlineData(5, BlockLayout.Strided, BlockLayout.Contiguous)]
    [InlineData(8, BlockLayout.Contiguous, BlockLayout.Strided)]
    [InlineData(2, BlockLayout.Strided, BlockLayout.Strided)]
    public void Few_rows_of_a_block_product_match_the_same_rows_of_a_large_batch_bit_for_bit(int batch, BlockLayout inLayout, BlockLayout outLayout)
    {
        const int groups = 4, blockOut = 40, blockIn = 420;
        var random = new Random(batch + 10);
        float[] Random(int count) => Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var w = Random(groups * blockOut * blockIn);
        var large = Random(64 * groups * blockIn);
        var x = large.AsSpan(0, batch * groups * blockIn).ToArray();
        var y = new float[batch * groups * blockOut];
        CpuKernels.BlockMatMul(x, y, w, batch, groups, blockOut, blockIn, inLayout, outLayout, 1f, accumulate: false);
        var yLarge = new float[64 * groups * blockOut];
        CpuKernels.BlockMatMul(large, yLarge, w, 64, groups, blockOut, blockIn, inLayout, outLayout, 1f, accumulate: false);
        Assert.Equal(yLarge.AsSpan(0, y.Length).ToArray(), y);

        int At(BlockLayout layout, int g, int i, int size) => layout == BlockLayout.Contiguous ? g * size + i : i * groups + g;
        for (var b = 0; b < batch; b++)
            for (var g = 0; g < groups; g++)
                for (var o = 0; o < blockOut; o++)
                {
                    double expected = 0;
                    for (var i = 0; i < blockIn; i++)
                        expected += (double)w[(g * blockOut + o) * blockIn + i] * x[b * groups * blockIn + At(inLayout, g, i, blockIn)];
                    var actual = y[b * groups * blockOut + At(outLayout, g, o, blockOut)];
                    Assert.True(Math.Abs(expected - actual) <= 1e-4 * (1 + Math.Abs(expected)), $"row {b}, group {g}, output {o}: {actual} vs {expected}");
                }
    }
}
