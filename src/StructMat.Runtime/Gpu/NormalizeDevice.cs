using System;
using ILGPU;
using ILGPU.Runtime;
using StructMat.Runtime.Kernels;

namespace StructMat.Runtime.Gpu;

/// <summary>
/// DoRA's row normalisation on an ILGPU accelerator (the math of <see cref="Kernels.NormalizeKernels"/>): the row norms
/// of <c>V = W0 + c·B A</c> from <c>W0 Aᵀ</c> and <c>A Aᵀ</c> (one thread per output row; never a copy of V), the scaling
/// (one thread per element), and the gradient through the norms (one thread per factor element). Sums run in a fixed
/// order in float64. Scratch (norms, <c>W0 Aᵀ</c>, <c>A Aᵀ</c>, <c>h</c>, <c>diag(h) B</c>, <c>Bᵀ diag(h) B</c>) is owned
/// here and grown on demand.
/// </summary>
public sealed class NormalizeDevice : IDisposable
{
    private readonly Accelerator _accelerator;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int, int> _gram;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, int, int> _norms;
    private readonly Action<Index2D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> _scale;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> _weights;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> _middle;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, int, int, int> _gradientA;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, int> _gradientB;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> _gradientBase;
    private MemoryBuffer1D<float, Stride1D.Dense>? _norm, _p, _g, _h, _hb, _m, _none;

    public NormalizeDevice(Accelerator accelerator)
    {
        _accelerator = accelerator ?? throw new ArgumentNullException(nameof(accelerator));
        _gram = KernelCache.GetOrLoad(accelerator, "StructMat.Runtime.Normalize.Gram",
            a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(Gram));
        _norms = KernelCache.GetOrLoad(accelerator, "StructMat.Runtime.Normalize.Norms",
            a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, int, int>(Norms));
        _scale = KernelCache.GetOrLoad(accelerator, "StructMat.Runtime.Normalize.Scale",
            a => a.LoadAutoGroupedStreamKernel<Index2D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(Scale));
        _weights = KernelCache.GetOrLoad(accelerator, "StructMat.Runtime.Normalize.Weights",
            a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(Weights));
        _middle = KernelCache.GetOrLoad(accelerator, "StructMat.Runtime.Normalize.Middle",
            a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(Middle));
        _gradientA = KernelCache.GetOrLoad(accelerator, "StructMat.Runtime.Normalize.GradientA",
            a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, int, int, int>(GradientA));
        _gradientB = KernelCache.GetOrLoad(accelerator, "StructMat.Runtime.Normalize.GradientB",
            a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, int>(GradientB));
        _gradientBase = KernelCache.GetOrLoad(accelerator, "StructMat.Runtime.Normalize.GradientBase",
            a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(GradientBase));
    }

    /// <summary><c>y[b, o] (+)= v[b, o] / ‖V_o‖</c>; with <paramref name="rank"/> 0 (weight normalisation) <paramref name="a"/> and <paramref name="b"/> are not read.</summary>
    public void Apply(ArrayView<float> v, ArrayView<float> y, ArrayView<float> w0, ArrayView<float> a, ArrayView<float> b, float c,
        int batch, int outFeatures, int inFeatures, int rank, bool accumulate)
    {
        Check(batch, outFeatures, inFeatures, rank, w0, a, b);
        KernelArguments.Length(v.Length, (long)batch * outFeatures, nameof(v), "batch * out");
        KernelArguments.Length(y.Length, (long)batch * outFeatures, nameof(y), "batch * out");
        if (batch == 0) return;
        var norm = ComputeNorms(w0, a, b, c, outFeatures, inFeatures, rank);
        _scale(new Index2D(batch, outFeatures), v, norm, y, outFeatures, accumulate ? 1 : 0);
    }

