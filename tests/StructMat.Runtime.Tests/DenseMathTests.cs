using System;
using StructMat.Runtime.Oracle;
using Xunit;

namespace StructMat.Runtime.Tests;

/// <summary>
/// The float64 oracle. Monarch is checked against fly's <c>blockdiag_butterfly_multiply_reference</c> written out
/// in this file as plain loops: version 2 (einsum, rearrange, einsum) for every shape, version 3 (block_diag,
/// rearrange, block_diag, rearrange) as a second reading, and version 1 for the square case.
/// </summary>
public class DenseMathTests
{
    private const int Batch = 3;

    /// <summary>fly version 2, literally: returns out [batch, s·l].</summary>
    private static double[] FlyVersion2(double[] x, float[] w1, int k, int q, int p, float[] w2, int l, int s, int r)
    {
        int n = k * p;
        var output = new double[Batch * s * l];
        for (int b = 0; b < Batch; b++)
        {
            // x_reshaped = rearrange(x, 'b (k p) -> b k p'); out1 = einsum('kqp,bkp->bkq', w1, x_reshaped)
            var out1 = new double[k, q];
            for (int kk = 0; kk < k; kk++)
                for (int qq = 0; qq < q; qq++)
                    for (int pp = 0; pp < p; pp++)
                        out1[kk, qq] += w1[(kk * q + qq) * p + pp] * x[b * n + kk * p + pp];
            // rearrange(out1, 'b k q -> b (k q)')
            var flat = new double[k * q];
            for (int kk = 0; kk < k; kk++)
                for (int qq = 0; qq < q; qq++) flat[kk * q + qq] = out1[kk, qq];
            // rearrange(.., 'b (r l) -> b l r', l=l)
            var lr = new double[l, r];
            for (int rr = 0; rr < r; rr++)
                for (int ll = 0; ll < l; ll++) lr[ll, rr] = flat[rr * l + ll];
            // einsum('lsr,blr->bsl', w2, out1).reshape(batch, s*l)
            for (int ss = 0; ss < s; ss++)
                for (int ll = 0; ll < l; ll++)
                {
                    double sum = 0;
                    for (int rr = 0; rr < r; rr++) sum += w2[(ll * s + ss) * r + rr] * lr[ll, rr];
                    output[b * s * l + ss * l + ll] = sum;
                }
        }
        return output;
    }

    /// <summary>fly version 3: dense block-diagonal factors with F.linear and the two rearranges.</summary>
    private static double[] FlyVersion3(double[] x, float[] w1, int k, int q, int p, float[] w2, int l, int s, int r)
    {
        int n = k * p;
        var output = new double[Batch * s * l];
        var w1Dense = new double[k * q, k * p];
        for (int kk = 0; kk < k; kk++)
            for (int qq = 0; qq < q; qq++)
                for (int pp = 0; pp < p; pp++) w1Dense[kk * q + qq, kk * p + pp] = w1[(kk * q + qq) * p + pp];
        var w2Dense = new double[l * s, l * r];
        for (int ll = 0; ll < l; ll++)
            for (int ss = 0; ss < s; ss++)
                for (int rr = 0; rr < r; rr++) w2Dense[ll * s + ss, ll * r + rr] = w2[(ll * s + ss) * r + rr];

        for (int b = 0; b < Batch; b++)
        {
            var out1 = new double[k * q];
            for (int j = 0; j < k * q; j++)
                for (int c = 0; c < n; c++) out1[j] += w1Dense[j, c] * x[b * n + c];
            // 'b (r l) -> b (l r)'
            var permuted = new double[l * r];
            for (int rr = 0; rr < r; rr++)
                for (int ll = 0; ll < l; ll++) permuted[ll * r + rr] = out1[rr * l + ll];
            var out2 = new double[l * s];
            for (int j = 0; j < l * s; j++)
                for (int c = 0; c < l * r; c++) out2[j] += w2Dense[j, c] * permuted[c];
            // 'b (l s) -> b (s l)'
            for (int ll = 0; ll < l; ll++)
                for (int ss = 0; ss < s; ss++) output[b * s * l + ss * l + ll] = out2[ll * s + ss];
        }
        return output;
    }

