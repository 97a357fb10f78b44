using System;
using StructMat.Runtime.Kernels;
using StructMat.Runtime.Oracle;
using Xunit;

namespace StructMat.Runtime.Tests;

/// <summary>
/// HadamardKernels (LoHa's elementwise product of two low-ranks, by face-splitting) against the float64 definition
/// <c>(B1 A1) ∘ (B2 A2)</c> formed densely (DenseMath.MatMul and DenseMath.Hadamard), and its four factor gradients
/// against central differences of that definition.
/// </summary>
public class HadamardKernelTests
{
    private static double[] Dense(float[] a1, float[] b1, float[] a2, float[] b2, int inF, int outF, int r1, int r2) =>
        DenseMath.Hadamard(DenseMath.MatMul(DenseMath.FromFloat(b1), DenseMath.FromFloat(a1), outF, r1, inF),
                           DenseMath.MatMul(DenseMath.FromFloat(b2), DenseMath.FromFloat(a2), outF, r2, inF));

    [Theory]
    [InlineData(3, 7, 5, 2, 3, false)]
    [InlineData(4, 6, 6, 1, 4, true)]
    [InlineData(0, 5, 4, 2, 2, false)]
    [InlineData(70, 33, 17, 3, 2, true)]
    public void Apply_and_its_transpose_match_the_dense_product(int batch, int inF, int outF, int r1, int r2, bool accumulate)
    {
        var (a1, b1, a2, b2) = (TestData.Uniform(r1 * inF, 1), TestData.Uniform(outF * r1, 2), TestData.Uniform(r2 * inF, 3), TestData.Uniform(outF * r2, 4));
        var m = Dense(a1, b1, a2, b2, inF, outF, r1, r2);
        var x = TestData.Uniform(batch * inF, 5);
        var dy = TestData.Uniform(batch * outF, 6);
        var y = accumulate ? TestData.Uniform(batch * outF, 7) : new float[batch * outF];
        var dx = accumulate ? TestData.Uniform(batch * inF, 8) : new float[batch * inF];
        var (y0, dx0) = ((float[])y.Clone(), (float[])dx.Clone());
        HadamardKernels.Apply(x, y, a1, b1, a2, b2, batch, inF, outF, r1, r2, accumulate);
        HadamardKernels.ApplyTransposed(dy, dx, a1, b1, a2, b2, batch, inF, outF, r1, r2, accumulate);
        for (var b = 0; b < batch; b++)
        {
            for (var o = 0; o < outF; o++)
            {
                double e = accumulate ? y0[b * outF + o] : 0;
                for (var i = 0; i < inF; i++) e += m[o * inF + i] * x[b * inF + i];
                Assert.True(Math.Abs(y[b * outF + o] - e) < 1e-4, $"y[{b},{o}]: {y[b * outF + o]} vs {e}");
            }
            for (var i = 0; i < inF; i++)
            {
                double e = accumulate ? dx0[b * inF + i] : 0;
                for (var o = 0; o < outF; o++) e += m[o * inF + i] * dy[b * outF + o];
                Assert.True(Math.Abs(dx[b * inF + i] - e) < 1e-4, $"dx[{b},{i}]: {dx[b * inF + i]} vs {e}");
            }
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Each_factor_gradient_matches_central_differences(int target)
    {
        const int batch = 3, inF = 5, outF = 4, r1 = 2, r2 = 3;
        var factors = new[] { TestData.Uniform(r1 * inF, 11), TestData.Uniform(outF * r1, 12), TestData.Uniform(r2 * inF, 13), TestData.Uniform(outF * r2, 14) };
        var x = TestData.Uniform(batch * inF, 15);
        var dy = TestData.Uniform(batch * outF, 16);
        var gradient = TestData.Uniform(factors[target].Length, 17);
        var start = (float[])gradient.Clone();
        HadamardKernels.Gradient(x, dy, factors[0], factors[1], factors[2], factors[3], gradient, target, batch, inF, outF, r1, r2);
        double Loss(float[][] f)
        {
            var m = Dense(f[0], f[1], f[2], f[3], inF, outF, r1, r2);
            var sum = 0.0;
            for (var b = 0; b < batch; b++)
                for (var o = 0; o < outF; o++)
                    for (var i = 0; i < inF; i++) sum += dy[b * outF + o] * m[o * inF + i] * x[b * inF + i];
            return sum;
        }
        const float h = 1f / 256;
        for (var e = 0; e < factors[target].Length; e++)
        {
            var plus = (float[][])factors.Clone();
            var minus = (float[][])factors.Clone();
            plus[target] = (float[])factors[target].Clone();
            minus[target] = (float[])factors[target].Clone();
            plus[target][e] += h;
            minus[target][e] -= h;
            var fd = (Loss(plus) - Loss(minus)) / (2 * h);
            Assert.True(Math.Abs(gradient[e] - start[e] - fd) < 1e-3 * Math.Max(1, Math.Abs(fd)), $"element {e}: {gradient[e] - start[e]} vs {fd}");
        }
    }

    [Fact]
    public void Bad_arguments_name_themselves()
    {
        var (a, b) = (new float[8], new float[8]);
        Assert.Equal("a2", Assert.Throws<ArgumentException>(() => HadamardKernels.Apply(new float[4], new float[4], a, b, new float[3], b, 1, 4, 4, 2, 2, false)).ParamName);
        Assert.Equal("target", Assert.Throws<ArgumentException>(() => HadamardKernels.Gradient(new float[4], new float[4], a, b, a, b, new float[8], 4, 1, 4, 4, 2, 2)).ParamName);
        Assert.Equal("r1", Assert.Throws<ArgumentException>(() => HadamardKernels.Apply(new float[4], new float[4], a, b, a, b, 1, 4, 4, 0, 2, false)).ParamName);
    }
}
