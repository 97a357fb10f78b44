using System;
using StructMat.Runtime.Init;
using StructMat.Runtime.Kernels;
using StructMat.Runtime.Oracle;
using Xunit;

namespace StructMat.Runtime.Tests;

/// <summary>
/// HouseholderKernels against the dense float64 oracle <see cref="DenseMath.Householder"/> (explicit n×n products)
/// and, for the gradient, against central finite differences of that oracle.
/// </summary>
public class HouseholderKernelTests
{
    /// <summary>Random <c>[n, r]</c> weights, quantised to multiples of 2⁻¹² so that finite-difference steps are exact in float32.</summary>
    private static float[] QuantisedU(int n, int r, int seed)
    {
        var u = TestData.Uniform(n * r, seed);
        for (int k = 0; k < u.Length; k++) u[k] = MathF.Round(u[k] * 4096f) / 4096f;
        return u;
    }

    /// <summary><c>out[b] = (acc ? old[b] : 0) + M x[b]</c> (or <c>Mᵀ x[b]</c>) in float64, with the Σ|terms| bound.</summary>
    private static (double[] Expected, double[] Bound) DenseApply(double[] m, float[] x, float[] old, int batch, int n, bool accumulate, bool transposed)
    {
        var expected = new double[batch * n];
        var bound = new double[batch * n];
        for (int b = 0; b < batch; b++)
            for (int j = 0; j < n; j++)
            {
                double start = accumulate ? old[b * n + j] : 0;
                double sum = start, abs = Math.Abs(start);
                for (int k = 0; k < n; k++)
                {
                    double entry = transposed ? m[k * n + j] : m[j * n + k];
                    sum += entry * x[b * n + k];
                    abs += Math.Abs(entry * x[b * n + k]);
                }
                expected[b * n + j] = sum;
                bound[b * n + j] = abs;
            }
        return (expected, bound);
    }

    [Theory]
    [InlineData(0, 12, 5, false)]
    [InlineData(1, 12, 5, false)]
    [InlineData(3, 12, 5, true)]
    [InlineData(5, 12, 12, false)]   // r = n
    [InlineData(2, 7, 1, true)]
    [InlineData(4, 12, 0, false)]    // no reflections: H = I
    [InlineData(4, 12, 0, true)]
    [InlineData(300, 40, 9, true)]   // large enough for the multi-threaded path
    public void Apply_matches_the_dense_product(int batch, int n, int r, bool accumulate)
    {
        var u = TestData.Uniform(n * r, 100 + n + r);
        var x = TestData.Uniform(batch * n, 200 + batch);
        var y = accumulate ? TestData.Uniform(batch * n, 300) : TestData.Filled(batch * n, float.NaN);
        var h = DenseMath.Householder(u, n, r);
        var (expected, bound) = DenseApply(h, x, y, batch, n, accumulate, transposed: false);

        HouseholderKernels.Apply(x, y, u, batch, n, r, accumulate);

        TestData.AssertWithinRoundoff(expected, bound, y, 1);
    }

    [Theory]
    [InlineData(0, 12, 5, false)]
    [InlineData(1, 12, 5, true)]
    [InlineData(3, 12, 5, false)]
    [InlineData(5, 12, 12, true)]
    [InlineData(300, 40, 9, false)]
    public void ApplyTransposed_matches_the_dense_transposed_product(int batch, int n, int r, bool accumulate)
    {
        var u = TestData.Uniform(n * r, 400 + n + r);
        var dy = TestData.Uniform(batch * n, 500 + batch);
        var dx = accumulate ? TestData.Uniform(batch * n, 600) : TestData.Filled(batch * n, float.NaN);
        var h = DenseMath.Householder(u, n, r);
        var (expected, bound) = DenseApply(h, dy, dx, batch, n, accumulate, transposed: true);

        HouseholderKernels.ApplyTransposed(dy, dx, u, batch, n, r, accumulate);

        TestData.AssertWithinRoundoff(expected, bound, dx, 1);
    }

