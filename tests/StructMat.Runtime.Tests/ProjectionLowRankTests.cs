using System;
using StructMat.Runtime.Oracle;
using StructMat.Runtime.Projection;
using Xunit;

namespace StructMat.Runtime.Tests;

/// <summary>
/// <see cref="Projections.LowRank"/>: exact recovery of rank-r matrices, the Eckart–Young error against spectra
/// computed by a different method (eigenvalues of the Gram matrix) and against a brute-force search over the
/// unit sphere for 3×3, optimality against random and perturbed candidates, the symmetric split of Σ.
/// </summary>
public class ProjectionLowRankTests
{
    private static (float[] A, float[] B, double Error) Project(float[] dense, int outFeatures, int inFeatures, int rank)
    {
        var a = new float[rank * inFeatures];
        var b = new float[outFeatures * rank];
        double error = Projections.LowRank(dense, outFeatures, inFeatures, rank, a, b);
        return (a, b, error);
    }

    private static double[] Product(float[] a, float[] b, int outFeatures, int inFeatures, int rank)
        => DenseMath.MatMul(DenseMath.FromFloat(b), DenseMath.FromFloat(a), outFeatures, rank, inFeatures);

    [Theory]
    [InlineData(7, 5, 2)]
    [InlineData(5, 9, 3)]
    [InlineData(12, 12, 4)]
    [InlineData(6, 4, 4)]
    [InlineData(1, 6, 1)]
    public void RecoversAnExactlyLowRankMatrix(int outFeatures, int inFeatures, int rank)
    {
        var bTrue = ProjectionMath.Integers(outFeatures * rank, 11 + rank);
        var aTrue = ProjectionMath.Integers(rank * inFeatures, 23 + outFeatures);
        var w = DenseMath.MatMul(DenseMath.FromFloat(bTrue), DenseMath.FromFloat(aTrue), outFeatures, rank, inFeatures);
        var dense = ProjectionMath.ExactFloat(w);
        double norm = ProjectionMath.Norm(w);

        var (a, b, error) = Project(dense, outFeatures, inFeatures, rank);

        Assert.True(error <= 1e-10 * norm, $"error {error:E3} for ‖W‖ = {norm:G4}");
        double stored = ProjectionMath.Distance(w, Product(a, b, outFeatures, inFeatures, rank));
        Assert.True(stored <= 1e-6 * norm, $"float32 factors reproduce W to {stored:E3}");
    }

    [Theory]
    [InlineData(8, 6, 1)]
    [InlineData(8, 6, 3)]
    [InlineData(6, 8, 5)]
    [InlineData(10, 10, 4)]
    [InlineData(3, 3, 2)]
    [InlineData(20, 7, 6)]
    public void ErrorIsTheDiscardedSpectrum(int outFeatures, int inFeatures, int rank)
    {
        var dense = TestData.Uniform(outFeatures * inFeatures, 100 * outFeatures + inFeatures);
        var w = DenseMath.FromFloat(dense);
        double normSquared = Math.Pow(ProjectionMath.Norm(w), 2);

        var (a, b, error) = Project(dense, outFeatures, inFeatures, rank);

        double discarded = ProjectionMath.DiscardedSquared(w, outFeatures, inFeatures, rank);
        Assert.True(discarded > 1e-5 * normSquared, "the case must discard something");
        Assert.True(Math.Abs(error * error - discarded) <= 1e-10 * normSquared,
            $"error² = {error * error:R}, Σ discarded σ² = {discarded:R}");
        double stored = ProjectionMath.Distance(w, Product(a, b, outFeatures, inFeatures, rank));
        Assert.True(Math.Abs(stored - error) <= 1e-5 * error, $"returned {error:R}, float32 factors give {stored:R}");
    }

