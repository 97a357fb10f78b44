using System;
using System.Buffers;

namespace StructMat.Runtime.Kernels;

/// <summary>
/// Row normalisation of DoRA's adapted weight <c>V = W0 + c·B A</c> (<c>W0 [out, in]</c> frozen, <c>A [r, in]</c>,
/// <c>B [out, r]</c>), without forming V: <c>‖V_o‖² = ‖W0_o‖² + 2c (W0 Aᵀ)_o · B_o + c² B_o (A Aᵀ) B_oᵀ</c>, so the
/// norms cost <c>out·in·(r + 1)</c> multiply-adds (one pass over W0 with A) per call, whatever the batch. The layer
/// applies <c>y = v / ‖V‖</c> row by row to <c>v = V x</c>, which its other ops compute; the gradient goes through the
/// norms: with <c>g_o = Σ_rows dy_o v_o</c> and <c>h_o = −g_o / ‖V_o‖³</c>, <c>∂L/∂V = diag(h) V</c>, hence
/// <c>∂L/∂A += c (Bᵀ diag(h) W0 + c (Bᵀ diag(h) B) A)</c> and <c>∂L/∂B += c diag(h) (W0 Aᵀ + c B (A Aᵀ))</c> (W0 is frozen),
/// again <c>out·in·r</c> per call. A zero row of V has no direction: it is left at zero (its norm is taken as 1).
/// The generated code calls <see cref="Prepare"/> once per Forward or Backward call and passes the result to every op.
/// With <c>rank = 0</c> (A and B empty) it is weight normalisation, <c>V = W0</c>, and the gradient goes to W0:
/// <c>∂L/∂W0 += diag(h) W0</c>.
/// Products run on the block-matmul engine in float32; the norms are combined in float64.
/// </summary>
public static class NormalizeKernels
{
    /// <summary>
    /// What every op of one call shares: the row norms <c>‖V_o‖</c> of <c>V = W0 + c·B A</c> (a zero row gives 1), and
    /// the products they come from, <c>W0 Aᵀ</c> and <c>A Aᵀ</c>. Computed once per Forward or Backward call (the
    /// generated code prepares it before the ops that divide by it), from the weights as they are then.
    /// </summary>
    public sealed class RowNorms
    {
        internal RowNorms(double[] norms, float[] baseTimesDown, float[] gram, float scale, int outFeatures, int inFeatures, int rank)
        {
            Norms = norms;
            BaseTimesDown = baseTimesDown;
            Gram = gram;
            Scale = scale;
            OutFeatures = outFeatures;
            InFeatures = inFeatures;
            Rank = rank;
        }

        /// <summary><c>‖V_o‖</c> for each output o.</summary>
        public double[] Norms { get; }

        /// <summary><c>W0 Aᵀ [out, r]</c>.</summary>
        internal float[] BaseTimesDown { get; }

        /// <summary><c>A Aᵀ [r, r]</c>.</summary>
        internal float[] Gram { get; }

        public float Scale { get; }

        public int OutFeatures { get; }

        public int InFeatures { get; }

        public int Rank { get; }
    }

    /// <summary>The row norms of <c>V = W0 + c·B A</c> and the products behind them (see <see cref="RowNorms"/>).</summary>
    public static RowNorms Prepare(ReadOnlySpan<float> w0, ReadOnlySpan<float> a, ReadOnlySpan<float> b, float c, int outFeatures, int inFeatures, int rank)
    {
        Validate(w0, a, b, outFeatures, inFeatures, rank);
        var p = new float[outFeatures * rank];
        var g = new float[rank * rank];
        Products(w0, a, p, g, outFeatures, inFeatures, rank);
        var norms = new double[outFeatures];
        for (var o = 0; o < outFeatures; o++)
        {
            var row = w0.Slice(o * inFeatures, inFeatures);
            double base2 = System.Numerics.Tensors.TensorPrimitives.Dot(row, row);
            double cross = 0, low = 0;
            for (var k = 0; k < rank; k++)
            {
                cross += (double)p[o * rank + k] * b[o * rank + k];
                for (var l = 0; l < rank; l++) low += (double)b[o * rank + k] * g[k * rank + l] * b[o * rank + l];
            }
            var squared = base2 + 2.0 * c * cross + (double)c * c * low;
            norms[o] = squared > 0 ? Math.Sqrt(squared) : 1.0;
        }
        return new RowNorms(norms, p, g, c, outFeatures, inFeatures, rank);
    }