    [Fact]
    public void Apply_preserves_the_norm_and_ApplyTransposed_undoes_it()
    {
        const int batch = 6, n = 50, r = 20;
        var u = TestData.Uniform(n * r, 7);
        var x = TestData.Uniform(batch * n, 8);
        var y = new float[batch * n];
        var back = new float[batch * n];
        HouseholderKernels.Apply(x, y, u, batch, n, r, accumulate: false);
        HouseholderKernels.ApplyTransposed(y, back, u, batch, n, r, accumulate: false);
        for (int b = 0; b < batch; b++)
        {
            double xx = 0, yy = 0, moved = 0;
            for (int k = 0; k < n; k++)
            {
                xx += (double)x[b * n + k] * x[b * n + k];
                yy += (double)y[b * n + k] * y[b * n + k];
                moved += Math.Abs(y[b * n + k] - x[b * n + k]);
                Assert.True(Math.Abs(back[b * n + k] - x[b * n + k]) <= 1e-6, $"round trip differs at {b},{k}");
            }
            Assert.True(Math.Abs(Math.Sqrt(yy) - Math.Sqrt(xx)) <= 1e-6 * Math.Sqrt(xx), $"row {b}: ‖Hx‖ = {Math.Sqrt(yy)}, ‖x‖ = {Math.Sqrt(xx)}");
            Assert.True(moved > 0.1, "H should not be the identity here");
        }
    }

    [Fact]
    public void A_zero_column_is_the_identity_reflection()
    {
        const int batch = 4, n = 9, r = 4, zero = 2;
        var u = TestData.Uniform(n * r, 9);
        for (int k = 0; k < n; k++) u[k * r + zero] = 0f;
        // The same product with the zero column removed.
        var reduced = new float[n * (r - 1)];
        for (int k = 0; k < n; k++)
            for (int i = 0, c = 0; i < r; i++)
                if (i != zero) reduced[k * (r - 1) + c++] = u[k * r + i];
        var h = DenseMath.Householder(reduced, n, r - 1);
        var x = TestData.Uniform(batch * n, 10);
        var y = new float[batch * n];
        var (expected, bound) = DenseApply(h, x, y, batch, n, false, false);

        HouseholderKernels.Apply(x, y, u, batch, n, r, accumulate: false);
        TestData.AssertWithinRoundoff(expected, bound, y, 1);

        var dx = new float[batch * n];
        (expected, bound) = DenseApply(h, x, dx, batch, n, false, true);
        HouseholderKernels.ApplyTransposed(x, dx, u, batch, n, r, accumulate: false);
        TestData.AssertWithinRoundoff(expected, bound, dx, 1);

        // Its gradient is zero: du keeps its old values in that column.
        var dy = TestData.Uniform(batch * n, 11);
        var du = TestData.Uniform(n * r, 12);
        var before = (float[])du.Clone();
        HouseholderKernels.Gradient(x, dy, u, du, batch, n, r);
        for (int k = 0; k < n; k++) Assert.Equal(before[k * r + zero], du[k * r + zero]);
        Assert.NotEqual(before, du);
    }

    /// <summary><c>L(u) = Σ_b dy[b]ᵀ H(u) x[b]</c> with the dense oracle.</summary>
    private static double Loss(float[] u, float[] x, float[] dy, int batch, int n, int r)
    {
        var h = DenseMath.Householder(u, n, r);
        double loss = 0;
        for (int b = 0; b < batch; b++)
            for (int j = 0; j < n; j++)
            {
                double hx = 0;
                for (int k = 0; k < n; k++) hx += h[j * n + k] * x[b * n + k];
                loss += dy[b * n + j] * hx;
            }
        return loss;
    }

