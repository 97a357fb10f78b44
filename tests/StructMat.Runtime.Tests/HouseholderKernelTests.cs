using System;
using StructMat.Runtime.Init;
using StructMat.Runtime.Kernels;
using StructMat.Runtime.Oracle;
using Xunit;

namespace StructMat.Runtime.Tests;

/// <summary>
/// HouseholderKernels against the dense float64 oracle <see cref="DenseMath.Householder"/> (explicit n×n products)
/// and, for the gradient, against central finite differences of that oracle; at realistic sizes (n = 256, 300 with
/// r = 32 and 1) against a reflection-by-reflection float64 oracle and a per-reflection float64 gradient, within
/// first-order float32 error bounds propagated through the kernels' compact WY evaluation.
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

    // ---- Realistic sizes (the blocked compact-WY path) against an oracle independent of it ----

    /// <summary>
    /// <c>H x[b]</c> (or <c>Hᵀ x[b]</c>) in float64, one reflection at a time and independent of the kernels' WY form:
    /// <c>z ← z − 2 (u_iᵀ z / ‖u_i‖²) u_i</c> for <c>i = r … 1</c> (<c>1 … r</c> transposed); zero columns are skipped.
    /// </summary>
    private static double[] ReflectRows(float[] u, float[] x, int batch, int n, int r, bool transposed)
    {
        var normSquared = new double[r];
        for (int i = 0; i < r; i++)
            for (int k = 0; k < n; k++) normSquared[i] += (double)u[k * r + i] * u[k * r + i];
        var result = new double[batch * n];
        var z = new double[n];
        for (int b = 0; b < batch; b++)
        {
            for (int k = 0; k < n; k++) z[k] = x[b * n + k];
            for (int s = 0; s < r; s++)
            {
                int i = transposed ? s : r - 1 - s;
                if (normSquared[i] == 0) continue;
                double dot = 0;
                for (int k = 0; k < n; k++) dot += u[k * r + i] * z[k];
                double factor = 2 * dot / normSquared[i];
                for (int k = 0; k < n; k++) z[k] -= factor * u[k * r + i];
            }
            Array.Copy(z, 0, result, b * n, n);
        }
        return result;
    }

    /// <summary>
    /// The unit directions <c>Û [n, r]</c> (zero columns stay zero) and the WY factor <c>T [r, r]</c> of <c>H = I − Û T Ûᵀ</c>
    /// in float64 (Schreiber–Van Loan; a zero column has a zero row and column). Only the error bounds use these.
    /// </summary>
    private static (double[] Directions, double[] T) WyFactors(float[] u, int n, int r)
    {
        var d = new double[n * r];
        for (int i = 0; i < r; i++)
        {
            double norm = 0;
            for (int k = 0; k < n; k++) norm += (double)u[k * r + i] * u[k * r + i];
            norm = Math.Sqrt(norm);
            if (norm > 0)
                for (int k = 0; k < n; k++) d[k * r + i] = u[k * r + i] / norm;
        }
        var t = new double[r * r];
        for (int j = 0; j < r; j++)
        {
            bool zero = true;
            for (int k = 0; k < n && zero; k++) zero = d[k * r + j] == 0;
            if (zero) continue;
            var overlap = new double[j];
            for (int m = 0; m < j; m++)
                for (int k = 0; k < n; k++) overlap[m] += d[k * r + m] * d[k * r + j];
            for (int i = 0; i < j; i++)
            {
                double sum = 0;
                for (int m = i; m < j; m++) sum += t[i * r + m] * overlap[m];
                t[i * r + j] = -2 * sum;
            }
            t[j * r + j] = 2;
        }
        return (d, t);
    }

    /// <summary>
    /// Per element, Σ|terms| of the kernels' float32 evaluation <c>out = old + x − Û (T (Ûᵀ x))</c> (<c>Tᵀ</c> transposed):
    /// <c>|old| + |x| + |Û| |T| |Û|ᵀ |x|</c>. The three products have depths <c>n</c>, <c>r</c> and <c>r</c> (plus the rounding
    /// of Û and T), so to first order the error is at most <c>(n + 2r + 20)·u</c> times this; see
    /// <see cref="TestData.AssertWithinRoundoff"/>.
    /// </summary>
    private static double[] WyBound(float[] u, float[] x, float[]? old, int batch, int n, int r, bool transposed)
    {
        var (d, t) = WyFactors(u, n, r);
        var bound = new double[batch * n];
        var s = new double[r];
        var w = new double[r];
        for (int b = 0; b < batch; b++)
        {
            Array.Clear(s);
            for (int k = 0; k < n; k++)
                for (int i = 0; i < r; i++) s[i] += Math.Abs(d[k * r + i] * x[b * n + k]);
            for (int i = 0; i < r; i++)
            {
                w[i] = 0;
                for (int j = 0; j < r; j++) w[i] += Math.Abs(transposed ? t[j * r + i] : t[i * r + j]) * s[j];
            }
            for (int k = 0; k < n; k++)
            {
                double sum = Math.Abs(x[b * n + k]) + (old is null ? 0 : Math.Abs(old[b * n + k]));
                for (int i = 0; i < r; i++) sum += Math.Abs(d[k * r + i]) * w[i];
                bound[b * n + k] = sum;
            }
        }
        return bound;
    }

    [Theory]
    [InlineData(1, 256, 32, false, false)]
    [InlineData(67, 256, 32, false, true)]
    [InlineData(67, 300, 32, true, false)]
    [InlineData(1, 300, 32, true, true)]
    [InlineData(1, 300, 1, false, false)]
    [InlineData(67, 300, 1, true, false)]
    [InlineData(67, 256, 1, false, true)]
    public void Large_chains_match_reflection_by_reflection(int batch, int n, int r, bool transposed, bool accumulate)
    {
        var u = TestData.Uniform(n * r, 1100 + n + r);
        var x = TestData.Uniform(batch * n, 1200 + batch);
        var y = accumulate ? TestData.Uniform(batch * n, 1300) : TestData.Filled(batch * n, float.NaN);
        var old = accumulate ? (float[])y.Clone() : null;
        var expected = ReflectRows(u, x, batch, n, r, transposed);
        if (old is not null)
            for (int k = 0; k < expected.Length; k++) expected[k] += old[k];
        var bound = WyBound(u, x, old, batch, n, r, transposed);

        if (transposed) HouseholderKernels.ApplyTransposed(x, y, u, batch, n, r, accumulate);
        else HouseholderKernels.Apply(x, y, u, batch, n, r, accumulate);

        TestData.AssertWithinRoundoff(expected, bound, y, n + 2 * r);
        var error = new double[expected.Length];
        var tolerance = new double[expected.Length];
        for (int k = 0; k < expected.Length; k++)
        {
            error[k] = y[k] - expected[k];
            tolerance[k] = (n + 2 * r + 20) * TestData.Float32Roundoff * bound[k];
        }
        AssertRoundoffInAggregate(error, tolerance, r);
    }

    /// <summary>
    /// The per-element tolerances are first-order worst cases, <c>m·u·Σ|terms|</c> for sums of depth <c>m</c>; an error
    /// of that size everywhere would be a systematic mistake (a slightly wrong <c>T</c>, say), not roundoff. Under the
    /// probabilistic model of rounding (independent, mean-zero errors; Higham and Mary 2019) a depth-<c>m</c> sum errs like
    /// <c>√m·u·Σ|terms|</c>, and every depth here is at least <c>r + 20</c> (the <c>+ 20</c> of the worst-case factors), so
    /// <c>m / √(r + 20) ≥ √m</c>: in the root-mean-square the errors must stay below the tolerances divided by <c>√(r + 20)</c>.
    /// </summary>
    private static void AssertRoundoffInAggregate(double[] error, double[] tolerance, int r)
    {
        double errorSquares = 0, toleranceSquares = 0;
        for (int k = 0; k < error.Length; k++)
        {
            errorSquares += error[k] * error[k];
            toleranceSquares += tolerance[k] * tolerance[k];
        }
        double limit = Math.Sqrt(toleranceSquares / (r + 20));
        Assert.True(Math.Sqrt(errorSquares) <= limit, $"‖error‖ = {Math.Sqrt(errorSquares):E3} exceeds the aggregate roundoff bound {limit:E3}");
    }

    [Fact]
    public void Large_chains_with_zero_columns_are_the_chains_without_them()
    {
        const int batch = 67, n = 300, r = 32;
        int[] zeros = [0, 7, 8, 31];
        var u = QuantisedU(n, r, 1400);
        foreach (int i in zeros)
            for (int k = 0; k < n; k++) u[k * r + i] = 0f;
        int kept = r - zeros.Length;
        var reduced = new float[n * kept];
        for (int k = 0; k < n; k++)
            for (int i = 0, c = 0; i < r; i++)
                if (Array.IndexOf(zeros, i) < 0) reduced[k * kept + c++] = u[k * r + i];
        var x = TestData.Uniform(batch * n, 1401);
        var dy = TestData.Uniform(batch * n, 1402);

        foreach (bool transposed in new[] { false, true })
        {
            var y = new float[batch * n];
            if (transposed) HouseholderKernels.ApplyTransposed(x, y, u, batch, n, r, accumulate: false);
            else HouseholderKernels.Apply(x, y, u, batch, n, r, accumulate: false);
            TestData.AssertWithinRoundoff(ReflectRows(reduced, x, batch, n, kept, transposed), WyBound(reduced, x, null, batch, n, kept, transposed), y, n + 2 * r);
        }

        // The zero columns keep their old gradient exactly; the others are the reduced chain's gradient.
        var du = TestData.Uniform(n * r, 1403);
        var old = (float[])du.Clone();
        HouseholderKernels.Gradient(x, dy, u, du, batch, n, r);
        var reducedDu = new float[n * kept];
        HouseholderKernels.Gradient(x, dy, reduced, reducedDu, batch, n, kept);
        var (expected, tolerance) = GradientOracle(reduced, x, dy, batch, n, kept);
        for (int k = 0; k < n; k++)
            for (int i = 0, c = 0; i < r; i++)
            {
                if (Array.IndexOf(zeros, i) >= 0)
                {
                    Assert.Equal(old[k * r + i], du[k * r + i]);
                    continue;
                }
                double kernel = (double)du[k * r + i] - old[k * r + i];
                double e = expected[k * kept + c], tol = tolerance[k * kept + c] + TestData.Float32Roundoff * Math.Abs(du[k * r + i]);
                Assert.True(Math.Abs(kernel - e) <= tol, $"u[{k}, {i}]: kernel {kernel:R}, oracle {e:R}, tolerance {tol:E3}");
                // The zero columns change nothing else: the same as the reduced chain, up to the rounding of du.
                double same = 4 * TestData.Float32Roundoff * (Math.Abs(old[k * r + i]) + Math.Abs(du[k * r + i]));
                Assert.True(Math.Abs(reducedDu[k * kept + c] - kernel) <= same, $"u[{k}, {i}]: {kernel:R} vs the reduced chain's {reducedDu[k * kept + c]:R}");
                c++;
            }
    }

    /// <summary>
    /// ∂L/∂u for <c>L = Σ_b dy[b]ᵀ H x[b]</c> in float64 by the per-reflection formula (independent of the WY form):
    /// <c>z_{r+1} = x</c>, <c>z_i = H_i z_{i+1}</c>, <c>g_1 = dy</c>, <c>g_{i+1} = H_i g_i</c>,
    /// <c>∂L/∂û_i = −2 Σ_b [(û_iᵀ z_{i+1}) g_i + (û_iᵀ g_i) z_{i+1}]</c>, <c>∂L/∂u_i = (I − û_i û_iᵀ) ∂L/∂û_i / ‖u_i‖</c>;
    /// with a first-order worst-case bound on the kernel's float32 error, propagated through its WY evaluation (see the body).
    /// </summary>
    private static (double[] Gradient, double[] Tolerance) GradientOracle(float[] u, float[] x, float[] dy, int batch, int n, int r)
    {
        var (d, t) = WyFactors(u, n, r);
        var gradHat = new double[n * r];
        var z = new double[(r + 1) * n]; // z_{i+1} at row i (0-based: z[i] = H_{i+1} … H_r x), z[r] = x
        var g = new double[n];
        for (int b = 0; b < batch; b++)
        {
            for (int k = 0; k < n; k++) z[r * n + k] = x[b * n + k];
            for (int i = r - 1; i >= 0; i--)
            {
                double dot = 0;
                for (int k = 0; k < n; k++) dot += d[k * r + i] * z[(i + 1) * n + k];
                for (int k = 0; k < n; k++) z[i * n + k] = z[(i + 1) * n + k] - 2 * dot * d[k * r + i];
            }
            for (int k = 0; k < n; k++) g[k] = dy[b * n + k];
            for (int i = 0; i < r; i++)
            {
                double zDot = 0, gDot = 0;
                for (int k = 0; k < n; k++)
                {
                    zDot += d[k * r + i] * z[(i + 1) * n + k];
                    gDot += d[k * r + i] * g[k];
                }
                for (int k = 0; k < n; k++) gradHat[k * r + i] += -2 * (zDot * g[k] + gDot * z[(i + 1) * n + k]);
                for (int k = 0; k < n; k++) g[k] -= 2 * gDot * d[k * r + i];
            }
        }

        // The kernel evaluates ∂L/∂Û = −DYᵀ Q̃ − Xᵀ P + Û S with A = X Û, C = DY Û, Q̃ = A Tᵀ, P = C T, K = Pᵀ Q̃ and
        // S = striu(K) + striu(K)ᵀ, in float32 from Û and T rounded to float32. First-order error propagation, in units of
        // u = 2⁻²⁴: a float32 sum of m products (FMA chain) errs by at most (m + 20)·Σ|terms| (the 20 covers the rounding of
        // the factors, the alpha scaling and the accumulate adds, as in TestData.AssertWithinRoundoff), and an error in a
        // factor propagates with the other factor's magnitude. The quantities below are the exact float64 values.
        var a = new double[batch * r];
        var c = new double[batch * r];
        var ea = new double[batch * r];
        var ec = new double[batch * r];
        for (int b = 0; b < batch; b++)
            for (int k = 0; k < n; k++)
                for (int i = 0; i < r; i++)
                {
                    a[b * r + i] += d[k * r + i] * x[b * n + k];
                    c[b * r + i] += d[k * r + i] * dy[b * n + k];
                    ea[b * r + i] += (n + 20) * Math.Abs(d[k * r + i] * x[b * n + k]);
                    ec[b * r + i] += (n + 20) * Math.Abs(d[k * r + i] * dy[b * n + k]);
                }
        var q = new double[batch * r];
        var p = new double[batch * r];
        var eq = new double[batch * r];
        var ep = new double[batch * r];
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < r; i++)
                for (int j = 0; j < r; j++)
                {
                    q[b * r + i] += t[i * r + j] * a[b * r + j];
                    p[b * r + i] += t[j * r + i] * c[b * r + j];
                    eq[b * r + i] += Math.Abs(t[i * r + j]) * (ea[b * r + j] + (r + 20) * Math.Abs(a[b * r + j]));
                    ep[b * r + i] += Math.Abs(t[j * r + i]) * (ec[b * r + j] + (r + 20) * Math.Abs(c[b * r + j]));
                }
        var sym = new double[r * r];
        var esym = new double[r * r];
        for (int i = 0; i < r; i++)
            for (int j = i + 1; j < r; j++)
            {
                double sum = 0, error = 0;
                for (int b = 0; b < batch; b++)
                {
                    double pi = p[b * r + i], qj = q[b * r + j];
                    sum += pi * qj;
                    error += ep[b * r + i] * Math.Abs(qj) + Math.Abs(pi) * eq[b * r + j] + (batch + 20) * Math.Abs(pi * qj);
                }
                sym[i * r + j] = sym[j * r + i] = sum;
                esym[i * r + j] = esym[j * r + i] = error;
            }
        var bound = new double[n * r];
        for (int k = 0; k < n; k++)
            for (int i = 0; i < r; i++)
            {
                double error = 0;
                for (int b = 0; b < batch; b++)
                    error += Math.Abs(dy[b * n + k]) * (eq[b * r + i] + (batch + 20) * Math.Abs(q[b * r + i]))
                           + Math.Abs(x[b * n + k]) * (ep[b * r + i] + (batch + 20) * Math.Abs(p[b * r + i]));
                for (int m = 0; m < r; m++)
                    error += Math.Abs(d[k * r + m]) * (esym[m * r + i] + (r + 20) * Math.Abs(sym[m * r + i]));
                bound[k * r + i] = error;
            }

        var gradient = new double[n * r];
        var tolerance = new double[n * r];
        // The projection (I − û ûᵀ)/‖u‖ (float64) maps an error e to at most (|e| + |û| (|û|ᵀ|e|))/‖u‖.
        double factor = TestData.Float32Roundoff;
        for (int i = 0; i < r; i++)
        {
            double norm = 0;
            for (int k = 0; k < n; k++) norm += (double)u[k * r + i] * u[k * r + i];
            norm = Math.Sqrt(norm);
            if (norm == 0) continue;
            double radial = 0, radialBound = 0;
            for (int k = 0; k < n; k++)
            {
                radial += d[k * r + i] * gradHat[k * r + i];
                radialBound += Math.Abs(d[k * r + i]) * bound[k * r + i];
            }
            for (int k = 0; k < n; k++)
            {
                gradient[k * r + i] = (gradHat[k * r + i] - radial * d[k * r + i]) / norm;
                tolerance[k * r + i] = factor * (bound[k * r + i] + Math.Abs(d[k * r + i]) * radialBound) / norm;
            }
        }
        return (gradient, tolerance);
    }

    /// <summary><c>L(u) = Σ_b dy[b]ᵀ H(u) x[b]</c> in float64 with the reflection-by-reflection oracle.</summary>
    private static double ReflectedLoss(float[] u, float[] x, float[] dy, int batch, int n, int r)
    {
        var hx = ReflectRows(u, x, batch, n, r, transposed: false);
        double loss = 0;
        for (int k = 0; k < hx.Length; k++) loss += dy[k] * hx[k];
        return loss;
    }

    [Theory]
    [InlineData(1, 256, 32)]
    [InlineData(67, 300, 32)]
    [InlineData(1, 300, 1)]
    [InlineData(67, 256, 1)]
    public void Large_chain_gradients_match_the_float64_oracle_and_finite_differences(int batch, int n, int r)
    {
        var u = QuantisedU(n, r, 1500 + n + r);
        var x = TestData.Uniform(batch * n, 1600 + batch);
        var dy = TestData.Uniform(batch * n, 1700 + batch);
        var du = TestData.Uniform(n * r, 1800);
        var old = (float[])du.Clone();

        HouseholderKernels.Gradient(x, dy, u, du, batch, n, r);

        // Every entry against the analytic float64 oracle, within the first-order float32 bound (plus the final
        // rounding of du).
        var (expected, tolerance) = GradientOracle(u, x, dy, batch, n, r);
        double scale = 0, widest = 0;
        var error = new double[n * r];
        for (int k = 0; k < n * r; k++)
        {
            double kernel = (double)du[k] - old[k];
            double tol = tolerance[k] + TestData.Float32Roundoff * Math.Abs(du[k]);
            Assert.True(Math.Abs(kernel - expected[k]) <= tol, $"u[{k / r}, {k % r}]: kernel {kernel:R}, oracle {expected[k]:R}, tolerance {tol:E3}");
            error[k] = Math.Abs(kernel - expected[k]) - TestData.Float32Roundoff * Math.Abs(du[k]);
            scale = Math.Max(scale, Math.Abs(expected[k]));
            widest = Math.Max(widest, tolerance[k]);
        }
        Assert.True(widest < 5e-2 * scale, $"the tolerance {widest:E3} should be small against the gradient {scale:E3}");
        AssertRoundoffInAggregate(error, tolerance, r);

        // Central finite differences of L in float64: u entries are multiples of 2⁻¹² in [−1, 1], so u ± 2⁻¹⁴ is exact in
        // float32. Three entries of every column, and two directional derivatives along random sign patterns (every entry).
        const float step = 1f / (1 << 14);
        var rng = new Random(1900 + n + r);
        for (int i = 0; i < r; i++)
            for (int sample = 0; sample < 3; sample++)
            {
                int k = rng.Next(n) * r + i;
                var up = (float[])u.Clone();
                var down = (float[])u.Clone();
                up[k] += step;
                down[k] -= step;
                double fd = (ReflectedLoss(up, x, dy, batch, n, r) - ReflectedLoss(down, x, dy, batch, n, r)) / (2.0 * step);
                double kernel = (double)du[k] - old[k];
                double tol = tolerance[k] + TestData.Float32Roundoff * Math.Abs(du[k]) + 1e-6 * scale;
                Assert.True(Math.Abs(kernel - fd) <= tol, $"u[{k / r}, {i}]: kernel {kernel:R}, finite difference {fd:R}, tolerance {tol:E3}");
            }
        for (int direction = 0; direction < 2; direction++)
        {
            var up = (float[])u.Clone();
            var down = (float[])u.Clone();
            double kernel = 0, tol = 0;
            for (int k = 0; k < n * r; k++)
            {
                float sign = rng.Next(2) == 0 ? -1f : 1f;
                up[k] += sign * step;
                down[k] -= sign * step;
                kernel += sign * ((double)du[k] - old[k]);
                tol += tolerance[k] + TestData.Float32Roundoff * Math.Abs(du[k]);
            }
            double fd = (ReflectedLoss(up, x, dy, batch, n, r) - ReflectedLoss(down, x, dy, batch, n, r)) / (2.0 * step);
            tol += 1e-6 * scale * Math.Sqrt(n * r);
            Assert.True(Math.Abs(kernel - fd) <= tol, $"direction {direction}: kernel {kernel:R}, finite difference {fd:R}, tolerance {tol:E3}");
        }
    }

    [Fact]
    public void Results_do_not_depend_on_threading_or_on_the_other_rows()
    {
        const int batch = 67, n = 300, r = 32;
        var u = TestData.Uniform(n * r, 2200);
        var x = TestData.Uniform(batch * n, 2201);
        var dy = TestData.Uniform(batch * n, 2202);
        (float[] Y, float[] Dx, float[] Du) Run()
        {
            var y = new float[batch * n];
            var dx = new float[batch * n];
            var du = new float[n * r];
            HouseholderKernels.Apply(x, y, u, batch, n, r, accumulate: false);
            HouseholderKernels.ApplyTransposed(dy, dx, u, batch, n, r, accumulate: false);
            HouseholderKernels.Gradient(x, dy, u, du, batch, n, r);
            return (y, dx, du);
        }

        var threaded = Run();
        (float[] Y, float[] Dx, float[] Du) serial;
        using (KernelThreading.EnterSerial()) serial = Run();
        Assert.Equal(threaded.Y, serial.Y);
        Assert.Equal(threaded.Dx, serial.Dx);
        Assert.Equal(threaded.Du, serial.Du);

        // A row alone gives the same bits as within the batch.
        const int row = 41;
        var single = new float[n];
        HouseholderKernels.Apply(x.AsSpan(row * n, n), single, u, 1, n, r, accumulate: false);
        Assert.Equal(threaded.Y.AsSpan(row * n, n).ToArray(), single);
        HouseholderKernels.ApplyTransposed(dy.AsSpan(row * n, n), single, u, 1, n, r, accumulate: false);
        Assert.Equal(threaded.Dx.AsSpan(row * n, n).ToArray(), single);
    }

    [Theory]
    [InlineData(67, 300, 32)]
    [InlineData(1, 256, 32)]
    [InlineData(67, 256, 1)]
    public void Apply_and_ApplyTransposed_are_inverse_at_large_sizes(int batch, int n, int r)
    {
        var u = TestData.Uniform(n * r, 2000 + n + r);
        var x = TestData.Uniform(batch * n, 2100 + batch);
        foreach (bool applyFirst in new[] { true, false })
        {
            var mid = new float[batch * n];
            var back = new float[batch * n];
            if (applyFirst) HouseholderKernels.Apply(x, mid, u, batch, n, r, accumulate: false);
            else HouseholderKernels.ApplyTransposed(x, mid, u, batch, n, r, accumulate: false);
            if (applyFirst) HouseholderKernels.ApplyTransposed(mid, back, u, batch, n, r, accumulate: false);
            else HouseholderKernels.Apply(mid, back, u, batch, n, r, accumulate: false);

            // Per row: back − x = Hᵀ e₁ + e₂ (or H e₁ + e₂) with e₁, e₂ the two passes' errors, and H is orthogonal, so
            // ‖back − x‖ ≤ ‖e₁‖ + ‖e₂‖, each bounded elementwise by (n + 2r + 20)·u·WyBound.
            var first = WyBound(u, x, null, batch, n, r, transposed: !applyFirst);
            var second = WyBound(u, mid, null, batch, n, r, transposed: applyFirst);
            double factor = (n + 2 * r + 20) * TestData.Float32Roundoff;
            for (int b = 0; b < batch; b++)
            {
                double error = 0, e1 = 0, e2 = 0, xx = 0, mm = 0;
                for (int k = 0; k < n; k++)
                {
                    int e = b * n + k;
                    error += (back[e] - (double)x[e]) * (back[e] - (double)x[e]);
                    e1 += first[e] * first[e];
                    e2 += second[e] * second[e];
                    xx += (double)x[e] * x[e];
                    mm += (double)mid[e] * mid[e];
                }
                double tolerance = factor * (Math.Sqrt(e1) + Math.Sqrt(e2));
                Assert.True(Math.Sqrt(error) <= tolerance, $"row {b}: ‖back − x‖ = {Math.Sqrt(error):E3} > {tolerance:E3}");
                Assert.True(Math.Abs(Math.Sqrt(mm) - Math.Sqrt(xx)) <= factor * Math.Sqrt(e1), $"row {b}: the norm changed");
            }
        }
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
