using System;
using System.Buffers;
using System.Numerics.Tensors;

namespace StructMat.Runtime.Kernels;

/// <summary>
/// The Householder-reflection product of PEFT HRA: <c>u = hra_u [n, r]</c> row-major, so column <c>i</c>
/// (<c>u[k·r + i]</c>, <c>k &lt; n</c>) is the vector <c>u_i</c>; <c>û_i = u_i / ‖u_i‖</c>,
/// <c>H_i = I − 2 û_i û_iᵀ</c> and <c>H = H_1 H_2 … H_r</c> (no Gram–Schmidt). Activations are row-major
/// <c>[batch, n]</c>.
/// </summary>
/// <remarks>
/// <para>A zero column <c>u_i</c> has no direction; it is treated as the identity reflection (<c>H_i = I</c>) and
/// receives a zero gradient. (PyTorch/PEFT would divide by zero and produce NaN there.)</para>
/// <para>The chain runs in compact WY form (Schreiber–Van Loan): <c>H = I − U T Uᵀ</c> with <c>U = [û_1 … û_r]</c>
/// (<c>n × r</c>) and <c>T</c> upper triangular (<c>r × r</c>), so every kernel is a handful of matrix products on the
/// block-matmul engine (<see cref="CpuKernels"/>) plus <c>r × r</c> algebra. No <c>n×n</c> matrix is ever formed; the
/// scratch is a few <c>[batch, r]</c> and <c>[n, r]</c> arrays. The norms, the directions and <c>T</c> are computed
/// in float64 and rounded to float32; the products run in float32 with fused multiply-adds like the rest of the
/// runtime, so results agree with the exact chain to float32 roundoff accumulated over a depth of <c>n</c> (and, for
/// the gradient, of <c>batch</c>).</para>
/// <para>Results are deterministic: every product runs on the block-matmul engine, which computes each element by one
/// fixed sequence of operations whatever the threading, and the small steps run on the calling thread. So the same
/// inputs give the same bits whatever the core count; in <see cref="Apply"/>/<see cref="ApplyTransposed"/> each output
/// row moreover depends only on its own input row (not on the batch size or the other rows).</para>
/// <para>Spans must hold at least the elements their shapes need (only the prefix is used); outputs must not
/// overlap inputs. Bad arguments throw <see cref="ArgumentException"/> naming the argument.</para>
/// </remarks>
public static class HouseholderKernels
{
    /// <summary><c>y[b] = (accumulate ? y[b] : 0) + H · x[b]</c> for every row: <c>H_r</c> is applied first, <c>H_1</c> last.</summary>
    public static void Apply(ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<float> u, int batch, int n, int r, bool accumulate)
    {
        Validate(batch, n, r, u, nameof(u));
        Activation(x.Length, batch, n, nameof(x));
        Activation(y.Length, batch, n, nameof(y));
        x = x.Slice(0, batch * n);
        y = y.Slice(0, batch * n);
        u = u.Slice(0, n * r);
        KernelArguments.NoOverlap(x, y, nameof(x), nameof(y));
        KernelArguments.NoOverlap(u, y, nameof(u), nameof(y));
        Transform(x, y, u, batch, n, r, accumulate, transposed: false);
    }

    /// <summary>
    /// <c>dx[b] = (accumulate ? dx[b] : 0) + Hᵀ · dy[b]</c> for every row, <c>Hᵀ = H_r … H_1</c>: <c>H_1</c> is applied
    /// first. (The backward pass of <see cref="Apply"/> with respect to its input.)
    /// </summary>
    public static void ApplyTransposed(ReadOnlySpan<float> dy, Span<float> dx, ReadOnlySpan<float> u, int batch, int n, int r, bool accumulate)
    {
        Validate(batch, n, r, u, nameof(u));
        Activation(dy.Length, batch, n, nameof(dy));
        Activation(dx.Length, batch, n, nameof(dx));
        dy = dy.Slice(0, batch * n);
        dx = dx.Slice(0, batch * n);
        u = u.Slice(0, n * r);
        KernelArguments.NoOverlap(dy, dx, nameof(dy), nameof(dx));
        KernelArguments.NoOverlap(u, dx, nameof(u), nameof(dx));
        Transform(dy, dx, u, batch, n, r, accumulate, transposed: true);
    }

