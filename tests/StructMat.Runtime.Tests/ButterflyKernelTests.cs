using System;
using StructMat.Runtime.Kernels;
using StructMat.Runtime.Oracle;
using Xunit;

namespace StructMat.Runtime.Tests;

/// <summary>The fused butterfly kernels against the float64 dense matrix of the definition (<see cref="DenseMath.Butterfly"/>).</summary>
public class ButterflyKernelTests
{
    [Theory]
    [InlineData(2, 3)]
    [InlineData(32, 5)]   // strides 8 and 16 run as vectors, 1 to 4 element by element
    [InlineData(256, 2)]
    public void Forward_and_transposed_match_the_dense_butterfly(int n, int rows)
    {
        var twiddle = TestData.Uniform(Factors(n) * n * 2, seed: n);
        var dense = DenseMath.Butterfly(twiddle, n);
        var x = TestData.Uniform(rows * n, seed: 1);
        var y = TestData.Uniform(rows * n, seed: 2);
        var y0 = (float[])y.Clone();
        var dx = new float[rows * n];
        ButterflyKernels.Apply(x, y, twiddle, rows, n, accumulate: true);
        ButterflyKernels.ApplyTransposed(x, dx, twiddle, rows, n, accumulate: false);
        for (int r = 0; r < rows; r++)
        {
            for (int o = 0; o < n; o++)
            {
                double forward = y0[r * n + o], transposed = 0;
                for (int i = 0; i < n; i++)
                {
                    forward += dense[o * n + i] * x[r * n + i];
                    transposed += dense[i * n + o] * x[r * n + i];
                }
                Assert.Equal(forward, y[r * n + o], 1e-4);
                Assert.Equal(transposed, dx[r * n + o], 1e-4);
            }
        }
    }

    [Theory]
    [InlineData(4, 2)]
    [InlineData(32, 3)]
    public void Gradient_matches_the_exact_difference_of_the_dense_loss(int n, int rows)
    {
        // L(W) = Σ_r dy_rᵀ B(W) x_r is linear in each twiddle entry (each sits in one factor, once), so
        // L(W + e_i) − L(W), in float64, is ∂L/∂W_i exactly.
        var twiddle = TestData.Uniform(Factors(n) * n * 2, seed: 7);
        var x = TestData.Uniform(rows * n, seed: 8);
        var dy = TestData.Uniform(rows * n, seed: 9);
        var gradient = new float[twiddle.Length];
        gradient[0] = 0.5f; // accumulates
        ButterflyKernels.Gradient(x, dy, twiddle, gradient, rows, n);
        double Loss(float[] w)
        {
            var m = DenseMath.Butterfly(w, n);
            double sum = 0;
            for (int r = 0; r < rows; r++)
                for (int o = 0; o < n; o++)
                    for (int i = 0; i < n; i++)
                        sum += dy[r * n + o] * m[o * n + i] * x[r * n + i];
            return sum;
        }
        var baseLoss = Loss(twiddle);
        for (int e = 0; e < twiddle.Length; e++)
        {
            var bumped = (float[])twiddle.Clone();
            bumped[e] += 1f;
            var expected = Loss(bumped) - baseLoss + (e == 0 ? 0.5 : 0);
            Assert.Equal(expected, gradient[e], 1e-3);
        }
    }

    [Fact]
    public void Overwrite_and_accumulate_both_ways_and_a_two_by_two()
    {
        var twiddle = TestData.Uniform(3 * 8 * 2, seed: 3);
        var x = TestData.Uniform(2 * 8, seed: 4);
        var once = new float[16];
        var twice = TestData.Uniform(16, seed: 5);
        var start = (float[])twice.Clone();
        ButterflyKernels.ApplyTransposed(x, once, twiddle, 2, 8, accumulate: false);
        ButterflyKernels.ApplyTransposed(x, twice, twiddle, 2, 8, accumulate: true);
        for (int i = 0; i < 16; i++) Assert.Equal(start[i] + once[i], twice[i], 1e-6);
        // n = 2: one factor, y = W x.
        var w = new[] { 1f, 2f, 3f, 4f };
        var y = new[] { 9f, 9f };
        ButterflyKernels.Apply(new[] { 5f, 6f }, y, w, 1, 2, accumulate: false);
        Assert.Equal(new[] { 17f, 39f }, y);
        var g = new float[4];
        ButterflyKernels.Gradient(new[] { 5f, 6f }, new[] { 1f, 2f }, w, g, 1, 2);
        Assert.Equal(new[] { 5f, 6f, 10f, 12f }, g);
    }

    [Fact]
    public void The_gradient_has_the_same_bits_serial_and_on_every_thread()
    {
        // 300 rows: five blocks of the gradient's sums, in parallel here and one after another under EnterSerial.
        const int n = 64, rows = 300;
        var twiddle = TestData.Uniform(6 * n * 2, seed: 11);
        var x = TestData.Uniform(rows * n, seed: 12);
        var dy = TestData.Uniform(rows * n, seed: 13);
        var parallel = new float[twiddle.Length];
        var serial = new float[twiddle.Length];
        ButterflyKernels.Gradient(x, dy, twiddle, parallel, rows, n);
        using (KernelThreading.EnterSerial()) ButterflyKernels.Gradient(x, dy, twiddle, serial, rows, n);
        Assert.Equal(serial, parallel);
    }

    [Fact]
    public void Bad_arguments_are_named()
    {
        Assert.Throws<ArgumentException>(() => ButterflyKernels.Apply(new float[6], new float[6], new float[8], 2, 3, accumulate: false));
        var e = Assert.Throws<ArgumentException>(() => ButterflyKernels.Apply(new float[8], new float[8], new float[3], 2, 4, accumulate: false));
        Assert.Equal("twiddle", e.ParamName);
    }

    private static int Factors(int n)
    {
        int f = 0;
        while (1 << f < n) f++;
        return f;
    }
}
