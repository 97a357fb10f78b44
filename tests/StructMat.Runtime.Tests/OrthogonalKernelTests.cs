using System;
using StructMat.Runtime.Kernels;
using StructMat.Runtime.Oracle;
using Xunit;

namespace StructMat.Runtime.Tests;

/// <summary>
/// OrthogonalKernels (PEFT's OFT rotation) against <see cref="DenseMath.Oft"/>, a step-by-step float64 transcription
/// of PEFT's <c>_cayley_batch</c> (huggingface/peft src/peft/tuners/oft/layer.py at 5d602fdbff04c33c1c4de55cda9d4ae1d7cb7e40),
/// and the gradient against central finite differences of that oracle. Plus the facts of PEFT's two modes that a
/// reader could get wrong: the exact mode is orthogonal; the series approximates the transpose of the exact rotation;
/// 3 and 4 series terms are the same.
/// </summary>
public class OrthogonalKernelTests
{
    private static float[] Packed(int blocks, int block, int seed, float scale)
    {
        var v = TestData.Uniform(blocks * OrthogonalKernels.PackedLength(block), seed);
        for (var k = 0; k < v.Length; k++) v[k] *= scale;
        return v;
    }

    /// <summary>y = M x for each row, M the oracle's dense [n, n].</summary>
    private static double[] Dense(double[] m, float[] x, int batch, int n, bool transposed)
    {
        var y = new double[batch * n];
        for (var b = 0; b < batch; b++)
            for (var j = 0; j < n; j++)
                for (var k = 0; k < n; k++) y[b * n + j] += (transposed ? m[k * n + j] : m[j * n + k]) * x[b * n + k];
        return y;
    }

    private static void Close(double[] expected, ReadOnlySpan<float> actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        var scale = 0.0;
        foreach (var e in expected) scale = Math.Max(scale, Math.Abs(e));
        for (var k = 0; k < expected.Length; k++)
            Assert.True(Math.Abs(actual[k] - expected[k]) <= tolerance * Math.Max(1, scale), $"element {k}: {actual[k]} vs {expected[k]}");
    }

    [Theory]
    [InlineData(3, 3, 4, 5, false)]
    [InlineData(2, 2, 8, 0, true)]
    [InlineData(4, 6, 2, 3, false)]
    [InlineData(1, 1, 5, 1, false)]   // one term: the identity
    [InlineData(5, 2, 3, 2, true)]
    [InlineData(64, 8, 32, 5, false)] // PEFT's default block size, on the parallel path
    [InlineData(0, 3, 4, 5, false)]
    public void Apply_and_ApplyTransposed_match_PEFTs_rotation(int batch, int blocks, int block, int terms, bool accumulate)
    {
        var n = blocks * block;
        var packed = Packed(blocks, block, 10 + block, 0.4f);
        var dense = DenseMath.Oft(packed, blocks, block, terms);
        var x = TestData.Uniform(batch * n, 20);
        var old = TestData.Uniform(batch * n, 30);
        foreach (var transposed in new[] { false, true })
        {
            var y = accumulate ? (float[])old.Clone() : TestData.Filled(batch * n, float.NaN);
            if (transposed) OrthogonalKernels.ApplyTransposed(x, y, packed, batch, blocks, block, terms, accumulate);
            else OrthogonalKernels.Apply(x, y, packed, batch, blocks, block, terms, accumulate);
            var expected = Dense(dense, x, batch, n, transposed);
            if (accumulate) for (var k = 0; k < expected.Length; k++) expected[k] += old[k];
            Close(expected, y, 2e-5);
        }
    }

