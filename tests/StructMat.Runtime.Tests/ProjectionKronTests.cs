using System;
using StructMat.Runtime.Oracle;
using StructMat.Runtime.Projection;
using Xunit;

namespace StructMat.Runtime.Tests;

/// <summary>
/// <see cref="Projections.Kron"/> (nearest Kronecker product) against <see cref="DenseMath.Kron"/>: exact
/// recovery, the error against the spectrum of the Van Loan–Pitsianis rearrangement (built here block by block),
/// optimality against random and perturbed candidates, balanced factors.
/// </summary>
public class ProjectionKronTests
{
    private static (float[] A, float[] B, double Error) Project(float[] dense, int aOut, int aIn, int bOut, int bIn)
    {
        var a = new float[aOut * aIn];
        var b = new float[bOut * bIn];
        double error = Projections.Kron(dense, aOut, aIn, bOut, bIn, a, b);
        return (a, b, error);
    }

    private static double[] Kron(float[] a, int aOut, int aIn, float[] b, int bOut, int bIn)
        => DenseMath.Kron(DenseMath.FromFloat(a), aOut, aIn, DenseMath.FromFloat(b), bOut, bIn);

    /// <summary>
    /// Row (i, p) of the rearrangement is block (i, p) of W — the <c>[bOut, bIn]</c> block that kron(A, B) fills
    /// with <c>A[i, p]·B</c> — read row by row.
    /// </summary>
    private static double[] Rearrange(double[] w, int aOut, int aIn, int bOut, int bIn)
    {
        int cols = aIn * bIn;
        var r = new double[aOut * aIn * bOut * bIn];
        int row = 0;
        for (int i = 0; i < aOut; i++)
            for (int p = 0; p < aIn; p++, row++)
            {
                int next = 0;
                for (int y = i * bOut; y < (i + 1) * bOut; y++)
                    for (int x = p * bIn; x < (p + 1) * bIn; x++)
                        r[row * bOut * bIn + next++] = w[y * cols + x];
            }
        return r;
    }

    [Theory]
    [InlineData(2, 3, 4, 2)]
    [InlineData(3, 3, 3, 3)]
    [InlineData(1, 4, 5, 1)]
    [InlineData(4, 1, 1, 3)]
    [InlineData(5, 2, 2, 5)]
    public void RecoversAKroneckerProduct(int aOut, int aIn, int bOut, int bIn)
    {
        var w = Kron(ProjectionMath.Integers(aOut * aIn, 17 + aOut), aOut, aIn, ProjectionMath.Integers(bOut * bIn, 19 + bIn), bOut, bIn);
        var dense = ProjectionMath.ExactFloat(w);
        double norm = ProjectionMath.Norm(w);
        Assert.True(norm > 0);

        var (a, b, error) = Project(dense, aOut, aIn, bOut, bIn);

        Assert.True(error <= 1e-10 * norm, $"error {error:E3} for ‖W‖ = {norm:G4}");
        double stored = ProjectionMath.Distance(w, Kron(a, aOut, aIn, b, bOut, bIn));
        Assert.True(stored <= 1e-6 * norm, $"float32 factors reproduce W to {stored:E3}");
    }

    [Theory]
    [InlineData(2, 3, 4, 2)]
    [InlineData(3, 3, 3, 3)]
    [InlineData(4, 2, 2, 3)]
    [InlineData(1, 5, 3, 1)]
    public void ErrorIsTheDiscardedSpectrumOfTheRearrangement(int aOut, int aIn, int bOut, int bIn)
    {
        var dense = TestData.Uniform(aOut * bOut * aIn * bIn, 300 + aOut * 7 + bIn);
        var w = DenseMath.FromFloat(dense);
        double normSquared = Math.Pow(ProjectionMath.Norm(w), 2);
        double discarded = ProjectionMath.DiscardedSquared(Rearrange(w, aOut, aIn, bOut, bIn), aOut * aIn, bOut * bIn, 1);

        var (a, b, error) = Project(dense, aOut, aIn, bOut, bIn);

        Assert.True(discarded > 1e-3 * normSquared, "the case must discard something");
        Assert.True(Math.Abs(error * error - discarded) <= 1e-10 * normSquared,
            $"error² = {error * error:R}, Σ discarded σ² of R = {discarded:R}");
        double stored = ProjectionMath.Distance(w, Kron(a, aOut, aIn, b, bOut, bIn));
        Assert.True(Math.Abs(stored - error) <= 1e-5 * error, $"returned {error:R}, float32 factors give {stored:R}");
    }

