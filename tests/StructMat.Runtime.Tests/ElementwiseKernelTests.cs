using System;
using StructMat.Runtime.Kernels;
using Xunit;

namespace StructMat.Runtime.Tests;

/// <summary>Transpose, Scale, AddBias and BiasGradient against their one-line definitions.</summary>
public class ElementwiseKernelTests
{
    [Theory]
    [InlineData(0, 3, 5, false)]
    [InlineData(1, 1, 7, false)]
    [InlineData(3, 3, 5, true)]
    [InlineData(2, 40, 33, false)] // 8 × 8 register blocks with edges in both directions
    [InlineData(5, 33, 70, true)]
    [InlineData(70, 64, 64, true)] // large enough to split the rows over threads
    public void Transpose_matches_its_definition(int batch, int rows, int cols, bool accumulate)
    {
        int width = rows * cols;
        var x = TestData.Uniform(batch * width, rows * 100 + cols);
        var y = accumulate ? TestData.Uniform(batch * width, 7) : TestData.Filled(batch * width, float.NaN);
        var expected = new float[y.Length];
        for (int b = 0; b < batch; b++)
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++)
                {
                    int target = b * width + c * rows + r;
                    expected[target] = (accumulate ? y[target] : 0f) + x[b * width + r * cols + c];
                }

        CpuKernels.Transpose(x, y, batch, rows, cols, accumulate);

        Assert.Equal(expected, y);
    }

    [Fact]
    public void Transpose_twice_with_swapped_shape_is_the_identity()
    {
        var x = TestData.Uniform(4 * 6 * 9, 3);
        var t = new float[x.Length];
        var back = new float[x.Length];
        CpuKernels.Transpose(x, t, 4, 6, 9, false);
        CpuKernels.Transpose(t, back, 4, 9, 6, false);
        Assert.NotEqual(x, t);
        Assert.Equal(x, back);
    }

    [Theory]
    [InlineData(0, 2f, false)]
    [InlineData(1, -3f, false)]
    [InlineData(37, 0.5f, false)]
    [InlineData(37, 0.5f, true)]
    public void Scale_matches_its_definition(int length, float alpha, bool accumulate)
    {
        var x = TestData.Uniform(length, 5);
        var y = accumulate ? TestData.Uniform(length, 6) : TestData.Filled(length, float.NaN);
        var expected = new double[length];
        var bound = new double[length];
        for (int k = 0; k < length; k++)
        {
            double old = accumulate ? y[k] : 0;
            expected[k] = old + (double)alpha * x[k];
            bound[k] = Math.Abs(old) + Math.Abs(alpha * x[k]);
        }

        CpuKernels.Scale(x, y, length, alpha, accumulate);

        TestData.AssertWithinRoundoff(expected, bound, y, 1);
    }

    [Fact]
    public void Scale_in_place_scales_the_same_buffer()
    {
        var y = TestData.Uniform(19, 8);
        var expected = Array.ConvertAll(y, v => v * 3f);
        CpuKernels.Scale(y, y, y.Length, 3f, accumulate: false);
        Assert.Equal(expected, y);
    }

    [Fact]
    public void AddBias_adds_the_bias_to_every_row()
    {
        const int batch = 5, width = 21;
        var y = TestData.Uniform(batch * width, 9);
        var bias = TestData.Uniform(width, 10);
        var expected = new float[y.Length];
        for (int b = 0; b < batch; b++)
            for (int j = 0; j < width; j++) expected[b * width + j] = y[b * width + j] + bias[j];

        CpuKernels.AddBias(y, bias, batch, width);

        Assert.Equal(expected, y);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(11)]
    public void BiasGradient_accumulates_the_column_sums(int batch)
    {
        const int width = 19;
        var dy = TestData.Uniform(batch * width, 12);
        var dbias = TestData.Uniform(width, 13);
        var expected = new double[width];
        var bound = new double[width];
        for (int j = 0; j < width; j++)
        {
            expected[j] = dbias[j];
            bound[j] = Math.Abs(dbias[j]);
            for (int b = 0; b < batch; b++)
            {
                expected[j] += dy[b * width + j];
                bound[j] += Math.Abs(dy[b * width + j]);
            }
        }

        CpuKernels.BiasGradient(dy, dbias, batch, width);

        TestData.AssertWithinRoundoff(expected, bound, dbias, batch);
    }
}