    [Theory]
    [InlineData(2, 4, 5)]
    [InlineData(3, 3, 0)]
    [InlineData(2, 5, 2)]
    [InlineData(1, 4, 3)]
    [InlineData(2, 4, 9)]
    public void Gradient_matches_central_differences_of_the_oracle(int blocks, int block, int terms)
    {
        const int batch = 3;
        var n = blocks * block;
        var packed = Packed(blocks, block, 40 + terms, 0.4f);
        var x = TestData.Uniform(batch * n, 41);
        var dy = TestData.Uniform(batch * n, 42);
        var gradient = TestData.Uniform(packed.Length, 43); // accumulates onto what is there
        var start = (float[])gradient.Clone();
        OrthogonalKernels.Gradient(x, dy, packed, gradient, batch, blocks, block, terms);

        double Loss(float[] p)
        {
            var y = Dense(DenseMath.Oft(p, blocks, block, terms), x, batch, n, transposed: false);
            var sum = 0.0;
            for (var k = 0; k < y.Length; k++) sum += y[k] * dy[k];
            return sum;
        }
        const float h = 1f / 256;
        for (var e = 0; e < packed.Length; e++)
        {
            var plus = (float[])packed.Clone();
            var minus = (float[])packed.Clone();
            plus[e] += h;
            minus[e] -= h;
            var fd = (Loss(plus) - Loss(minus)) / (2 * h);
            Assert.True(Math.Abs(gradient[e] - start[e] - fd) <= 2e-3 * Math.Max(1, Math.Abs(fd)), $"element {e}: {gradient[e] - start[e]} vs {fd}");
        }
    }

    /// <summary>On the float64 oracle: exact orthogonality and series ≈ exactᵀ; the kernels' float32 rotations agree with it.</summary>
    [Fact]
    public void The_exact_mode_is_orthogonal_and_the_series_approximates_its_transpose()
    {
        const int blocks = 2, block = 6, n = blocks * block;
        var packed = Packed(blocks, block, 50, 0.05f);
        // DenseMath.Oft is blockdiag(R_iᵀ): entry (blk·b + c, blk·b + r) is R[r, c].
        var exactT = DenseMath.Oft(packed, blocks, block, terms: 0);
        var seriesT = DenseMath.Oft(packed, blocks, block, terms: OrthogonalKernels.MaxTerms);
        var transposeError = 0.0;
        var plainError = 0.0;
        for (var r = 0; r < n; r++)
            for (var c = 0; c < n; c++)
            {
                var dot = 0.0;
                for (var k = 0; k < n; k++) dot += exactT[k * n + r] * exactT[k * n + c];
                Assert.Equal(r == c ? 1.0 : 0.0, dot, 12);
                transposeError = Math.Max(transposeError, Math.Abs(seriesT[r * n + c] - exactT[c * n + r]));
                plainError = Math.Max(plainError, Math.Abs(seriesT[r * n + c] - exactT[r * n + c]));
            }
        Assert.True(transposeError < 1e-12, $"series vs exactᵀ: {transposeError:E2}");
        Assert.True(plainError > 0.1, $"series vs exact: {plainError:E2} (the two modes would agree, which PEFT's do not)");
        foreach (var terms in new[] { 0, 5, OrthogonalKernels.MaxTerms })
        {
            var kernel = OrthogonalKernels.Rotations(packed, blocks, block, terms);
            var oracle = DenseMath.Oft(packed, blocks, block, terms);
            for (var i = 0; i < blocks; i++)
                for (var r = 0; r < block; r++)
                    for (var c = 0; c < block; c++)
                        Assert.True(Math.Abs(kernel[(i * block + r) * block + c] - oracle[(i * block + c) * n + i * block + r]) < 1e-6, $"terms {terms}");
        }
    }

    [Fact]
    public void Three_and_four_series_terms_are_the_same_as_in_PEFTs_loop_and_five_differs()
    {
        var packed = Packed(2, 4, 60, 0.5f);
        Assert.Equal(OrthogonalKernels.Rotations(packed, 2, 4, 3), OrthogonalKernels.Rotations(packed, 2, 4, 4));
        Assert.NotEqual(OrthogonalKernels.Rotations(packed, 2, 4, 4), OrthogonalKernels.Rotations(packed, 2, 4, 5));
        Assert.NotEqual(DenseMath.Oft(packed, 2, 4, 4), DenseMath.Oft(packed, 2, 4, 5));
        Assert.Equal(DenseMath.Oft(packed, 2, 4, 3), DenseMath.Oft(packed, 2, 4, 4));
    }

