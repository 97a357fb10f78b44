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

    /// <summary>
    /// DoRA's magnitude: <paramref name="magnitude"/>[o] = ‖V_o‖ for <c>V = W0 + c·B A</c> (PEFT's
    /// <c>lora_magnitude_vector</c> at init), so <c>diag(m) · normalize(V)</c> starts equal to V. Call it again after
    /// loading a new base to restart from that base (a PEFT DoRA file carries its own magnitude).
    /// </summary>
    public static void RowNorms(Span<float> magnitude, ReadOnlySpan<float> w0, ReadOnlySpan<float> a, ReadOnlySpan<float> b, float c, int outFeatures, int inFeatures, int rank)
    {
        if (magnitude.Length < outFeatures) throw new ArgumentException($"magnitude has {magnitude.Length} elements, fewer than out = {outFeatures}.", nameof(magnitude));
        var norms = Kernels.NormalizeKernels.Norms(w0, a, b, c, outFeatures, inFeatures, rank);
        for (var o = 0; o < outFeatures; o++) magnitude[o] = (float)norms[o];
    }

    /// <summary>Sets every element to one (a diagonal factor that starts as the identity).</summary>
    public static void Ones(Span<float> w) => w.Fill(1f);

    /// <summary>
    /// A quantised base <c>[rows, cols]</c>: each row drawn as <see cref="MuP"/> draws a dense weight, then quantised
    /// (<see cref="Kernels.QuantizedKernels.QuantizeNf4"/>, <see cref="Kernels.QuantizedKernels.QuantizeInt8"/>); one row of
    /// floats at a time, never all of W.
    /// </summary>
    public static void Quantized(Span<byte> codes, Span<float> scales, Kernels.QuantFormat format, int rows, int cols, int group, int fanIn, int fanOut, Random rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var row = new float[cols];
        int codesPerRow = format == Kernels.QuantFormat.Nf4 ? cols / 2 : cols;
        int scalesPerRow = format == Kernels.QuantFormat.Nf4 ? cols / group : 1;
        for (int r = 0; r < rows; r++)
        {
            MuP(row, fanIn, fanOut, rng);
            var rowCodes = codes.Slice(r * codesPerRow, codesPerRow);
            var rowScales = scales.Slice(r * scalesPerRow, scalesPerRow);
            if (format == Kernels.QuantFormat.Nf4) Kernels.QuantizedKernels.QuantizeNf4(row, 1, cols, group, rowCodes, rowScales);
            else Kernels.QuantizedKernels.QuantizeInt8(row, 1, cols, rowCodes, rowScales);
        }
    }

    /// <summary>
    /// PEFT HRA's symmetric initialisation of <c>hra_u [n, r]</c> (row-major, column <c>i</c> = <c>u_i</c>), written to
    /// the first <c>n·r</c> elements of <paramref name="u"/>:
    /// <list type="bullet">
    /// <item>even <paramref name="r"/>: a <c>[n, r/2]</c> tensor is drawn uniform in <c>[−bound, bound)</c> with
    /// <c>bound = 1/√(r/2)</c> (<c>kaiming_uniform_(a=√5)</c>: fan_in of a 2-D <c>[rows, cols]</c> tensor is
    /// <c>cols</c>, and gain <c>√(2/(1+5))</c> times <c>√(3/fan_in)</c> is <c>1/√fan_in</c>), and each drawn column is
    /// written twice side by side (<c>torch.repeat_interleave(half, 2, dim=1)</c>: columns <c>2i</c> and <c>2i+1</c>
    /// are equal). Equal neighbours give <c>H_{2i+1} H_{2i+2} = I</c>, so <c>H = I</c> exactly in exact arithmetic.</item>
    /// <item>odd <paramref name="r"/>: the symmetric trick is impossible (PEFT warns); all <c>[n, r]</c> values are
    /// drawn independently with <c>bound = 1/√r</c>, and <c>H</c> is then NOT the identity.</item>
    /// </list>
    /// Values are drawn in row-major order of the drawn tensor from <paramref name="rng"/>; the distribution matches
    /// PyTorch's, the individual numbers do not (a different generator).
    /// </summary>
    public static void HouseholderIdentity(Span<float> u, int n, int r, Random rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        if (n <= 0) throw new ArgumentException($"{nameof(n)} must be positive, got {n}.", nameof(n));
        if (r <= 0) throw new ArgumentException($"{nameof(r)} must be positive, got {r}.", nameof(r));
        long size = (long)n * r;
        if (u.Length < size)
            throw new ArgumentException($"{nameof(u)} has {u.Length} elements but n * r = {size} are required.", nameof(u));

        if (r % 2 == 0)
        {
            int half = r / 2;
            double bound = 1.0 / Math.Sqrt(half);
            for (int k = 0; k < n; k++)
                for (int c = 0; c < half; c++)
                {
                    float v = (float)((2.0 * rng.NextDouble() - 1.0) * bound);
                    u[k * r + 2 * c] = v;
                    u[k * r + 2 * c + 1] = v;
                }
        }
        else
        {
            double bound = 1.0 / Math.Sqrt(r);
            for (int k = 0; k < (int)size; k++) u[k] = (float)((2.0 * rng.NextDouble() - 1.0) * bound);
        }
    }
}