    [Theory]
    [InlineData(1, 5)]
    [InlineData(2, 6)]
    [InlineData(1, 7)]
    public void ThreeByThreeAgreesWithBruteForceOverTheSphere(int rank, int seed)
    {
        // For 3×3, the best rank-1 error² is ‖W‖² − max_{|v|=1} ‖Wv‖² and the best rank-2 error² is
        // min_{|v|=1} ‖Wv‖²: search v over a fine grid of the sphere.
        var dense = TestData.Uniform(9, seed);
        var w = DenseMath.FromFloat(dense);
        double normSquared = Math.Pow(ProjectionMath.Norm(w), 2);
        double best = double.MaxValue;
        const int steps = 400;
        for (int i = 0; i <= steps; i++)
        {
            double theta = Math.PI * i / steps;
            for (int j = 0; j < 2 * steps; j++)
            {
                double phi = Math.PI * j / steps;
                double v0 = Math.Sin(theta) * Math.Cos(phi), v1 = Math.Sin(theta) * Math.Sin(phi), v2 = Math.Cos(theta);
                double image = 0;
                for (int r = 0; r < 3; r++)
                {
                    double y = w[r * 3] * v0 + w[r * 3 + 1] * v1 + w[r * 3 + 2] * v2;
                    image += y * y;
                }
                double candidate = rank == 1 ? normSquared - image : image;
                best = Math.Min(best, candidate);
            }
        }

        var (_, _, error) = Project(dense, 3, 3, rank);

        // The grid only approaches the optimum from above (every grid point is a feasible candidate).
        Assert.True(error * error <= best + 1e-12, $"error² {error * error:R} above the brute-force {best:R}");
        Assert.True(error * error >= best - 1e-3 * normSquared, $"error² {error * error:R} far below the brute-force {best:R}");
    }

    [Theory]
    [InlineData(6, 5, 2)]
    [InlineData(4, 7, 1)]
    [InlineData(5, 5, 3)]
    public void NoRandomOrPerturbedCandidateDoesBetter(int outFeatures, int inFeatures, int rank)
    {
        var dense = TestData.Uniform(outFeatures * inFeatures, 7 * rank + outFeatures);
        var w = DenseMath.FromFloat(dense);
        double norm = ProjectionMath.Norm(w);
        var (a, b, error) = Project(dense, outFeatures, inFeatures, rank);
        var rng = new Random(1234);
        double slack = 1e-12 * norm;

        for (int trial = 0; trial < 300; trial++)
        {
            var ca = TestData.Uniform(a.Length, 5000 + trial);
            var cb = TestData.Uniform(b.Length, 9000 + trial);
            double candidate = ProjectionMath.Distance(w, Product(ca, cb, outFeatures, inFeatures, rank));
            Assert.True(candidate >= error - slack, $"random candidate {trial}: {candidate:R} < {error:R}");
        }
        foreach (double scale in new[] { 1e-3, 1e-2, 1e-1 })
            for (int trial = 0; trial < 40; trial++)
            {
                var pa = ProjectionMath.Perturb(a, scale, rng);
                var pb = ProjectionMath.Perturb(b, scale, rng);
                double candidate = ProjectionMath.Distance(w, Product(pa, pb, outFeatures, inFeatures, rank));
                Assert.True(candidate >= error - slack, $"perturbation {scale}: {candidate:R} < {error:R}");
            }
    }

    [Fact]
    public void SingularValuesAreSplitSymmetrically()
    {
        const int outFeatures = 9, inFeatures = 7, rank = 4;
        var dense = TestData.Uniform(outFeatures * inFeatures, 77);
        var (a, b, _) = Project(dense, outFeatures, inFeatures, rank);
        var w = DenseMath.FromFloat(dense);
        var sigmaSquared = ProjectionMath.SquaredSingularValues(w, outFeatures, inFeatures);

        // BᵀB = A·Aᵀ = Σ_r (diagonal, descending).
        for (int i = 0; i < rank; i++)
            for (int j = 0; j < rank; j++)
            {
                double btb = 0, aat = 0;
                for (int o = 0; o < outFeatures; o++) btb += (double)b[o * rank + i] * b[o * rank + j];
                for (int c = 0; c < inFeatures; c++) aat += (double)a[i * inFeatures + c] * a[j * inFeatures + c];
                double expected = i == j ? Math.Sqrt(sigmaSquared[i]) : 0;
                Assert.True(Math.Abs(btb - expected) <= 1e-5, $"BᵀB[{i},{j}] = {btb:R}, expected {expected:R}");
                Assert.True(Math.Abs(aat - expected) <= 1e-5, $"AAᵀ[{i},{j}] = {aat:R}, expected {expected:R}");
            }
    }

