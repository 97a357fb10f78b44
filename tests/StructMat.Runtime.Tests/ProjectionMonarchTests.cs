using System;
using System.Linq;
using StructMat.Runtime.Oracle;
using StructMat.Runtime.Projection;
using Xunit;

namespace StructMat.Runtime.Tests;

/// <summary>
/// <see cref="Projections.Monarch"/> against <see cref="DenseMath.Monarch"/> (fly's definition): exact recovery of
/// Monarch matrices for square √n, square non-√n, both rectangular cases and shapes where some sub-blocks are
/// unreachable; the error against the discarded spectra of the sub-blocks, with each sub-block's admissible rank
/// measured from DenseMath.Monarch itself (not taken from the implementation); optimality against random
/// Monarch candidates and perturbations of the found factors.
/// </summary>
public class ProjectionMonarchTests
{
    /// <summary>fly's MonarchLinear shapes: blkdiag1 [k, q, p], blkdiag2 [l, s, r].</summary>
    private readonly record struct Shape(int Out, int In, int Blocks)
    {
        public int K => Blocks;
        public int L => Blocks;
        public int P => In / Blocks;
        public int S => Out / Blocks;
        public int Q => Math.Min(In, Out) / Blocks;
        public int R => Q;
        public int Length1 => K * Q * P;
        public int Length2 => L * S * R;

        public double[] Dense(float[] w1, float[] w2) => DenseMath.Monarch(w1, K, Q, P, w2, L, S, R);
    }

    private static (float[] W1, float[] W2, double Error) Project(float[] dense, Shape shape)
    {
        var w1 = new float[shape.Length1];
        var w2 = new float[shape.Length2];
        double error = Projections.Monarch(dense, shape.Out, shape.In, shape.Blocks, w1, w2);
        return (w1, w2, error);
    }

    /// <summary>Sub-block (ll, kk): rows ss·l + ll (the output is flattened as (s l)), columns kk·p + pp.</summary>
    private static double[] SubBlock(double[] w, Shape shape, int ll, int kk)
    {
        var block = new double[shape.S * shape.P];
        for (int ss = 0; ss < shape.S; ss++)
            for (int pp = 0; pp < shape.P; pp++)
                block[ss * shape.P + pp] = w[(ss * shape.L + ll) * shape.In + kk * shape.P + pp];
        return block;
    }

