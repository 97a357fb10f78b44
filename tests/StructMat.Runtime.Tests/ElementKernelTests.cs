using System;
using StructMat.Runtime.Kernels;
using Xunit;

namespace StructMat.Runtime.Tests;

/// <summary>ElementKernels.Diagonal, DiagonalGradient and Gather against float64 loops of their definitions.</summary>
public class ElementKernelTests
{
    private static void AssertNames(string parameter, Action action)
    {
        var e = Assert.Throws<ArgumentException>(action);
        Assert.Equal(parameter, e.ParamName);
    }

    [Theory]
    [InlineData(0, 5, false)]
    [InlineData(0, 5, true)]
    [InlineData(1, 7, false)]
    [InlineData(1, 7, true)]
    [InlineData(5, 37, false)]
    [InlineData(5, 37, true)]
    [InlineData(3, 1, true)]
    public void Diagonal_matches_its_definition(int batch, int width, bool accumulate)
    {
        var x = TestData.Uniform(batch * width + 3, 11); // longer spans: only the prefix is used
        var d = TestData.Uniform(width, 12);
        var y = accumulate ? TestData.Uniform(batch * width + 3, 13) : TestData.Filled(batch * width + 3, float.NaN);
        var tail = y.AsSpan(batch * width).ToArray();
        var expected = new double[batch * width];
        var bound = new double[batch * width];
        for (int b = 0; b < batch; b++)
            for (int j = 0; j < width; j++)
            {
                int k = b * width + j;
                double old = accumulate ? y[k] : 0;
                expected[k] = old + (double)d[j] * x[k];
                bound[k] = Math.Abs(old) + Math.Abs((double)d[j] * x[k]);
            }

        ElementKernels.Diagonal(x, y, d, batch, width, accumulate);

        TestData.AssertWithinRoundoff(expected, bound, y.AsSpan(0, batch * width), 1);
        Assert.Equal(tail, y.AsSpan(batch * width).ToArray());
    }

    [Fact]
    public void Diagonal_in_place_scales_the_same_buffer()
    {
        var y = TestData.Uniform(3 * 4, 1);
        var d = TestData.Uniform(4, 2);
        var expected = new float[y.Length];
        for (int k = 0; k < y.Length; k++) expected[k] = (float)((double)y[k] * d[k % 4]);
        ElementKernels.Diagonal(y, y, d, 3, 4, accumulate: false);
        Assert.Equal(expected, y);
    }

    [Theory]
    [InlineData(0, 4)]
    [InlineData(1, 9)]
    [InlineData(7, 33)]
    public void DiagonalGradient_adds_the_batch_sum(int batch, int width)
    {
        var dy = TestData.Uniform(batch * width, 21);
        var x = TestData.Uniform(batch * width, 22);
        var dd = TestData.Uniform(width, 23);
        var expected = new double[width];
        var bound = new double[width];
        for (int j = 0; j < width; j++)
        {
            expected[j] = dd[j];
            bound[j] = Math.Abs(dd[j]);
            for (int b = 0; b < batch; b++)
            {
                double term = (double)dy[b * width + j] * x[b * width + j];
                expected[j] += term;
                bound[j] += Math.Abs(term);
            }
        }

        ElementKernels.DiagonalGradient(dy, x, dd, batch, width);

        TestData.AssertWithinRoundoff(expected, bound, dd, batch);
    }

    [Theory]
    [InlineData(0, 6, false)]
    [InlineData(1, 6, false)]
    [InlineData(1, 6, true)]
    [InlineData(5, 13, false)]
    [InlineData(5, 13, true)]
    public void Gather_reads_input_column_map_j(int batch, int width, bool accumulate)
    {
        var x = TestData.Uniform(batch * width, 31);
        var y = accumulate ? TestData.Uniform(batch * width, 32) : TestData.Filled(batch * width, float.NaN);
        // Not a permutation on purpose (repeats allowed): index j reads (3j + 1) mod width, with one fixed repeat.
        var map = new int[width];
        for (int j = 0; j < width; j++) map[j] = (3 * j + 1) % width;
        map[width - 1] = map[0];
        var expected = new float[batch * width];
        for (int b = 0; b < batch; b++)
            for (int j = 0; j < width; j++)
                expected[b * width + j] = (float)((accumulate ? (double)y[b * width + j] : 0.0) + x[b * width + map[j]]);

        ElementKernels.Gather(x, y, map, batch, width, accumulate);

        Assert.Equal(expected, y);
    }

