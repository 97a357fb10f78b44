using System;
using StructMat.Runtime.Oracle;
using Xunit;

namespace StructMat.Runtime.Tests;

/// <summary>The float64 oracle builders for diag, permutation and Householder layers, on hand-computed cases.</summary>
public class DenseMathAdditionsTests
{
    [Fact]
    public void Diagonal_puts_d_on_the_diagonal()
    {
        Assert.Equal(new double[] { 2, 0, 0, 0, -1, 0, 0, 0, 0.5 }, DenseMath.Diagonal(new[] { 2f, -1f, 0.5f }));
        Assert.Empty(DenseMath.Diagonal(ReadOnlySpan<float>.Empty));
    }

    [Fact]
    public void Permutation_has_a_one_at_row_j_column_map_j()
    {
        // map = [2, 0, 1]: y0 = x2, y1 = x0, y2 = x1.
        Assert.Equal(new double[] { 0, 0, 1, 1, 0, 0, 0, 1, 0 }, DenseMath.Permutation(new[] { 2, 0, 1 }));
        Assert.Equal("map", Assert.Throws<ArgumentException>(() => DenseMath.Permutation(new[] { 1, 1, 0 })).ParamName);
        Assert.Equal("map", Assert.Throws<ArgumentException>(() => DenseMath.Permutation(new[] { 0, 3, 1 })).ParamName);
    }

    [Fact]
    public void Householder_multiplies_H1_on_the_left()
    {
        // n = 2, r = 2; hra_u [2, 2] row-major: u_1 = (1, 0), u_2 = (1, 1) (normalised inside).
        // H_1 = diag(−1, 1), H_2 = [[0, −1], [−1, 0]]; H_1 H_2 = [[0, 1], [−1, 0]] (H_2 H_1 would be its transpose).
        var h = DenseMath.Householder(new[] { 1f, 1f, 0f, 1f }, 2, 2);
        var expected = new double[] { 0, 1, -1, 0 };
        for (int k = 0; k < 4; k++) Assert.Equal(expected[k], h[k], 12);
    }

    [Fact]
    public void Householder_single_reflection_and_zero_column()
    {
        // u = (3, 4): û = (0.6, 0.8), H = I − 2ûûᵀ = [[0.28, −0.96], [−0.96, −0.28]].
        var h = DenseMath.Householder(new[] { 3f, 4f }, 2, 1);
        var expected = new[] { 0.28, -0.96, -0.96, -0.28 };
        for (int k = 0; k < 4; k++) Assert.Equal(expected[k], h[k], 12);
        Assert.Equal(new double[] { 1, 0, 0, 1 }, DenseMath.Householder(new[] { 0f, 0f }, 2, 1));
        Assert.Equal(new double[] { 1, 0, 0, 1 }, DenseMath.Householder(ReadOnlySpan<float>.Empty, 2, 0));
        Assert.Equal("u", Assert.Throws<ArgumentException>(() => DenseMath.Householder(new float[3], 2, 2)).ParamName);
    }
}
