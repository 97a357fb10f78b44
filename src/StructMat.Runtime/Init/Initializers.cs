using System;

namespace StructMat.Runtime.Init;

/// <summary>
/// Weight initialisers. Every factor of a structured layer is drawn with µP-style per-factor scaling
/// ("Compute Better Spent", Qiu et al. 2024): a factor mapping <c>fanIn</c> features to <c>fanOut</c> gets
/// standard deviation <c>(1/√fanIn) · min(1, √(fanOut/fanIn))</c>. All draws come from the given
/// <see cref="Random"/>, so a seeded generator reproduces the same weights.
/// </summary>
public static class Initializers
{
    /// <summary><c>(1/√fanIn) · min(1, √(fanOut/fanIn))</c>.</summary>
    public static double MuPStandardDeviation(int fanIn, int fanOut)
    {
        if (fanIn <= 0) throw new ArgumentException($"{nameof(fanIn)} must be positive, got {fanIn}.", nameof(fanIn));
        if (fanOut <= 0) throw new ArgumentException($"{nameof(fanOut)} must be positive, got {fanOut}.", nameof(fanOut));
        return 1.0 / Math.Sqrt(fanIn) * Math.Min(1.0, Math.Sqrt((double)fanOut / fanIn));
    }

    /// <summary>Fills <paramref name="w"/> from normal(0, <see cref="MuPStandardDeviation"/>).</summary>
    public static void MuP(Span<float> w, int fanIn, int fanOut, Random rng)
        => Normal(w, MuPStandardDeviation(fanIn, fanOut), rng);

    /// <summary>Fills <paramref name="w"/> from normal(0, <paramref name="std"/>) by the Box–Muller transform.</summary>
    public static void Normal(Span<float> w, double std, Random rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        if (!(std >= 0) || double.IsInfinity(std))
            throw new ArgumentException($"{nameof(std)} must be finite and non-negative, got {std}.", nameof(std));
        for (int k = 0; k < w.Length; k += 2)
        {
            // 1 - NextDouble() lies in (0, 1], so the logarithm is finite.
            double radius = Math.Sqrt(-2.0 * Math.Log(1.0 - rng.NextDouble()));
            double angle = 2.0 * Math.PI * rng.NextDouble();
            w[k] = (float)(std * radius * Math.Cos(angle));
            if (k + 1 < w.Length) w[k + 1] = (float)(std * radius * Math.Sin(angle));
        }
    }

    /// <summary>Sets every element to zero (LoRA's <c>B</c>, biases).</summary>
    public static void Zero(Span<float> w) => w.Clear();
}