    [Theory]
    [InlineData(1, 12, 5)]
    [InlineData(3, 12, 5)]
    [InlineData(2, 12, 12)]   // r = n
    [InlineData(4, 6, 1)]
    [InlineData(200, 16, 6)]  // large enough for the chunked multi-threaded gradient
    public void Gradient_matches_central_finite_differences(int batch, int n, int r)
    {
        var u = QuantisedU(n, r, 700 + n + r);
        var x = TestData.Uniform(batch * n, 800 + batch);
        var dy = TestData.Uniform(batch * n, 900 + batch);
        var du = TestData.Uniform(n * r, 1000); // the kernel accumulates into it
        var old = (float[])du.Clone();

        HouseholderKernels.Gradient(x, dy, u, du, batch, n, r);

        // u entries are multiples of 2⁻¹² in [−1, 1], so u ± 2⁻¹⁴ is exact in float32: a true central difference.
        const float step = 1f / (1 << 14);
        var fd = new double[n * r];
        double scale = 0;
        for (int k = 0; k < n * r; k++)
        {
            var up = (float[])u.Clone();
            var down = (float[])u.Clone();
            up[k] += step;
            down[k] -= step;
            fd[k] = (Loss(up, x, dy, batch, n, r) - Loss(down, x, dy, batch, n, r)) / (2.0 * step);
            scale = Math.Max(scale, Math.Abs(fd[k]));
        }
        Assert.True(scale > 1e-3, "the finite-difference gradient should not vanish");
        for (int k = 0; k < n * r; k++)
        {
            double kernel = (double)du[k] - old[k];
            double tolerance = 2e-5 * scale + 1e-6 * Math.Abs(old[k]);
            Assert.True(Math.Abs(kernel - fd[k]) <= tolerance, $"u[{k / r}, {k % r}]: kernel {kernel:R}, finite difference {fd[k]:R}");
        }
    }

    [Fact]
    public void Gradient_is_deterministic_on_the_threaded_path_and_empty_batches_add_nothing()
    {
        const int batch = 257, n = 33, r = 7;
        var u = TestData.Uniform(n * r, 1);
        var x = TestData.Uniform(batch * n, 2);
        var dy = TestData.Uniform(batch * n, 3);
        var first = new float[n * r];
        var second = new float[n * r];
        HouseholderKernels.Gradient(x, dy, u, first, batch, n, r);
        HouseholderKernels.Gradient(x, dy, u, second, batch, n, r);
        Assert.Equal(first, second);
        Assert.Contains(first, v => v != 0f);

        var untouched = TestData.Uniform(n * r, 4);
        var copy = (float[])untouched.Clone();
        HouseholderKernels.Gradient([], [], u, untouched, 0, n, r);
        Assert.Equal(copy, untouched);
    }

    [Fact]
    public void Householder_kernels_reject_bad_arguments_naming_them()
    {
        const int batch = 2, n = 5, r = 3;
        var x = new float[batch * n];
        var y = new float[batch * n];
        var u = TestData.Uniform(n * r, 5);
        var du = new float[n * r];
        void Names(string parameter, Action action) => Assert.Equal(parameter, Assert.Throws<ArgumentException>(action).ParamName);

        Names("batch", () => HouseholderKernels.Apply(x, y, u, -1, n, r, false));
        Names("n", () => HouseholderKernels.Apply(x, y, u, batch, -1, r, false));
        Names("r", () => HouseholderKernels.Apply(x, y, u, batch, n, -1, false));
        Names("x", () => HouseholderKernels.Apply(x.AsSpan(1), y, u, batch, n, r, false));
        Names("y", () => HouseholderKernels.Apply(x, y.AsSpan(1), u, batch, n, r, false));
        Names("u", () => HouseholderKernels.Apply(x, y, u.AsSpan(1), batch, n, r, false));
        Names("y", () => HouseholderKernels.Apply(x, x, u, batch, n, r, false));
        var shared = new float[40];
        Names("y", () => HouseholderKernels.Apply(x, shared.AsSpan(0, 10), shared.AsSpan(5, 15), batch, n, r, false));

        Names("dy", () => HouseholderKernels.ApplyTransposed(x.AsSpan(1), y, u, batch, n, r, false));
        Names("dx", () => HouseholderKernels.ApplyTransposed(x, y.AsSpan(1), u, batch, n, r, false));
        Names("dx", () => HouseholderKernels.ApplyTransposed(x, x, u, batch, n, r, false));

        Names("x", () => HouseholderKernels.Gradient(x.AsSpan(1), y, u, du, batch, n, r));
        Names("dy", () => HouseholderKernels.Gradient(x, y.AsSpan(1), u, du, batch, n, r));
        Names("u", () => HouseholderKernels.Gradient(x, y, u.AsSpan(1), du, batch, n, r));
        Names("du", () => HouseholderKernels.Gradient(x, y, u, du.AsSpan(1), batch, n, r));
        Names("du", () => HouseholderKernels.Gradient(x, y, u, u, batch, n, r));
        Names("r", () => HouseholderKernels.Gradient(x, y, u, du, batch, 1 << 16, 1 << 16));
    }