    /// <summary>The row norms <c>‖V_o‖</c> of <c>V = W0 + c·B A</c> (a zero row gives 1).</summary>
    public static double[] Norms(ReadOnlySpan<float> w0, ReadOnlySpan<float> a, ReadOnlySpan<float> b, float c, int outFeatures, int inFeatures, int rank) =>
        Prepare(w0, a, b, c, outFeatures, inFeatures, rank).Norms;

    /// <summary><c>y[b, o] = (accumulate ? y[b, o] : 0) + v[b, o] / ‖V_o‖</c> for every row.</summary>
    public static void Apply(ReadOnlySpan<float> v, Span<float> y, RowNorms norms, int batch, bool accumulate)
    {
        ArgumentNullException.ThrowIfNull(norms);
        KernelArguments.NonNegative(batch, nameof(batch));
        var outFeatures = norms.OutFeatures;
        KernelArguments.Length(v.Length, (long)batch * outFeatures, nameof(v), "batch * out");
        KernelArguments.Length(y.Length, (long)batch * outFeatures, nameof(y), "batch * out");
        var inverse = new float[outFeatures];
        for (var o = 0; o < outFeatures; o++) inverse[o] = (float)(1.0 / norms.Norms[o]);
        for (var row = 0; row < batch; row++)
        {
            var from = v.Slice(row * outFeatures, outFeatures);
            var to = y.Slice(row * outFeatures, outFeatures);
            if (accumulate) for (var o = 0; o < outFeatures; o++) to[o] += from[o] * inverse[o];
            else System.Numerics.Tensors.TensorPrimitives.Multiply(from, inverse, to);
        }
    }