    private static double[] Apply(double[] dense, double[] x, int rows, int cols)
    {
        var y = new double[Batch * rows];
        for (int b = 0; b < Batch; b++)
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++) y[b * rows + i] += dense[i * cols + j] * x[b * cols + j];
        return y;
    }

    private static void AssertClose(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-12 * (1 + Math.Abs(expected[i])), $"Element {i}: expected {expected[i]:R}, got {actual[i]:R}.");
    }

    [Theory]
    [InlineData(12, 20, 4)] // in < out: blkdiag1 [b, in/b, in/b], blkdiag2 [b, out/b, in/b]
    [InlineData(20, 12, 4)] // in ≥ out: blkdiag1 [b, out/b, in/b], blkdiag2 [b, out/b, out/b]
    [InlineData(16, 16, 4)]
    [InlineData(6, 15, 3)]
    public void Monarch_matches_fly_reference_for_MonarchLinear_shapes(int inFeatures, int outFeatures, int blocks)
    {
        int k = blocks, l = blocks, p = inFeatures / blocks, s = outFeatures / blocks;
        int q = inFeatures < outFeatures ? inFeatures / blocks : outFeatures / blocks;
        int r = inFeatures < outFeatures ? inFeatures / blocks : outFeatures / blocks;
        AssertMonarchMatchesFly(k, q, p, l, s, r, seed: inFeatures * 31 + outFeatures);
    }

    [Fact]
    public void Monarch_matches_fly_reference_when_the_two_factors_have_different_block_counts()
    {
        AssertMonarchMatchesFly(k: 2, q: 6, p: 3, l: 3, s: 2, r: 4, seed: 77);
    }

    [Fact]
    public void Monarch_square_case_matches_fly_version_1()
    {
        const int m = 3, n = m * m;
        var w1 = TestData.Uniform(m * m * m, 1);
        var w2 = TestData.Uniform(m * m * m, 2);
        var x = DenseMath.FromFloat(TestData.Uniform(Batch * n, 3));
        // einsum('bkp,kqp,qlk->blq', x_reshaped, w1, w2).reshape(batch, n)
        var expected = new double[Batch * n];
        for (int b = 0; b < Batch; b++)
            for (int ll = 0; ll < m; ll++)
                for (int qq = 0; qq < m; qq++)
                {
                    double sum = 0;
                    for (int kk = 0; kk < m; kk++)
                        for (int pp = 0; pp < m; pp++)
                            sum += x[b * n + kk * m + pp] * w1[(kk * m + qq) * m + pp] * w2[(qq * m + ll) * m + kk];
                    expected[b * n + ll * m + qq] = sum;
                }

        var dense = DenseMath.Monarch(w1, m, m, m, w2, m, m, m);

        AssertClose(expected, Apply(dense, x, n, n));
        AssertClose(FlyVersion2(x, w1, m, m, m, w2, m, m, m), expected);
    }

    private static void AssertMonarchMatchesFly(int k, int q, int p, int l, int s, int r, int seed)
    {
        var w1 = TestData.Uniform(k * q * p, seed);
        var w2 = TestData.Uniform(l * s * r, seed + 1);
        var x = DenseMath.FromFloat(TestData.Uniform(Batch * k * p, seed + 2));

        var dense = DenseMath.Monarch(w1, k, q, p, w2, l, s, r);

        Assert.Equal(s * l * k * p, dense.Length);
        var expected = FlyVersion2(x, w1, k, q, p, w2, l, s, r);
        AssertClose(expected, Apply(dense, x, s * l, k * p));
        AssertClose(expected, FlyVersion3(x, w1, k, q, p, w2, l, s, r));
    }

    [Fact]
    public void Monarch_rejects_inconsistent_sizes()
    {
        var w1 = new float[2 * 3 * 4];
        var w2 = new float[3 * 5 * 2];
        Assert.Equal("r", Assert.Throws<ArgumentException>(() => DenseMath.Monarch(w1, 2, 3, 4, new float[3 * 5 * 3], 3, 5, 3)).ParamName);
        Assert.Equal("blkdiag1", Assert.Throws<ArgumentException>(() => DenseMath.Monarch(new float[5], 2, 3, 4, w2, 3, 5, 2)).ParamName);
        Assert.Equal("blkdiag2", Assert.Throws<ArgumentException>(() => DenseMath.Monarch(w1, 2, 3, 4, new float[5], 3, 5, 2)).ParamName);
        Assert.Equal("k", Assert.Throws<ArgumentException>(() => DenseMath.Monarch(w1, 0, 3, 4, w2, 3, 5, 2)).ParamName);
        Assert.Equal(5 * 3 * 2 * 4, DenseMath.Monarch(w1, 2, 3, 4, w2, 3, 5, 2).Length);
    }

    [Fact]
    public void BlockDiagonal_places_each_block_on_the_diagonal()
    {
        // Two 2×3 blocks: [[1,2,3],[4,5,6]] and [[7,8,9],[10,11,12]] → a 4×6 matrix.
        float[] w = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
        double[] expected =
        [
            1, 2, 3, 0, 0, 0,
            4, 5, 6, 0, 0, 0,
            0, 0, 0, 7, 8, 9,
            0, 0, 0, 10, 11, 12,
        ];
        Assert.Equal(expected, DenseMath.BlockDiagonal(w, 2, 2, 3));
        Assert.Equal("w", Assert.Throws<ArgumentException>(() => DenseMath.BlockDiagonal(w, 2, 2, 2)).ParamName);
    }

    [Fact]
    public void MatMul_multiplies_row_major_matrices()
    {
        // [[1,2,3],[4,5,6]] · [[7,8],[9,10],[11,12]] = [[58,64],[139,154]]
        Assert.Equal(new double[] { 58, 64, 139, 154 }, DenseMath.MatMul([1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12], 2, 3, 2));
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => DenseMath.MatMul([1, 2, 3, 4, 5, 6], [7, 8, 9], 2, 3, 2)).ParamName);
        Assert.Equal("a", Assert.Throws<ArgumentException>(() => DenseMath.MatMul([1, 2, 3], [7, 8, 9, 10, 11, 12], 2, 3, 2)).ParamName);
    }

    [Fact]
    public void Add_Scale_and_FromFloat_are_elementwise()
    {
        Assert.Equal(new double[] { 5, 7, 9 }, DenseMath.Add([1, 2, 3], [4, 5, 6]));
        Assert.Equal(new double[] { -2, -4, 1 }, DenseMath.Scale([1, 2, -0.5], -2));
        Assert.Equal(new double[] { 0.5, -1.25 }, DenseMath.FromFloat([0.5f, -1.25f]));
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => DenseMath.Add([1, 2], [1])).ParamName);
    }
}