    public static TheoryData<int, int, int> Shapes => new()
    {
        { 16, 16, 4 },  // square, n = b²: every sub-block rank one
        { 9, 9, 3 },    // square, n = b², odd
        { 16, 16, 2 },  // square, b < √n: four 8×8 sub-blocks of rank 4
        { 16, 16, 8 },  // square, b > √n: only some sub-blocks reachable
        { 6, 6, 3 },    // square, q = 2 < l = 3: mixed ranks
        { 4, 4, 4 },    // b = n: a diagonal matrix
        { 12, 8, 2 },   // in < out
        { 16, 8, 4 },   // in < out, q < l
        { 8, 12, 2 },   // in > out
        { 8, 16, 4 },   // in > out, q < l
        { 20, 12, 4 },  // in < out, q = 3, l = 4
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void RecoversAMonarchMatrix(int outFeatures, int inFeatures, int blocks)
    {
        var shape = new Shape(outFeatures, inFeatures, blocks);
        var w = shape.Dense(ProjectionMath.Integers(shape.Length1, 3 + blocks), ProjectionMath.Integers(shape.Length2, 5 + outFeatures));
        var dense = ProjectionMath.ExactFloat(w);
        double norm = ProjectionMath.Norm(w);
        Assert.True(norm > 0);

        var (w1, w2, error) = Project(dense, shape);

        Assert.True(error <= 1e-10 * norm, $"error {error:E3} for ‖W‖ = {norm:G4}");
        double stored = ProjectionMath.Distance(w, shape.Dense(w1, w2));
        Assert.True(stored <= 1e-6 * norm, $"float32 factors reproduce W to {stored:E3} (‖W‖ = {norm:G4})");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ErrorIsTheDiscardedSpectrumOfEverySubBlock(int outFeatures, int inFeatures, int blocks)
    {
        var shape = new Shape(outFeatures, inFeatures, blocks);

        // The rank each sub-block can reach, measured on a generic Monarch matrix built by DenseMath.Monarch.
        var generic = shape.Dense(TestData.Uniform(shape.Length1, 31), TestData.Uniform(shape.Length2, 37));
        var reachable = new int[shape.L, shape.K];
        for (int ll = 0; ll < shape.L; ll++)
            for (int kk = 0; kk < shape.K; kk++)
                reachable[ll, kk] = ProjectionMath.Rank(SubBlock(generic, shape, ll, kk), shape.S, shape.P);
        // Sanity of the measurement: the middle dimension min(in, out) is shared out among the sub-blocks.
        Assert.Equal(Math.Min(inFeatures, outFeatures), reachable.Cast<int>().Sum());

        var dense = TestData.Uniform(outFeatures * inFeatures, 1000 + 10 * outFeatures + blocks);
        var w = DenseMath.FromFloat(dense);
        double normSquared = Math.Pow(ProjectionMath.Norm(w), 2);
        double discarded = 0;
        for (int ll = 0; ll < shape.L; ll++)
            for (int kk = 0; kk < shape.K; kk++)
                discarded += ProjectionMath.DiscardedSquared(SubBlock(w, shape, ll, kk), shape.S, shape.P, reachable[ll, kk]);

        var (w1, w2, error) = Project(dense, shape);

        Assert.True(discarded > 1e-3 * normSquared, "the case must discard something");
        Assert.True(Math.Abs(error * error - discarded) <= 1e-10 * normSquared,
            $"error² = {error * error:R}, Σ discarded σ² of the sub-blocks = {discarded:R}");
        double stored = ProjectionMath.Distance(w, shape.Dense(w1, w2));
        Assert.True(Math.Abs(stored - error) <= 1e-5 * error, $"returned {error:R}, float32 factors give {stored:R}");
    }

    [Theory]
    [InlineData(16, 16, 4)]
    [InlineData(16, 16, 2)]
    [InlineData(6, 6, 3)]
    [InlineData(12, 8, 2)]
    [InlineData(8, 12, 2)]
    [InlineData(16, 8, 4)]
    public void NoRandomOrPerturbedMonarchDoesBetter(int outFeatures, int inFeatures, int blocks)
    {
        var shape = new Shape(outFeatures, inFeatures, blocks);
        var dense = TestData.Uniform(outFeatures * inFeatures, 77 + outFeatures + blocks);
        var w = DenseMath.FromFloat(dense);
        double norm = ProjectionMath.Norm(w);
        var (w1, w2, error) = Project(dense, shape);
        double slack = 1e-12 * norm;
        var rng = new Random(99);

        for (int trial = 0; trial < 200; trial++)
        {
            double candidate = ProjectionMath.Distance(w, shape.Dense(TestData.Uniform(shape.Length1, 4000 + trial), TestData.Uniform(shape.Length2, 8000 + trial)));
            Assert.True(candidate >= error - slack, $"random candidate {trial}: {candidate:R} < {error:R}");
        }
        foreach (double scale in new[] { 1e-3, 1e-2, 1e-1 })
            for (int trial = 0; trial < 30; trial++)
            {
                // Perturb both factors, then each factor alone.
                var p1 = ProjectionMath.Perturb(w1, scale, rng);
                var p2 = ProjectionMath.Perturb(w2, scale, rng);
                foreach (var (c1, c2) in new[] { (p1, p2), (p1, w2), (w1, p2) })
                {
                    double candidate = ProjectionMath.Distance(w, shape.Dense(c1, c2));
                    Assert.True(candidate >= error - slack, $"perturbation {scale}: {candidate:R} < {error:R}");
                }
            }
    }

    [Fact]
    public void SquareRootCaseUsesTheTopSingularPairOfEverySubBlock()
    {
        // n = 16, b = 4: each 4×4 sub-block (ll, kk) is approximated by its top singular pair, so the projection's
        // sub-block has rank one and norm σ₁ of the input's sub-block.
        var shape = new Shape(16, 16, 4);
        var dense = TestData.Uniform(256, 2024);
        var w = DenseMath.FromFloat(dense);
        var (w1, w2, _) = Project(dense, shape);
        var projected = shape.Dense(w1, w2);
        for (int ll = 0; ll < 4; ll++)
            for (int kk = 0; kk < 4; kk++)
            {
                var sub = SubBlock(projected, shape, ll, kk);
                Assert.Equal(1, ProjectionMath.Rank(sub, 4, 4));
                double top = Math.Sqrt(ProjectionMath.SquaredSingularValues(SubBlock(w, shape, ll, kk), 4, 4)[0]);
                Assert.Equal(top, ProjectionMath.Norm(sub), 5);
            }
    }

    [Fact]
    public void IsDeterministic()
    {
        var shape = new Shape(12, 8, 2);
        var dense = TestData.Uniform(96, 5);
        var first = Project(dense, shape);
        var second = Project(dense, shape);
        Assert.Equal(first.W1, second.W1);
        Assert.Equal(first.W2, second.W2);
        Assert.Equal(first.Error, second.Error);
    }

    [Fact]
    public void ValidatesSizes()
    {
        // 12 -> 8 with b = 2: blkdiag1 [2, 4, 4] = 32, blkdiag2 [2, 6, 4] = 48.
        var dense = new float[96];
        Assert.Equal("dense", Assert.Throws<ArgumentException>(() => Projections.Monarch(new float[95], 12, 8, 2, new float[32], new float[48])).ParamName);
        Assert.Equal("blkdiag1", Assert.Throws<ArgumentException>(() => Projections.Monarch(dense, 12, 8, 2, new float[48], new float[48])).ParamName);
        Assert.Equal("blkdiag2", Assert.Throws<ArgumentException>(() => Projections.Monarch(dense, 12, 8, 2, new float[32], new float[32])).ParamName);
        Assert.Equal("outFeatures", Assert.Throws<ArgumentException>(() => Projections.Monarch(dense, 12, 8, 5, new float[32], new float[48])).ParamName);
        Assert.Equal("inFeatures", Assert.Throws<ArgumentException>(() => Projections.Monarch(dense, 12, 8, 3, new float[32], new float[48])).ParamName);
        Assert.Equal("blocks", Assert.Throws<ArgumentException>(() => Projections.Monarch(dense, 12, 8, 0, new float[32], new float[48])).ParamName);
    }
}