    /// <summary>
    /// <c>du += ∂L/∂u</c> for <c>L = Σ_b dy[b]ᵀ (H x[b])</c>, through the normalisation:
    /// <c>∂L/∂u_i = (I − û_i û_iᵀ)(∂L/∂û_i) / ‖u_i‖</c>. Per reflection, with <c>z_{r+1} = x</c>, <c>z_i = H_i z_{i+1}</c>,
    /// <c>g_1 = dy</c>, <c>g_{i+1} = H_i g_i</c>: <c>∂L/∂û_i = −2 Σ_b [(û_iᵀ z_{i+1}) g_i + (û_iᵀ g_i) z_{i+1}]</c>; it is
    /// computed in blocked form as column <c>i</c> of <c>−DYᵀ (X U Tᵀ) − Xᵀ (DY U T) + U (N + Nᵀ)</c> with
    /// <c>N = striu((DY U T)ᵀ (X U Tᵀ))</c> (the derivation is in the code), which differs from the per-reflection
    /// form only along <c>û_i</c>, where the projection removes it.
    /// </summary>
    public static void Gradient(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> u, Span<float> du, int batch, int n, int r)
    {
        Validate(batch, n, r, u, nameof(u));
        Activation(x.Length, batch, n, nameof(x));
        Activation(dy.Length, batch, n, nameof(dy));
        KernelArguments.Length(du.Length, (long)n * r, nameof(du), "n * r");
        x = x.Slice(0, batch * n);
        dy = dy.Slice(0, batch * n);
        u = u.Slice(0, n * r);
        du = du.Slice(0, n * r);
        KernelArguments.NoOverlap(x, du, nameof(x), nameof(du));
        KernelArguments.NoOverlap(dy, du, nameof(dy), nameof(du));
        KernelArguments.NoOverlap(u, du, nameof(u), nameof(du));
        if (batch == 0 || n == 0 || r == 0) return;
        ScratchFits(batch, r);

        // Derivation. Drop the zero columns for now (see the end). For unit columns the recurrence of WyFactors gives
        // T⁻¹ = S = ½I + striu(UᵀU) (the "UT transform": if S'T' = I then [[S', U'ᵀû_j], [0, ½]]·[[T', −2T'U'ᵀû_j], [0, 2]] = I),
        // so with a_b = Uᵀx_b, c_b = Uᵀdy_b:  L = Σ_b dy_bᵀx_b − Σ_b c_bᵀ S⁻¹ a_b.
        // This formula extends L smoothly to non-unit columns; the projection (I − û_iû_iᵀ)/‖u_i‖ of ∂L/∂u removes any
        // radial part, so differentiating the extension in U as a free matrix gives the same ∂L/∂u as the chain rule
        // through H_1 … H_r. With dS⁻¹ = −S⁻¹ dS S⁻¹, dS = striu(dUᵀU + UᵀdU), q_b = T a_b and p_b = Tᵀ c_b:
        //   dL = −Σ_b [dy_bᵀ dU q_b + x_bᵀ dU p_b − p_bᵀ dS q_b].
        // With K = Σ_b p_b q_bᵀ and N = striu(K): Σ_b p_bᵀ dS q_b = ⟨K, striu(dUᵀU + UᵀdU)⟩ = ⟨N, dUᵀU + UᵀdU⟩
        // = ⟨U(N + Nᵀ), dU⟩, hence, with Q̃ = [q_b] = (X U) Tᵀ and P = [p_b] = (DY U) T as [batch, r] matrices,
        //   ∂L/∂U = −DYᵀ Q̃ − Xᵀ P + U (N + Nᵀ),  K = Pᵀ Q̃.
        // (For r = 1 this is −2 Σ_b [(ûᵀx_b) dy_b + (ûᵀdy_b) x_b], the per-reflection formula.) Zero columns: T has zero
        // rows and columns there, which is exactly T of the chain without them embedded, so Q̃, P and K vanish in those
        // columns, every other entry is that of the reduced chain, and those columns of ∂L/∂U are zero (and skipped).
        // The big work is four [batch, n]·[n, r]-sized products (X U, DY U, DYᵀ Q̃, Xᵀ P); the rest is [batch, r]·[r, r],
        // Pᵀ Q̃ ([r, r] of depth batch) and U (N + Nᵀ) ([n, r]·[r, r]).
        var wy = WyFactors.Create(u, n, r);
        int rows = batch * r;
        float[] a = ArrayPool<float>.Shared.Rent(rows);
        float[] c = ArrayPool<float>.Shared.Rent(rows);
        float[] q = ArrayPool<float>.Shared.Rent(rows);
        float[] p = ArrayPool<float>.Shared.Rent(rows);
        float[] k = ArrayPool<float>.Shared.Rent(r * r);
        float[] g = ArrayPool<float>.Shared.Rent(n * r);
        try
        {
            const BlockLayout Dense = BlockLayout.Contiguous;
            var aSpan = a.AsSpan(0, rows);
            var cSpan = c.AsSpan(0, rows);
            var qSpan = q.AsSpan(0, rows);
            var pSpan = p.AsSpan(0, rows);
            var kSpan = k.AsSpan(0, r * r);
            var gSpan = g.AsSpan(0, n * r);
            var uf = wy.U.AsSpan(0, n * r);
            var tf = wy.T.AsSpan(0, r * r);

            // A = X U, C = DY U (U read as an [n, r] weight, transposed).
            CpuKernels.BlockMatMulTransposed(x, aSpan, uf, batch, 1, n, r, Dense, Dense, 1f, accumulate: false, weightIsParameter: false);
            CpuKernels.BlockMatMulTransposed(dy, cSpan, uf, batch, 1, n, r, Dense, Dense, 1f, accumulate: false, weightIsParameter: false);
            // Q̃ = A Tᵀ (rows T a_b), P = C T (rows Tᵀ c_b).
            CpuKernels.BlockMatMul(aSpan, qSpan, tf, batch, 1, r, r, Dense, Dense, 1f, accumulate: false, weightIsParameter: false);
            CpuKernels.BlockMatMulTransposed(cSpan, pSpan, tf, batch, 1, r, r, Dense, Dense, 1f, accumulate: false, weightIsParameter: false);
            // K = Pᵀ Q̃, then in place N + Nᵀ with N = striu(K) (symmetric, zero diagonal).
            kSpan.Clear();
            CpuKernels.BlockWeightGradient(pSpan, qSpan, kSpan, batch, 1, r, r, Dense, Dense, 1f);
            for (int i = 0; i < r; i++)
            {
                kSpan[i * r + i] = 0f;
                for (int j = i + 1; j < r; j++) kSpan[j * r + i] = kSpan[i * r + j];
            }
            // G = −DYᵀ Q̃ − Xᵀ P + U (N + Nᵀ), an [n, r] matrix whose column i is ∂L/∂û_i.
            gSpan.Clear();
            CpuKernels.BlockWeightGradient(dy, qSpan, gSpan, batch, 1, n, r, Dense, Dense, -1f);
            CpuKernels.BlockWeightGradient(x, pSpan, gSpan, batch, 1, n, r, Dense, Dense, -1f);
            CpuKernels.BlockMatMul(uf, gSpan, kSpan, n, 1, r, r, Dense, Dense, 1f, accumulate: true, weightIsParameter: false);

            // Project out the radial part and divide by the norm, in float64: ∂L/∂u_i = (I − û_i û_iᵀ) G_i / ‖u_i‖.
            for (int i = 0; i < r; i++)
            {
                double norm = wy.Norms[i];
                if (norm == 0) continue; // identity reflection: no gradient
                var d = wy.Directions.AsSpan(i * n, n);
                double radial = 0;
                for (int m = 0; m < n; m++) radial += d[m] * gSpan[m * r + i];
                for (int m = 0; m < n; m++)
                    du[m * r + i] = (float)(du[m * r + i] + (gSpan[m * r + i] - radial * d[m]) / norm);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(a);
            ArrayPool<float>.Shared.Return(c);
            ArrayPool<float>.Shared.Return(q);
            ArrayPool<float>.Shared.Return(p);
            ArrayPool<float>.Shared.Return(k);
            ArrayPool<float>.Shared.Return(g);
            wy.Return();
        }
    }

    /// <summary>
    /// <c>output = (accumulate ? output : 0) + input − W Uᵀ</c> with <c>W = (input U) Tᵀ</c> (rows <c>T Uᵀ x</c>: <c>H x</c>)
    /// or, transposed, <c>W = (input U) T</c> (rows <c>Tᵀ Uᵀ x</c>: <c>Hᵀ x = (I − U Tᵀ Uᵀ) x</c>).
    /// </summary>
    private static void Transform(ReadOnlySpan<float> input, Span<float> output, ReadOnlySpan<float> u, int batch, int n, int r, bool accumulate, bool transposed)
    {
        if (batch == 0 || n == 0) return;
        if (accumulate) TensorPrimitives.Add(output, input, output);
        else input.CopyTo(output);
        if (r == 0) return;
        ScratchFits(batch, r);

        var wy = WyFactors.Create(u, n, r);
        int rows = batch * r;
        float[] p = ArrayPool<float>.Shared.Rent(rows);
        float[] w = ArrayPool<float>.Shared.Rent(rows);
        try
        {
            const BlockLayout Dense = BlockLayout.Contiguous;
            var pSpan = p.AsSpan(0, rows);
            var wSpan = w.AsSpan(0, rows);
            var uf = wy.U.AsSpan(0, n * r);
            var tf = wy.T.AsSpan(0, r * r);
            // P = input · U: p[b, i] = Σ_k U[k, i] input[b, k] (U read as an [n, r] weight, transposed).
            CpuKernels.BlockMatMulTransposed(input, pSpan, uf, batch, 1, n, r, Dense, Dense, 1f, accumulate: false, weightIsParameter: false);
            // W: w[b, o] = Σ_i T[o, i] p[b, i] (H), or w[b, i] = Σ_o T[o, i] p[b, o] (Hᵀ).
            if (transposed) CpuKernels.BlockMatMulTransposed(pSpan, wSpan, tf, batch, 1, r, r, Dense, Dense, 1f, accumulate: false, weightIsParameter: false);
            else CpuKernels.BlockMatMul(pSpan, wSpan, tf, batch, 1, r, r, Dense, Dense, 1f, accumulate: false, weightIsParameter: false);
            // output[b, k] −= Σ_i U[k, i] w[b, i].
            CpuKernels.BlockMatMul(wSpan, output, uf, batch, 1, n, r, Dense, Dense, -1f, accumulate: true, weightIsParameter: false);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(p);
            ArrayPool<float>.Shared.Return(w);
            wy.Return();
        }
    }

    /// <summary>
    /// The compact WY factors of <c>H = H_1 … H_r = I − U T Uᵀ</c>, in rented arrays: <see cref="Directions"/> (<c>û_i</c> at
    /// <c>[i·n, i·n + n)</c>, float64, zeros for a zero column), <see cref="Norms"/> (<c>‖u_i‖</c>, float64), <see cref="U"/>
    /// (<c>[n, r]</c> row-major, the directions rounded to float32) and <see cref="T"/> (<c>[r, r]</c> row-major, upper
    /// triangular, computed in float64 and rounded to float32).
    /// </summary>
    /// <remarks>
    /// Schreiber–Van Loan: <c>H_1 … H_{j−1} H_j = (I − U' T' U'ᵀ)(I − 2 û_j û_jᵀ) = I − [U' û_j] [[T', −2 T' U'ᵀ û_j], [0, 2]] [U' û_j]ᵀ</c>,
    /// so <c>T[j, j] = 2</c> and <c>T[0:j, j] = −2 T[0:j, 0:j] (U[:, 0:j]ᵀ û_j)</c>. For a zero column <c>T[j, j] = 0</c>; its
    /// column of <c>T</c> is then zero, and so is its row (each later entry of the row is a sum of earlier ones times
    /// <c>−2 û_mᵀ û_l</c>), so the factors are those of the chain without that reflection.
    /// </remarks>
    private readonly struct WyFactors
    {
        private WyFactors(double[] directions, double[] norms, float[] u, float[] t)
        {
            Directions = directions;
            Norms = norms;
            U = u;
            T = t;
        }

        public double[] Directions { get; }

        public double[] Norms { get; }

        public float[] U { get; }

        public float[] T { get; }

        public static WyFactors Create(ReadOnlySpan<float> u, int n, int r)
        {
            var factors = new WyFactors(
                ArrayPool<double>.Shared.Rent(n * r),
                ArrayPool<double>.Shared.Rent(r),
                ArrayPool<float>.Shared.Rent(n * r),
                ArrayPool<float>.Shared.Rent(r * r));
            double[] t = ArrayPool<double>.Shared.Rent(r * r);
            double[] overlaps = ArrayPool<double>.Shared.Rent(r);
            try
            {
                var directions = factors.Directions;
                Normalise(u, directions, factors.Norms, factors.U, n, r);

                Array.Clear(t, 0, r * r);
                for (int j = 0; j < r; j++)
                {
                    if (factors.Norms[j] == 0) continue; // identity reflection: zero row and column
                    var dj = new ReadOnlySpan<double>(directions, j * n, n);
                    for (int m = 0; m < j; m++) overlaps[m] = TensorPrimitives.Dot(new ReadOnlySpan<double>(directions, m * n, n), dj);
                    for (int i = 0; i < j; i++)
                    {
                        double sum = 0;
                        for (int m = i; m < j; m++) sum += t[i * r + m] * overlaps[m];
                        t[i * r + j] = -2.0 * sum;
                    }
                    t[j * r + j] = 2.0;
                }
                var tf = factors.T;
                for (int e = 0; e < r * r; e++) tf[e] = (float)t[e];
                return factors;
            }
            catch
            {
                factors.Return();
                throw;
            }
            finally
            {
                ArrayPool<double>.Shared.Return(t);
                ArrayPool<double>.Shared.Return(overlaps);
            }
        }

        public void Return()
        {
            ArrayPool<double>.Shared.Return(Directions);
            ArrayPool<double>.Shared.Return(Norms);
            ArrayPool<float>.Shared.Return(U);
            ArrayPool<float>.Shared.Return(T);
        }
    }

    /// <summary>
    /// Writes <c>‖u_i‖</c> to <c>norms[i]</c> and <c>û_i</c> to <c>directions[i·n .. i·n + n)</c> in float64 and, rounded to
    /// float32, to <c>uf[k·r + i]</c> (zeros for a zero column). Each norm is summed in <c>k</c> order; the directions are
    /// <c>u_i · (1 / ‖u_i‖)</c>.
    /// </summary>
    private static void Normalise(ReadOnlySpan<float> u, double[] directions, double[] norms, float[] uf, int n, int r)
    {
        var sums = norms.AsSpan(0, r);
        sums.Clear();
        for (int k = 0; k < n; k++)
        {
            var row = u.Slice(k * r, r);
            for (int i = 0; i < r; i++)
            {
                double v = row[i];
                sums[i] += v * v;
            }
        }
        double[] inverses = ArrayPool<double>.Shared.Rent(r);
        try
        {
            for (int i = 0; i < r; i++)
            {
                norms[i] = Math.Sqrt(sums[i]);
                inverses[i] = norms[i] > 0 ? 1.0 / norms[i] : 0.0;
            }
            // Tiles of 8 rows, so that each direction is written a whole cache line at a time (its rows lie n apart,
            // which for a power of two would otherwise map every write to the same L1 set).
            for (int k0 = 0; k0 < n; k0 += 8)
            {
                int k1 = Math.Min(n, k0 + 8);
                for (int i = 0; i < r; i++)
                {
                    double inverse = inverses[i];
                    for (int k = k0; k < k1; k++)
                    {
                        double d = u[k * r + i] * inverse;
                        directions[i * n + k] = d;
                        uf[k * r + i] = (float)d;
                    }
                }
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(inverses);
        }
    }

    private static void Validate(int batch, int n, int r, ReadOnlySpan<float> u, string uName)
    {
        KernelArguments.NonNegative(batch, nameof(batch));
        KernelArguments.NonNegative(n, nameof(n));
        KernelArguments.NonNegative(r, nameof(r));
        KernelArguments.FitsInt32((long)n * r, nameof(r), "n * r");
        KernelArguments.FitsInt32((long)batch * n, nameof(batch), "batch * n");
        KernelArguments.Length(u.Length, (long)n * r, uName, "n * r");
    }

    /// <summary>The <c>[batch, r]</c> and <c>[r, r]</c> scratch must fit 32-bit indexing (it always does when <c>r ≤ n</c>).</summary>
    private static void ScratchFits(int batch, int r)
    {
        KernelArguments.FitsInt32((long)batch * r, nameof(r), "batch * r");
        KernelArguments.FitsInt32((long)r * r, nameof(r), "r * r");
    }

    private static void Activation(int length, int batch, int n, string name)
        => KernelArguments.Length(length, (long)batch * n, name, "batch * n");
}