    [Theory]
    [InlineData(12, 6)]
    [InlineData(64, 8)]
    [InlineData(5, 2)]
    public void HouseholderIdentity_with_even_r_gives_the_identity(int n, int r)
    {
        var u = new float[n * r];
        Initializers.HouseholderIdentity(u, n, r, new Random(n * r));
        for (int k = 0; k < n; k++)
            for (int c = 0; c < r / 2; c++)
                Assert.Equal(u[k * r + 2 * c], u[k * r + 2 * c + 1]);
        double bound = 1.0 / Math.Sqrt(r / 2);
        Assert.All(u, v => Assert.True(Math.Abs(v) <= bound, $"{v} exceeds ±{bound}"));
        Assert.Contains(u, v => v != u[0]);

        var h = DenseMath.Householder(u, n, r);
        for (int a = 0; a < n; a++)
            for (int b = 0; b < n; b++)
                Assert.True(Math.Abs(h[a * n + b] - (a == b ? 1.0 : 0.0)) <= 1e-6, $"H[{a},{b}] = {h[a * n + b]}");
    }

    [Fact]
    public void HouseholderIdentity_draws_kaiming_uniform_bounds_and_odd_r_is_not_the_identity()
    {
        // Even r = 4: fan_in = 2, bound = 1/√2; 2000 × 2 draws reach beyond 0.95 · bound with certainty in practice
        // (probability that none does: 0.95^4000 ≈ 1e-89).
        const int n = 2000;
        var u = new float[n * 4];
        Initializers.HouseholderIdentity(u, n, 4, new Random(3));
        double max = 0;
        foreach (float v in u) max = Math.Max(max, Math.Abs(v));
        Assert.InRange(max, 0.95 / Math.Sqrt(2), 1 / Math.Sqrt(2));

        // Odd r = 3: all columns independent with bound 1/√3, so H ≠ I.
        const int m = 10;
        var odd = new float[m * 3];
        Initializers.HouseholderIdentity(odd, m, 3, new Random(4));
        Assert.All(odd, v => Assert.True(Math.Abs(v) <= 1 / Math.Sqrt(3)));
        Assert.NotEqual(odd[0], odd[1]);
        var h = DenseMath.Householder(odd, m, 3);
        double offIdentity = 0;
        for (int a = 0; a < m; a++)
            for (int b = 0; b < m; b++)
                offIdentity = Math.Max(offIdentity, Math.Abs(h[a * m + b] - (a == b ? 1.0 : 0.0)));
        Assert.True(offIdentity > 0.1);

        // Seeded: the same generator state gives the same weights.
        var again = new float[m * 3];
        Initializers.HouseholderIdentity(again, m, 3, new Random(4));
        Assert.Equal(odd, again);
    }

    [Fact]
    public void HouseholderIdentity_and_Ones_validate_and_fill()
    {
        Assert.Equal("n", Assert.Throws<ArgumentException>(() => Initializers.HouseholderIdentity(new float[4], 0, 2, new Random(1))).ParamName);
        Assert.Equal("r", Assert.Throws<ArgumentException>(() => Initializers.HouseholderIdentity(new float[4], 2, 0, new Random(1))).ParamName);
        Assert.Equal("u", Assert.Throws<ArgumentException>(() => Initializers.HouseholderIdentity(new float[3], 2, 2, new Random(1))).ParamName);
        Assert.Throws<ArgumentNullException>(() => Initializers.HouseholderIdentity(new float[4], 2, 2, null!));

        var w = TestData.Filled(7, -3f);
        Initializers.Ones(w);
        Assert.All(w, v => Assert.Equal(1f, v));
    }
}
