using System;
using StructMat.Runtime.Init;
using Xunit;

namespace StructMat.Runtime.Tests;

public class InitializerTests
{
    [Theory]
    [InlineData(256, 1024, 1.0 / 16)]        // widening factor: 1/√fanIn
    [InlineData(1024, 256, 1.0 / 32 * 0.5)]  // narrowing factor: also × √(fanOut/fanIn)
    [InlineData(64, 64, 1.0 / 8)]
    public void MuPStandardDeviation_follows_per_factor_scaling(int fanIn, int fanOut, double expected)
    {
        Assert.Equal(expected, Initializers.MuPStandardDeviation(fanIn, fanOut), 15);
    }

    [Fact]
    public void MuPStandardDeviation_rejects_non_positive_fans()
    {
        Assert.Equal("fanIn", Assert.Throws<ArgumentException>(() => Initializers.MuPStandardDeviation(0, 4)).ParamName);
        Assert.Equal("fanOut", Assert.Throws<ArgumentException>(() => Initializers.MuPStandardDeviation(4, -1)).ParamName);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.02)]
    public void Normal_has_the_requested_mean_and_standard_deviation(double std)
    {
        // n = 200 000 draws. Standard errors: mean σ/√n ≈ 0.00224σ, sample std σ/√(2n) ≈ 0.00158σ, fraction within
        // one σ √(0.683·0.317/n) ≈ 0.00104. Five standard errors each: a false failure has odds below 1e-6.
        const int n = 200_000;
        var w = new float[n];
        Initializers.Normal(w, std, new Random(1234));

        double mean = 0;
        foreach (float v in w) mean += v;
        mean /= n;
        double variance = 0;
        int withinOneSigma = 0;
        foreach (float v in w)
        {
            variance += (v - mean) * (v - mean);
            if (Math.Abs(v) <= std) withinOneSigma++;
        }
        double sampleStd = Math.Sqrt(variance / (n - 1));

        Assert.InRange(mean, -5 * 0.00224 * std, 5 * 0.00224 * std);
        Assert.InRange(sampleStd, std * (1 - 5 * 0.00158), std * (1 + 5 * 0.00158));
        // The shape is normal, not merely the right spread (a uniform law gives 0.577 here).
        Assert.InRange((double)withinOneSigma / n, 0.6827 - 5 * 0.00104, 0.6827 + 5 * 0.00104);
    }

    [Fact]
    public void MuP_draws_normal_with_the_mup_standard_deviation()
    {
        var mup = new float[1001];
        var normal = new float[1001];
        Initializers.MuP(mup, 1024, 256, new Random(5));
        Initializers.Normal(normal, Initializers.MuPStandardDeviation(1024, 256), new Random(5));
        Assert.Equal(normal, mup);
        Assert.Contains(mup, v => v != 0f);
    }

    [Fact]
    public void Normal_is_deterministic_for_a_seed_and_fills_odd_lengths()
    {
        var a = new float[7];
        var b = new float[7];
        var c = new float[7];
        Initializers.Normal(a, 1.0, new Random(42));
        Initializers.Normal(b, 1.0, new Random(42));
        Initializers.Normal(c, 1.0, new Random(43));
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.All(a, v => Assert.NotEqual(0f, v));
    }

    [Fact]
    public void Normal_rejects_negative_or_non_finite_std()
    {
        Assert.Equal("std", Assert.Throws<ArgumentException>(() => Initializers.Normal(new float[2], -1, new Random(1))).ParamName);
        Assert.Equal("std", Assert.Throws<ArgumentException>(() => Initializers.Normal(new float[2], double.NaN, new Random(1))).ParamName);
    }

    [Fact]
    public void Zero_clears_every_element()
    {
        var w = TestData.Uniform(33, 1);
        Initializers.Zero(w);
        Assert.All(w, v => Assert.Equal(0f, v));
    }
}