    /// <summary><c>gradient += ∂L/∂A</c> (<paramref name="target"/> 0) or <c>∂L/∂B</c> (1) through the norms.</summary>
    public void Gradient(ArrayView<float> dy, ArrayView<float> v, ArrayView<float> w0, ArrayView<float> a, ArrayView<float> b, float c,
        ArrayView<float> gradient, int target, int batch, int outFeatures, int inFeatures, int rank)
    {
        Check(batch, outFeatures, inFeatures, rank, w0, a, b);
        if (rank == 0 ? target != 2 : target is not (0 or 1))
            throw new ArgumentException($"target must be 0 (A) or 1 (B), or 2 (W0) for weight normalisation (rank 0), got {target} with rank {rank}.", nameof(target));
        KernelArguments.Length(dy.Length, (long)batch * outFeatures, nameof(dy), "batch * out");
        KernelArguments.Length(v.Length, (long)batch * outFeatures, nameof(v), "batch * out");
        KernelArguments.Length(gradient.Length, target switch { 0 => (long)rank * inFeatures, 1 => (long)outFeatures * rank, _ => (long)outFeatures * inFeatures },
            nameof(gradient), "the factor's size");
        if (batch == 0) return;
        if (rank == 0) a = b = Grow(ref _none, 1);
        var norm = ComputeNorms(w0, a, b, c, outFeatures, inFeatures, rank);
        var h = Grow(ref _h, outFeatures);
        var hb = Grow(ref _hb, Math.Max(1, (long)outFeatures * rank));
        _weights(outFeatures, dy, v, norm, b, h, hb, batch, outFeatures, rank);
        if (target == 2)
        {
            _gradientBase(outFeatures * inFeatures, h, w0, gradient, inFeatures);
        }
        else if (target == 0)
        {
            var m = Grow(ref _m, (long)rank * rank);
            _middle(rank * rank, hb, b, m, outFeatures, rank);
            _gradientA(rank * inFeatures, hb, w0, m, a, gradient, c, outFeatures, inFeatures, rank);
        }
        else
        {
            _gradientB(outFeatures * rank, h, _p!.View, _g!.View, b, gradient, c, rank);
        }
    }

    // The CPU kernels' checks (NormalizeKernels), on device views: a bad argument throws before any launch.
    private static void Check(int batch, int outFeatures, int inFeatures, int rank, ArrayView<float> w0, ArrayView<float> a, ArrayView<float> b)
    {
        KernelArguments.NonNegative(batch, nameof(batch));
        KernelArguments.NonNegative(outFeatures, nameof(outFeatures));
        KernelArguments.NonNegative(inFeatures, nameof(inFeatures));
        if (rank < 0) throw new ArgumentException($"rank must be non-negative (0: weight normalisation), got {rank}.", nameof(rank));
        KernelArguments.FitsInt32((long)outFeatures * inFeatures, nameof(outFeatures), "out * in");
        KernelArguments.FitsInt32((long)batch * outFeatures, nameof(batch), "batch * out");
        KernelArguments.Length(w0.Length, (long)outFeatures * inFeatures, nameof(w0), "out * in");
        if (rank == 0) return;
        KernelArguments.Length(a.Length, (long)rank * inFeatures, nameof(a), "r * in");
        KernelArguments.Length(b.Length, (long)outFeatures * rank, nameof(b), "out * r");
    }

    public void Dispose()
    {
        _none?.Dispose();
        _norm?.Dispose();
        _p?.Dispose();
        _g?.Dispose();
        _h?.Dispose();
        _hb?.Dispose();
        _m?.Dispose();
    }

    private ArrayView<float> ComputeNorms(ArrayView<float> w0, ArrayView<float> a, ArrayView<float> b, float c, int outFeatures, int inFeatures, int rank)
    {
        if (rank == 0) a = b = Grow(ref _none, 1);
        var norm = Grow(ref _norm, outFeatures);
        var p = Grow(ref _p, Math.Max(1, (long)outFeatures * rank));
        var g = Grow(ref _g, Math.Max(1, (long)rank * rank));
        if (rank > 0) _gram(rank * rank, a, g, inFeatures, rank);
        _norms(outFeatures, w0, a, b, g, p, norm, c, inFeatures, rank);
        return norm;
    }

    private ArrayView<float> Grow(ref MemoryBuffer1D<float, Stride1D.Dense>? buffer, long length)
    {
        if (buffer is null || buffer.Length < length)
        {
            buffer?.Dispose();
            buffer = _accelerator.Allocate1D<float>(Math.Max(1, length));
        }
        return buffer.View.SubView(0, length);
    }

    // g[k, l] = Σ_i a[k, i] a[l, i]
    private static void Gram(Index1D e, ArrayView<float> a, ArrayView<float> g, int inFeatures, int rank)
    {
        var k = e / rank;
        var l = e - k * rank;
        var s = 0.0;
        for (var i = 0; i < inFeatures; i++) s += (double)a[k * inFeatures + i] * a[l * inFeatures + i];
        g[e] = (float)s;
    }

