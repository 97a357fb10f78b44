using System;
using StructMat.Runtime.Kernels;
using StructMat.Runtime.Oracle;
using Xunit;

namespace StructMat.Runtime.Tests;

/// <summary>
/// NormalizeKernels (DoRA's row norms without the dense V): against the norms of <c>W0 + c·B A</c> formed densely in
/// float64, and the gradient through the norms against central differences of <c>Σ dy ⊙ v / ‖V‖</c> with v fixed.
/// (The whole layer's gradient, through v as well, is checked by finite differences in the layer tests.)
/// </summary>
public class NormalizeKernelTests
{
    private static double[] DenseNorms(float[] w0, float[] a, float[] b, float c, int o, int i, int r)
    {
        var v = DenseMath.Add(DenseMath.FromFloat(w0), DenseMath.Scale(DenseMath.MatMul(DenseMath.FromFloat(b), DenseMath.FromFloat(a), o, r, i), c));
        var n = new double[o];
        for (var row = 0; row < o; row++)
        {
            double s = 0;
            for (var col = 0; col < i; col++) s += v[row * i + col] * v[row * i + col];
            n[row] = s > 0 ? Math.Sqrt(s) : 1;
        }
        return n;
    }

    [Theory]
    [InlineData(7, 5, 2, 2.0f)]
    [InlineData(16, 33, 4, -0.5f)]
    [InlineData(3, 3, 1, 1.0f)]
    public void Norms_match_the_dense_adapted_weight(int o, int i, int r, float c)
    {
        var (w0, a, b) = (TestData.Uniform(o * i, 1), TestData.Uniform(r * i, 2), TestData.Uniform(o * r, 3));
        var expected = DenseNorms(w0, a, b, c, o, i, r);
        var actual = NormalizeKernels.Norms(w0, a, b, c, o, i, r);
        for (var k = 0; k < o; k++) Assert.True(Math.Abs(actual[k] - expected[k]) < 1e-5 * expected[k], $"row {k}: {actual[k]} vs {expected[k]}");
    }

    [Fact]
    public void A_zero_row_keeps_norm_one_so_it_stays_zero()
    {
        var w0 = TestData.Uniform(3 * 4, 4);
        Array.Clear(w0, 4, 4); // row 1 of W0, and B's row 1 below, are zero: V's row 1 is zero
        var (a, b) = (TestData.Uniform(2 * 4, 5), TestData.Uniform(3 * 2, 6));
        b[2] = b[3] = 0;
        Assert.Equal(1.0, NormalizeKernels.Norms(w0, a, b, 1f, 3, 4, 2)[1]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void The_gradient_through_the_norms_matches_central_differences(int target)
    {
        const int batch = 3, o = 5, i = 6, r = 2;
        const float c = 1.5f;
        var (w0, a, b) = (TestData.Uniform(o * i, 11), TestData.Uniform(r * i, 12), TestData.Uniform(o * r, 13));
        var v = TestData.Uniform(batch * o, 14);
        var dy = TestData.Uniform(batch * o, 15);
        var gradient = new float[target == 0 ? a.Length : b.Length];
        NormalizeKernels.Gradient(dy, v, w0, a, b, NormalizeKernels.Prepare(w0, a, b, c, o, i, r), gradient, target, batch);
        double Loss(float[] aa, float[] bb)
        {
            var n = DenseNorms(w0, aa, bb, c, o, i, r);
            var s = 0.0;
            for (var k = 0; k < batch * o; k++) s += dy[k] * v[k] / n[k % o];
            return s;
        }
        var factor = target == 0 ? a : b;
        const float h = 1f / 512;
        for (var e = 0; e < factor.Length; e++)
        {
            var keep = factor[e];
            factor[e] = keep + h;
            var plus = Loss(a, b);
            factor[e] = keep - h;
            var minus = Loss(a, b);
            factor[e] = keep;
            var fd = (plus - minus) / (2 * h);
            Assert.True(Math.Abs(gradient[e] - fd) < 2e-3 * Math.Max(1, Math.Abs(fd)), $"element {e}: {gradient[e]} vs {fd}");
        }
    }
}