    [Theory]
    [InlineData(2, 2, 2, 2)]
    [InlineData(2, 3, 3, 2)]
    [InlineData(3, 1, 2, 4)]
    public void NoRandomOrPerturbedCandidateDoesBetter(int aOut, int aIn, int bOut, int bIn)
    {
        var dense = TestData.Uniform(aOut * bOut * aIn * bIn, 55 + aIn + bOut);
        var w = DenseMath.FromFloat(dense);
        double norm = ProjectionMath.Norm(w);
        var (a, b, error) = Project(dense, aOut, aIn, bOut, bIn);
        double slack = 1e-12 * norm;
        var rng = new Random(7);

        for (int trial = 0; trial < 500; trial++)
        {
            double candidate = ProjectionMath.Distance(w, Kron(TestData.Uniform(a.Length, 100 + trial), aOut, aIn, TestData.Uniform(b.Length, 900 + trial), bOut, bIn));
            Assert.True(candidate >= error - slack, $"random candidate {trial}: {candidate:R} < {error:R}");
        }
        foreach (double scale in new[] { 1e-3, 1e-2, 1e-1 })
            for (int trial = 0; trial < 40; trial++)
            {
                var pa = ProjectionMath.Perturb(a, scale, rng);
                var pb = ProjectionMath.Perturb(b, scale, rng);
                foreach (var (ca, cb) in new[] { (pa, pb), (pa, b), (a, pb) })
                {
                    double candidate = ProjectionMath.Distance(w, Kron(ca, aOut, aIn, cb, bOut, bIn));
                    Assert.True(candidate >= error - slack, $"perturbation {scale}: {candidate:R} < {error:R}");
                }
            }
    }

    [Fact]
    public void FactorsAreBalanced()
    {
        // a = √σ₁·u₁ and b = √σ₁·v₁: equal norms, and ‖a‖·‖b‖ = σ₁ of the rearrangement.
        var dense = TestData.Uniform(36, 8);
        var (a, b, _) = Project(dense, 2, 3, 3, 2);
        double normA = ProjectionMath.Norm(DenseMath.FromFloat(a)), normB = ProjectionMath.Norm(DenseMath.FromFloat(b));
        Assert.Equal(normA, normB, 5);
        double sigma = Math.Sqrt(ProjectionMath.SquaredSingularValues(Rearrange(DenseMath.FromFloat(dense), 2, 3, 3, 2), 6, 6)[0]);
        Assert.Equal(sigma, normA * normB, 5);
    }

    [Fact]
    public void ValidatesSizes()
    {
        var dense = new float[36];
        Assert.Equal("dense", Assert.Throws<ArgumentException>(() => Projections.Kron(new float[35], 2, 3, 3, 2, new float[6], new float[6])).ParamName);
        Assert.Equal("a", Assert.Throws<ArgumentException>(() => Projections.Kron(dense, 2, 3, 3, 2, new float[5], new float[6])).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => Projections.Kron(dense, 2, 3, 3, 2, new float[6], new float[7])).ParamName);
        Assert.Equal("aOut", Assert.Throws<ArgumentException>(() => Projections.Kron(dense, 0, 3, 3, 2, new float[0], new float[6])).ParamName);
        Assert.Equal("bIn", Assert.Throws<ArgumentException>(() => Projections.Kron(dense, 2, 3, 3, -2, new float[6], new float[6])).ParamName);
    }
}