    [Fact]
    public void Bad_arguments_name_themselves()
    {
        var packed = new float[6];
        var x = new float[8];
        Assert.Equal("terms", Assert.Throws<ArgumentException>(() => OrthogonalKernels.Apply(x, new float[8], packed, 2, 1, 4, 17, false)).ParamName);
        Assert.Equal("packed", Assert.Throws<ArgumentException>(() => OrthogonalKernels.Apply(x, new float[8], new float[5], 2, 1, 4, 5, false)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => OrthogonalKernels.Apply(x, new float[7], packed, 2, 1, 4, 5, false)).ParamName);
        Assert.Equal("dPacked", Assert.Throws<ArgumentException>(() => OrthogonalKernels.Gradient(x, x, packed, new float[5], 2, 1, 4, 5)).ParamName);
    }

    /// <summary>BOFT's layout: full b×b blocks, Q = ½(A − Aᵀ), the exact transform; one factor of DenseMath.Boft is blockdiag(R_dᵀ).</summary>
    [Theory]
    [InlineData(3, 4)]
    [InlineData(2, 2)]
    public void The_full_layout_matches_one_BOFT_factor_and_its_central_differences(int blocks, int block)
    {
        const int batch = 3;
        var n = blocks * block;
        var a = TestData.Uniform(blocks * block * block, 70 + block);
        for (var k = 0; k < a.Length; k++) a[k] *= 0.4f;
        var x = TestData.Uniform(batch * n, 71);
        var dy = TestData.Uniform(batch * n, 72);
        var y = new float[batch * n];
        OrthogonalKernels.Apply(x, y, a, batch, blocks, block, 0, accumulate: false, SkewLayout.Full);
        Close(Dense(DenseMath.Boft(a, 1, blocks, block), x, batch, n, transposed: false), y, 2e-5);

        var gradient = new float[a.Length];
        OrthogonalKernels.Gradient(x, dy, a, gradient, batch, blocks, block, 0, SkewLayout.Full);
        double Loss(float[] p)
        {
            var out_ = Dense(DenseMath.Boft(p, 1, blocks, block), x, batch, n, transposed: false);
            var sum = 0.0;
            for (var k = 0; k < out_.Length; k++) sum += out_[k] * dy[k];
            return sum;
        }
        const float h = 1f / 256;
        for (var e = 0; e < a.Length; e++)
        {
            var plus = (float[])a.Clone();
            var minus = (float[])a.Clone();
            plus[e] += h;
            minus[e] -= h;
            var fd = (Loss(plus) - Loss(minus)) / (2 * h);
            Assert.True(Math.Abs(gradient[e] - fd) <= 2e-3 * Math.Max(1, Math.Abs(fd)), $"element {e}: {gradient[e]} vs {fd}");
        }
    }

    /// <summary>The rotations are cached by the parameter's bits: alternating between two parameter states, each call sees its own.</summary>
    [Fact]
    public void A_changed_parameter_is_never_served_from_the_cache()
    {
        const int batch = 2, blocks = 3, block = 4, n = blocks * block;
        var first = Packed(blocks, block, 80, 0.4f);
        var second = (float[])first.Clone();
        second[5] += 0.25f;
        var x = TestData.Uniform(batch * n, 81);
        foreach (var parameters in new[] { first, second, first, second })
        {
            var y = new float[batch * n];
            OrthogonalKernels.Apply(x, y, parameters, batch, blocks, block, 5, accumulate: false);
            Close(Dense(DenseMath.Oft(parameters, blocks, block, 5), x, batch, n, transposed: false), y, 2e-5);
        }
    }
}
