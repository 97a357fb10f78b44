using System;
using StructMat.Runtime.Kernels;
using Xunit;

namespace StructMat.Runtime.Tests;

/// <summary>Random inputs and the float32-vs-float64 comparison every kernel test uses.</summary>
internal static class TestData
{
    /// <summary>Unit roundoff of float32.</summary>
    public const double Float32Roundoff = 1.0 / (1 << 24);

    public static float[] Uniform(int length, int seed)
    {
        var rng = new Random(seed);
        var values = new float[length];
        for (int k = 0; k < length; k++) values[k] = (float)(2 * rng.NextDouble() - 1);
        return values;
    }

    public static float[] Filled(int length, float value)
    {
        var values = new float[length];
        Array.Fill(values, value);
        return values;
    }

    public static int Index(BlockLayout layout, int groups, int blockSize, int g, int i)
        => layout == BlockLayout.Contiguous ? g * blockSize + i : i * groups + g;

    /// <summary>
    /// Asserts |actual − expected| ≤ (terms + 20)·u·bound for every element: the classical worst-case bound
    /// for a float32 sum of <paramref name="terms"/> products (FMA chains plus a ≤ 16-lane horizontal sum,
    /// the final scaling and the accumulate add), where <paramref name="bound"/> is Σ|terms| in float64.
    /// A wrong index or a missing term produces errors of order one, far above it.
    /// </summary>
    public static void AssertWithinRoundoff(double[] expected, double[] bound, ReadOnlySpan<float> actual, int terms)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int k = 0; k < expected.Length; k++)
        {
            double tolerance = (terms + 20) * Float32Roundoff * bound[k] + 1e-30;
            double error = Math.Abs(actual[k] - expected[k]);
            if (!(error <= tolerance))
                Assert.Fail($"Element {k}: expected {expected[k]:R}, got {actual[k]:R} (error {error:E3} > tolerance {tolerance:E3}).");
        }
    }
}