    /// <summary>
    /// <c>gradient += ∂L/∂A</c> (<paramref name="target"/> 0) or <c>∂L/∂B</c> (1) through the norms, for
    /// <c>L = Σ_rows dyᵀ (v / ‖V‖)</c> with <paramref name="v"/> held fixed (the path through v is the other ops').
    /// </summary>
    public static void Gradient(ReadOnlySpan<float> dy, ReadOnlySpan<float> v, ReadOnlySpan<float> w0, ReadOnlySpan<float> a, ReadOnlySpan<float> b, RowNorms norms,
        Span<float> gradient, int target, int batch)
    {
        ArgumentNullException.ThrowIfNull(norms);
        var (outFeatures, inFeatures, rank, c) = (norms.OutFeatures, norms.InFeatures, norms.Rank, norms.Scale);
        Validate(w0, a, b, outFeatures, inFeatures, rank);
        if (rank == 0 ? target != 2 : target is not (0 or 1))
            throw new ArgumentException($"target must be 0 (A) or 1 (B), or 2 (W0) for weight normalisation (rank 0), got {target} with rank {rank}.", nameof(target));
        KernelArguments.NonNegative(batch, nameof(batch));
        KernelArguments.Length(dy.Length, (long)batch * outFeatures, nameof(dy), "batch * out");
        KernelArguments.Length(v.Length, (long)batch * outFeatures, nameof(v), "batch * out");
        KernelArguments.Length(gradient.Length, target switch { 0 => (long)rank * inFeatures, 1 => (long)outFeatures * rank, _ => (long)outFeatures * inFeatures },
            nameof(gradient), "the factor's size");
        if (batch == 0) return;
        var h = new float[outFeatures];
        for (var o = 0; o < outFeatures; o++)
        {
            double g = 0;
            for (var row = 0; row < batch; row++) g += (double)dy[row * outFeatures + o] * v[row * outFeatures + o];
            var n = norms.Norms[o];
            h[o] = (float)(-g / (n * n * n));
        }
        if (target == 2)
        {
            // Weight normalisation, V = W0: ∂L/∂W0 = diag(h) W0.
            for (var o = 0; o < outFeatures; o++)
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(w0.Slice(o * inFeatures, inFeatures), h[o], gradient.Slice(o * inFeatures, inFeatures), gradient.Slice(o * inFeatures, inFeatures));
        }
        else if (target == 0)
        {
            // ∂L/∂A += c·(diag(h) B)ᵀ W0 + c²·(Bᵀ diag(h) B) A.
            var hb = new float[outFeatures * rank]; // diag(h) B
            for (var o = 0; o < outFeatures; o++)
                for (var k = 0; k < rank; k++) hb[o * rank + k] = h[o] * b[o * rank + k];
            var m = new float[rank * rank];
            CpuKernels.BlockWeightGradient(hb, b, m, outFeatures, 1, rank, rank, BlockLayout.Contiguous, BlockLayout.Contiguous, 1f); // m[k, l] = Σ_o hb[o,k] B[o,l]
            CpuKernels.BlockWeightGradient(hb, w0, gradient, outFeatures, 1, rank, inFeatures, BlockLayout.Contiguous, BlockLayout.Contiguous, c);
            // gradient[k, i] += c² Σ_l m[l, k] A[l, i], which is Σ_l m[k, l] A[l, i] since m = Bᵀ diag(h) B is symmetric.
            CpuKernels.BlockWeightGradient(m, a, gradient, rank, 1, rank, inFeatures, BlockLayout.Contiguous, BlockLayout.Contiguous, c * c);
        }
        else
        {
            // ∂L/∂B[o, k] += c·h_o·((W0 Aᵀ)[o, k] + c·(B (A Aᵀ))[o, k]).
            var (p, g) = (norms.BaseTimesDown, norms.Gram);
            for (var o = 0; o < outFeatures; o++)
                for (var k = 0; k < rank; k++)
                {
                    double bg = 0;
                    for (var l = 0; l < rank; l++) bg += (double)b[o * rank + l] * g[l * rank + k];
                    gradient[o * rank + k] += (float)(c * h[o] * (p[o * rank + k] + c * bg));
                }
        }
    }

    // p = W0 Aᵀ [out, r] (W0's rows as the batch, on the engine) and g = A Aᵀ [r, r] (float64 sums, r²·in).
    private static void Products(ReadOnlySpan<float> w0, ReadOnlySpan<float> a, Span<float> p, Span<float> g, int outFeatures, int inFeatures, int rank)
    {
        if (rank == 0) return;
        CpuKernels.BlockMatMul(w0, p, a, outFeatures, 1, rank, inFeatures, BlockLayout.Contiguous, BlockLayout.Contiguous, 1f, accumulate: false, weightIsParameter: false);
        for (var k = 0; k < rank; k++)
            for (var l = 0; l < rank; l++)
            {
                double s = 0;
                for (var i = 0; i < inFeatures; i++) s += (double)a[k * inFeatures + i] * a[l * inFeatures + i];
                g[k * rank + l] = (float)s;
            }
    }

    private static void Validate(ReadOnlySpan<float> w0, ReadOnlySpan<float> a, ReadOnlySpan<float> b, int outFeatures, int inFeatures, int rank)
    {
        KernelArguments.NonNegative(outFeatures, "outFeatures");
        KernelArguments.NonNegative(inFeatures, "inFeatures");
        if (rank < 0) throw new ArgumentException($"rank must be non-negative (0: weight normalisation, V = W0), got {rank}.", nameof(rank));
        KernelArguments.FitsInt32((long)outFeatures * inFeatures, "outFeatures", "out * in");
        KernelArguments.Length(w0.Length, (long)outFeatures * inFeatures, nameof(w0), "out * in");
        KernelArguments.Length(a.Length, (long)rank * inFeatures, nameof(a), "r * in");
        KernelArguments.Length(b.Length, (long)outFeatures * rank, nameof(b), "out * r");
    }
}
