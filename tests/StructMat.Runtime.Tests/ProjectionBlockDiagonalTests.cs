using System;
using StructMat.Runtime.Oracle;
using StructMat.Runtime.Projection;
using Xunit;

namespace StructMat.Runtime.Tests;

/// <summary><see cref="Projections.BlockDiagonal"/> against <see cref="DenseMath.BlockDiagonal"/>.</summary>
public class ProjectionBlockDiagonalTests
{
    [Theory]
    [InlineData(8, 8, 2)]
    [InlineData(12, 6, 3)]
    [InlineData(4, 10, 2)]
    [InlineData(5, 7, 1)]
    [InlineData(6, 6, 6)]
    public void CopiesTheDiagonalBlocksAndReportsTheOffDiagonalNorm(int outFeatures, int inFeatures, int blocks)
    {
        var dense = TestData.Uniform(outFeatures * inFeatures, outFeatures * 13 + blocks);
        var w = DenseMath.FromFloat(dense);
        var weight = new float[outFeatures * inFeatures / blocks];

        double error = Projections.BlockDiagonal(dense, outFeatures, inFeatures, blocks, weight);

        var projected = DenseMath.BlockDiagonal(weight, blocks, outFeatures / blocks, inFeatures / blocks);
        // Every nonzero of the projection equals W there; what is left is W off the diagonal blocks.
        double offDiagonal = 0;
        for (int k = 0; k < w.Length; k++)
        {
            if (projected[k] != 0) Assert.Equal(w[k], projected[k]);
            else offDiagonal += w[k] * w[k];
        }
        Assert.Equal(Math.Sqrt(offDiagonal), error, 12);
        Assert.Equal(ProjectionMath.Distance(w, projected), error, 12);
        if (blocks == 1) Assert.Equal(0.0, error);
    }

    [Fact]
    public void NoPerturbationDoesBetter()
    {
        var dense = TestData.Uniform(48, 4);
        var w = DenseMath.FromFloat(dense);
        var weight = new float[24];
        double error = Projections.BlockDiagonal(dense, 8, 6, 2, weight);
        var rng = new Random(3);
        foreach (double scale in new[] { 1e-3, 1e-1 })
            for (int trial = 0; trial < 50; trial++)
            {
                double candidate = ProjectionMath.Distance(w, DenseMath.BlockDiagonal(ProjectionMath.Perturb(weight, scale, rng), 2, 4, 3));
                Assert.True(candidate >= error - 1e-12, $"perturbation {scale}: {candidate:R} < {error:R}");
            }
    }

    [Fact]
    public void ValidatesSizes()
    {
        var dense = new float[48];
        Assert.Equal("dense", Assert.Throws<ArgumentException>(() => Projections.BlockDiagonal(new float[47], 8, 6, 2, new float[24])).ParamName);
        Assert.Equal("weight", Assert.Throws<ArgumentException>(() => Projections.BlockDiagonal(dense, 8, 6, 2, new float[48])).ParamName);
        Assert.Equal("inFeatures", Assert.Throws<ArgumentException>(() => Projections.BlockDiagonal(dense, 8, 6, 4, new float[12])).ParamName);
        Assert.Equal("outFeatures", Assert.Throws<ArgumentException>(() => Projections.BlockDiagonal(dense, 8, 6, 3, new float[16])).ParamName);
        Assert.Equal("blocks", Assert.Throws<ArgumentException>(() => Projections.BlockDiagonal(dense, 8, 6, 0, new float[24])).ParamName);
    }
}