    [Fact]
    public void RankAboveTheSmallerDimensionPadsWithZeros()
    {
        const int outFeatures = 3, inFeatures = 5, rank = 4;
        var dense = TestData.Uniform(outFeatures * inFeatures, 3);
        var (a, b, error) = Project(dense, outFeatures, inFeatures, rank);
        Assert.True(error <= 1e-12, $"full rank must be exact, error {error:E3}");
        for (int c = 0; c < inFeatures; c++) Assert.Equal(0f, a[3 * inFeatures + c]);
        for (int o = 0; o < outFeatures; o++) Assert.Equal(0f, b[o * rank + 3]);
        double stored = ProjectionMath.Distance(DenseMath.FromFloat(dense), Product(a, b, outFeatures, inFeatures, rank));
        Assert.True(stored <= 1e-6, $"float32 factors reproduce W to {stored:E3}");
    }

    [Fact]
    public void DegenerateSpectraAreHandled()
    {
        // Zero matrix: zero factors and zero error. Identity 4×4 at rank 2: error √2 (any 2-dimensional subspace).
        var (za, zb, zeroError) = Project(new float[12], 3, 4, 2);
        Assert.Equal(0.0, zeroError);
        Assert.All(za, v => Assert.Equal(0f, v));
        Assert.All(zb, v => Assert.Equal(0f, v));

        var identity = new float[16];
        for (int k = 0; k < 4; k++) identity[k * 5] = 1;
        var (ia, ib, identityError) = Project(identity, 4, 4, 2);
        Assert.Equal(Math.Sqrt(2), identityError, 12);
        var product = Product(ia, ib, 4, 4, 2);
        // The product is an orthogonal projector of rank 2: P² = P, trace 2.
        var squared = DenseMath.MatMul(product, product, 4, 4, 4);
        Assert.True(ProjectionMath.Distance(product, squared) <= 1e-6);
        Assert.Equal(2.0, product[0] + product[5] + product[10] + product[15], 6);
    }

    [Fact]
    public void IsDeterministic()
    {
        var dense = TestData.Uniform(11 * 8, 42);
        var first = Project(dense, 11, 8, 3);
        var second = Project(dense, 11, 8, 3);
        Assert.Equal(first.A, second.A);
        Assert.Equal(first.B, second.B);
        Assert.Equal(first.Error, second.Error);
    }

    [Fact]
    public void ValidatesSizes()
    {
        var dense = new float[12];
        Assert.Equal("dense", Assert.Throws<ArgumentException>(() => Projections.LowRank(new float[11], 3, 4, 2, new float[8], new float[6])).ParamName);
        Assert.Equal("loraA", Assert.Throws<ArgumentException>(() => Projections.LowRank(dense, 3, 4, 2, new float[7], new float[6])).ParamName);
        Assert.Equal("loraB", Assert.Throws<ArgumentException>(() => Projections.LowRank(dense, 3, 4, 2, new float[8], new float[8])).ParamName);
        Assert.Equal("rank", Assert.Throws<ArgumentException>(() => Projections.LowRank(dense, 3, 4, 0, new float[0], new float[0])).ParamName);
        Assert.Equal("outFeatures", Assert.Throws<ArgumentException>(() => Projections.LowRank(dense, 0, 4, 2, new float[8], new float[0])).ParamName);
        Assert.Equal("inFeatures", Assert.Throws<ArgumentException>(() => Projections.LowRank(dense, 3, -4, 2, new float[8], new float[6])).ParamName);
    }
}