    // Row o: p[o, k] = (W0 Aᵀ)[o, k]; ‖V_o‖² = ‖W0_o‖² + 2c p_o·B_o + c² B_o G B_oᵀ (a zero row gives 1).
    private static void Norms(Index1D o, ArrayView<float> w0, ArrayView<float> a, ArrayView<float> b, ArrayView<float> g, ArrayView<float> p, ArrayView<float> norm,
        float c, int inFeatures, int rank)
    {
        var base2 = 0.0;
        for (var i = 0; i < inFeatures; i++) base2 += (double)w0[o * inFeatures + i] * w0[o * inFeatures + i];
        var cross = 0.0;
        var low = 0.0;
        for (var k = 0; k < rank; k++)
        {
            var s = 0.0;
            for (var i = 0; i < inFeatures; i++) s += (double)w0[o * inFeatures + i] * a[k * inFeatures + i];
            p[o * rank + k] = (float)s;
            cross += (double)(float)s * b[o * rank + k];
            for (var l = 0; l < rank; l++) low += (double)b[o * rank + k] * g[k * rank + l] * b[o * rank + l];
        }
        var squared = base2 + 2.0 * c * cross + (double)c * c * low;
        norm[o] = squared > 0 ? (float)Math.Sqrt(squared) : 1.0f;
    }

    private static void Scale(Index2D index, ArrayView<float> v, ArrayView<float> norm, ArrayView<float> y, int outFeatures, int accumulate)
    {
        var at = index.X * outFeatures + index.Y;
        var value = v[at] / norm[index.Y];
        y[at] = accumulate != 0 ? y[at] + value : value;
    }

    // h_o = −(Σ_rows dy_o v_o) / ‖V_o‖³ and hb[o, k] = h_o B[o, k].
    private static void Weights(Index1D o, ArrayView<float> dy, ArrayView<float> v, ArrayView<float> norm, ArrayView<float> b, ArrayView<float> h, ArrayView<float> hb,
        int batch, int outFeatures, int rank)
    {
        var s = 0.0;
        for (var row = 0; row < batch; row++) s += (double)dy[row * outFeatures + o] * v[row * outFeatures + o];
        var n = (double)norm[o];
        var value = (float)(-s / (n * n * n));
        h[o] = value;
        for (var k = 0; k < rank; k++) hb[o * rank + k] = value * b[o * rank + k];
    }

    // m[k, l] = Σ_o hb[o, k] B[o, l]
    private static void Middle(Index1D e, ArrayView<float> hb, ArrayView<float> b, ArrayView<float> m, int outFeatures, int rank)
    {
        var k = e / rank;
        var l = e - k * rank;
        var s = 0.0;
        for (var o = 0; o < outFeatures; o++) s += (double)hb[o * rank + k] * b[o * rank + l];
        m[e] = (float)s;
    }

    // ∂L/∂A[k, i] += c Σ_o hb[o, k] W0[o, i] + c² Σ_l m[k, l] A[l, i]
    private static void GradientA(Index1D e, ArrayView<float> hb, ArrayView<float> w0, ArrayView<float> m, ArrayView<float> a, ArrayView<float> gradient,
        float c, int outFeatures, int inFeatures, int rank)
    {
        var k = e / inFeatures;
        var i = e - k * inFeatures;
        var s = 0.0;
        for (var o = 0; o < outFeatures; o++) s += (double)hb[o * rank + k] * w0[o * inFeatures + i];
        var t = 0.0;
        for (var l = 0; l < rank; l++) t += (double)m[k * rank + l] * a[l * inFeatures + i];
        gradient[e] += (float)(c * s + (double)c * c * t);
    }

    // Weight normalisation: ∂L/∂W0[o, i] += h_o W0[o, i]
    private static void GradientBase(Index1D e, ArrayView<float> h, ArrayView<float> w0, ArrayView<float> gradient, int inFeatures)
    {
        gradient[e] += h[e / inFeatures] * w0[e];
    }

    // ∂L/∂B[o, k] += c h_o (p[o, k] + c Σ_l B[o, l] G[l, k])
    private static void GradientB(Index1D e, ArrayView<float> h, ArrayView<float> p, ArrayView<float> g, ArrayView<float> b, ArrayView<float> gradient, float c, int rank)
    {
        var o = e / rank;
        var k = e - o * rank;
        var s = 0.0;
        for (var l = 0; l < rank; l++) s += (double)b[o * rank + l] * g[l * rank + k];
        gradient[e] += (float)(c * h[o] * (p[e] + c * s));
    }
}