    [Theory]
    [InlineData(3, 32, false)]
    [InlineData(3, 32, true)]
    public void Gather_copies_runs_of_a_block_permutation(int batch, int width, bool accumulate)
    {
        var x = TestData.Uniform(batch * width, 41);
        var y = accumulate ? TestData.Uniform(batch * width, 42) : TestData.Filled(batch * width, float.NaN);
        // Blocks of 4 swapped pairwise (block xor 1), except a first block that reads itself: runs of 4 and 8, plus a
        // run that breaks mid-block where the map repeats a source.
        var map = new int[width];
        for (int j = 0; j < width; j++) map[j] = j < 4 ? j : ((j / 4) ^ 1) * 4 + j % 4;
        map[width - 2] = map[5];
        var expected = new float[batch * width];
        for (int b = 0; b < batch; b++)
            for (int j = 0; j < width; j++)
                expected[b * width + j] = (float)((accumulate ? (double)y[b * width + j] : 0.0) + x[b * width + map[j]]);

        ElementKernels.Gather(x, y, map, batch, width, accumulate);

        Assert.Equal(expected, y);
    }

    [Fact]
    public void Element_kernels_reject_bad_arguments_naming_them()
    {
        const int batch = 2, width = 3;
        var x = new float[batch * width];
        var y = new float[batch * width];
        var d = new float[width];
        var map = new[] { 2, 0, 1 };

        AssertNames("batch", () => ElementKernels.Diagonal(x, y, d, -1, width, false));
        AssertNames("width", () => ElementKernels.Diagonal(x, y, d, batch, -1, false));
        AssertNames("x", () => ElementKernels.Diagonal(x.AsSpan(1), y, d, batch, width, false));
        AssertNames("y", () => ElementKernels.Diagonal(x, y.AsSpan(1), d, batch, width, false));
        AssertNames("d", () => ElementKernels.Diagonal(x, y, d.AsSpan(1), batch, width, false));
        var shared = new float[20];
        AssertNames("y", () => ElementKernels.Diagonal(shared.AsSpan(0, 6), shared.AsSpan(1, 6), d, batch, width, false));
        AssertNames("y", () => ElementKernels.Diagonal(x, shared.AsSpan(0, 6), shared.AsSpan(4, 3), batch, width, false));

        AssertNames("batch", () => ElementKernels.DiagonalGradient(x, x, d, -2, width));
        AssertNames("dy", () => ElementKernels.DiagonalGradient(x.AsSpan(1), x, d, batch, width));
        AssertNames("x", () => ElementKernels.DiagonalGradient(x, x.AsSpan(2), d, batch, width));
        AssertNames("dd", () => ElementKernels.DiagonalGradient(x, x, d.AsSpan(1), batch, width));
        AssertNames("dd", () => ElementKernels.DiagonalGradient(shared.AsSpan(0, 6), x, shared.AsSpan(5, 3), batch, width));

        AssertNames("width", () => ElementKernels.Gather(x, y, map, batch, -3, false));
        AssertNames("x", () => ElementKernels.Gather(x.AsSpan(1), y, map, batch, width, false));
        AssertNames("y", () => ElementKernels.Gather(x, y.AsSpan(1), map, batch, width, false));
        AssertNames("map", () => ElementKernels.Gather(x, y, map.AsSpan(1), batch, width, false));
        AssertNames("map", () => ElementKernels.Gather(x, y, new[] { 0, 3, 1 }, batch, width, false));
        AssertNames("map", () => ElementKernels.Gather(x, y, new[] { 0, -1, 1 }, batch, width, false));
        AssertNames("y", () => ElementKernels.Gather(shared.AsSpan(0, 6), shared.AsSpan(0, 6), map, batch, width, false));
        AssertNames("y", () => ElementKernels.Gather(shared.AsSpan(0, 6), shared.AsSpan(3, 6), map, batch, width, false));
    }

    [Fact]
    public void A_failed_validation_leaves_the_output_untouched()
    {
        var y = TestData.Filled(6, 5f);
        Assert.Throws<ArgumentException>(() => ElementKernels.Gather(new float[6], y, new[] { 0, 1, 7 }, 2, 3, false));
        Assert.All(y, v => Assert.Equal(5f, v));
    }
}
