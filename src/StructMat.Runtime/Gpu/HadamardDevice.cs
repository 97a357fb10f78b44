using System;
using ILGPU;
using ILGPU.Runtime;
using StructMat.Runtime.Kernels;

namespace StructMat.Runtime.Gpu;

/// <summary>
/// LoHa's elementwise product of two low-ranks on an ILGPU accelerator (the math of
/// <see cref="Kernels.HadamardKernels"/>): each call builds the face-splitting factors Ã <c>[r1·r2, in]</c> and
/// B̃ <c>[out, r1·r2]</c>, one thread per element, then runs the batch as two rank-r1·r2 products, one thread per output
/// element, summing in a fixed order. The device scratch (Ã, B̃, one <c>[batch, r1·r2]</c> activation and one factor-sized
/// gradient) is owned here and grown on demand; never the <c>out × in</c> matrix.
/// </summary>
public sealed class HadamardDevice : IDisposable
{
    private readonly Accelerator _accelerator;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> _buildDown;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> _buildUp;
    private readonly Action<Index2D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> _rowsTimes;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> _outerSum;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int> _reduceDown;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int> _reduceUp;
    private MemoryBuffer1D<float, Stride1D.Dense>? _down, _up, _rows, _product;

    public HadamardDevice(Accelerator accelerator)
    {
        _accelerator = accelerator ?? throw new ArgumentNullException(nameof(accelerator));
        _buildDown = KernelCache.GetOrLoad(accelerator, "StructMat.Runtime.Hadamard.BuildDown",
            a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(BuildDown));
        _buildUp = KernelCache.GetOrLoad(accelerator, "StructMat.Runtime.Hadamard.BuildUp",
            a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(BuildUp));
        _rowsTimes = KernelCache.GetOrLoad(accelerator, "StructMat.Runtime.Hadamard.RowsTimes",
            a => a.LoadAutoGroupedStreamKernel<Index2D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(RowsTimes));
        _outerSum = KernelCache.GetOrLoad(accelerator, "StructMat.Runtime.Hadamard.OuterSum",
            a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(OuterSum));
        _reduceDown = KernelCache.GetOrLoad(accelerator, "StructMat.Runtime.Hadamard.ReduceDown",
            a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int>(ReduceDown));
        _reduceUp = KernelCache.GetOrLoad(accelerator, "StructMat.Runtime.Hadamard.ReduceUp",
            a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int>(ReduceUp));
    }

    /// <summary><c>y (+)= ((B1 A1) ∘ (B2 A2)) x</c>, or its transpose applied to <paramref name="x"/> when <paramref name="transposed"/>.</summary>
    public void Apply(ArrayView<float> x, ArrayView<float> y, ArrayView<float> a1, ArrayView<float> b1, ArrayView<float> a2, ArrayView<float> b2,
        int batch, int inFeatures, int outFeatures, int r1, int r2, bool transposed, bool accumulate)
    {
        Check(batch, inFeatures, outFeatures, r1, r2, a1, b1, a2, b2);
        KernelArguments.Length(x.Length, (long)batch * (transposed ? outFeatures : inFeatures), nameof(x), "batch * its width");
        KernelArguments.Length(y.Length, (long)batch * (transposed ? inFeatures : outFeatures), nameof(y), "batch * its width");
        if (batch == 0) return;
        var (down, up) = Build(a1, b1, a2, b2, inFeatures, outFeatures, r1, r2);
        var rank = r1 * r2;
        var s = Grow(ref _rows, (long)batch * rank);
        if (!transposed)
        {
            _rowsTimes(new Index2D(batch, rank), x, down, s, inFeatures, rank, Flags(transposedMatrix: true, accumulate: false));
            _rowsTimes(new Index2D(batch, outFeatures), s, up, y, rank, outFeatures, Flags(transposedMatrix: true, accumulate));
        }
        else
        {
            _rowsTimes(new Index2D(batch, rank), x, up, s, outFeatures, rank, Flags(transposedMatrix: false, accumulate: false));
            _rowsTimes(new Index2D(batch, inFeatures), s, down, y, rank, inFeatures, Flags(transposedMatrix: false, accumulate));
        }
    }

    /// <summary><c>gradient += ∂L/∂factor</c> for <paramref name="target"/> 0 = A1, 1 = B1, 2 = A2, 3 = B2.</summary>
    public void Gradient(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> a1, ArrayView<float> b1, ArrayView<float> a2, ArrayView<float> b2,
        ArrayView<float> gradient, int target, int batch, int inFeatures, int outFeatures, int r1, int r2)
    {
        Check(batch, inFeatures, outFeatures, r1, r2, a1, b1, a2, b2);
        if (target is < 0 or > 3) throw new ArgumentException($"target must be 0 (A1), 1 (B1), 2 (A2) or 3 (B2), got {target}.", nameof(target));
        KernelArguments.Length(x.Length, (long)batch * inFeatures, nameof(x), "batch * in");
        KernelArguments.Length(dy.Length, (long)batch * outFeatures, nameof(dy), "batch * out");
        var (factorRows, factorCols) = target switch { 0 => (r1, inFeatures), 1 => (outFeatures, r1), 2 => (r2, inFeatures), _ => (outFeatures, r2) };
        KernelArguments.Length(gradient.Length, (long)factorRows * factorCols, nameof(gradient), "the factor's size");
        if (batch == 0) return;
        var (down, up) = Build(a1, b1, a2, b2, inFeatures, outFeatures, r1, r2);
        var rank = r1 * r2;
        var s = Grow(ref _rows, (long)batch * rank);
        if (target % 2 == 0)
        {
            var dDown = Grow(ref _product, (long)rank * inFeatures);
            _rowsTimes(new Index2D(batch, rank), dy, up, s, outFeatures, rank, Flags(transposedMatrix: false, accumulate: false));
            _outerSum(rank * inFeatures, s, x, dDown, batch, rank, inFeatures);
            var rows = target == 0 ? r1 : r2;
            _reduceDown(rows * inFeatures, dDown, target == 0 ? a2 : a1, gradient, inFeatures, r1, r2, target == 0 ? 1 : 0);
        }
        else
        {
            var dUp = Grow(ref _product, (long)outFeatures * rank);
            _rowsTimes(new Index2D(batch, rank), x, down, s, inFeatures, rank, Flags(transposedMatrix: true, accumulate: false));
            _outerSum(outFeatures * rank, dy, s, dUp, batch, outFeatures, rank);
            var mine = target == 1 ? r1 : r2;
            _reduceUp(outFeatures * mine, dUp, target == 1 ? b2 : b1, gradient, outFeatures, r1, r2, target == 1 ? 1 : 0);
        }
    }

    // The CPU kernels' checks (HadamardKernels), on device views: a bad argument throws before any launch.
    private static void Check(int batch, int inFeatures, int outFeatures, int r1, int r2,
        ArrayView<float> a1, ArrayView<float> b1, ArrayView<float> a2, ArrayView<float> b2)
    {
        KernelArguments.NonNegative(batch, nameof(batch));
        KernelArguments.NonNegative(inFeatures, nameof(inFeatures));
        KernelArguments.NonNegative(outFeatures, nameof(outFeatures));
        if (r1 < 1) throw new ArgumentException($"r1 must be positive, got {r1}.", nameof(r1));
        if (r2 < 1) throw new ArgumentException($"r2 must be positive, got {r2}.", nameof(r2));
        KernelArguments.FitsInt32((long)r1 * r2 * Math.Max(inFeatures, outFeatures), nameof(r2), "r1 * r2 * features");
        KernelArguments.FitsInt32((long)batch * Math.Max(Math.Max(inFeatures, outFeatures), r1 * r2), nameof(batch), "batch * features");
        KernelArguments.Length(a1.Length, (long)r1 * inFeatures, nameof(a1), "r1 * in");
        KernelArguments.Length(b1.Length, (long)outFeatures * r1, nameof(b1), "out * r1");
        KernelArguments.Length(a2.Length, (long)r2 * inFeatures, nameof(a2), "r2 * in");
        KernelArguments.Length(b2.Length, (long)outFeatures * r2, nameof(b2), "out * r2");
    }

    public void Dispose()
    {
        _down?.Dispose();
        _up?.Dispose();
        _rows?.Dispose();
        _product?.Dispose();
    }

    private static int Flags(bool transposedMatrix, bool accumulate) => (transposedMatrix ? 1 : 0) | (accumulate ? 2 : 0);

    private (ArrayView<float> Down, ArrayView<float> Up) Build(ArrayView<float> a1, ArrayView<float> b1, ArrayView<float> a2, ArrayView<float> b2,
        int inFeatures, int outFeatures, int r1, int r2)
    {
        var rank = r1 * r2;
        var down = Grow(ref _down, (long)rank * inFeatures);
        var up = Grow(ref _up, (long)outFeatures * rank);
        _buildDown(rank * inFeatures, a1, a2, down, inFeatures, r2);
        _buildUp(outFeatures * rank, b1, b2, up, r1, r2);
        return (down, up);
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

    // down[(p·r2 + q)·in + i] = a1[p·in + i] · a2[q·in + i]
    private static void BuildDown(Index1D e, ArrayView<float> a1, ArrayView<float> a2, ArrayView<float> down, int inFeatures, int r2)
    {
        var pq = e / inFeatures;
        var i = e - pq * inFeatures;
        var p = pq / r2;
        var q = pq - p * r2;
        down[e] = a1[p * inFeatures + i] * a2[q * inFeatures + i];
    }

    // up[o·rank + p·r2 + q] = b1[o·r1 + p] · b2[o·r2 + q]
    private static void BuildUp(Index1D e, ArrayView<float> b1, ArrayView<float> b2, ArrayView<float> up, int r1, int r2)
    {
        var rank = r1 * r2;
        var o = e / rank;
        var pq = e - o * rank;
        var p = pq / r2;
        var q = pq - p * r2;
        up[e] = b1[o * r1 + p] * b2[o * r2 + q];
    }

    // y[b, j] (+)= Σ_k x[b, k] · m(j, k), with m [J, K] (flags & 1: m(j, k) = m[j·K + k]) or [K, J] (m(j, k) = m[k·J + j]).
    private static void RowsTimes(Index2D index, ArrayView<float> x, ArrayView<float> m, ArrayView<float> y, int k, int j, int flags)
    {
        var row = index.X;
        var col = index.Y;
        var sum = 0.0f;
        if ((flags & 1) != 0)
        {
            for (var t = 0; t < k; t++) sum += x[row * k + t] * m[col * k + t];
        }
        else
        {
            for (var t = 0; t < k; t++) sum += x[row * k + t] * m[t * j + col];
        }
        var at = row * j + col;
        y[at] = (flags & 2) != 0 ? y[at] + sum : sum;
    }

    // g[a, c] = Σ_b u[b, a] · x[b, c], with u [batch, A] and x [batch, C], summed in row order.
    private static void OuterSum(Index1D e, ArrayView<float> u, ArrayView<float> x, ArrayView<float> g, int batch, int a, int c)
    {
        var ai = e / c;
        var ci = e - ai * c;
        var sum = 0.0f;
        for (var b = 0; b < batch; b++) sum += u[b * a + ai] * x[b * c + ci];
        g[e] = sum;
    }

    // left (A1's gradient, mine = p): g[p·in + i] += Σ_q d[(p·r2 + q)·in + i] · other[q·in + i]; else (A2's, mine = q) over p.
    private static void ReduceDown(Index1D e, ArrayView<float> d, ArrayView<float> other, ArrayView<float> g, int inFeatures, int r1, int r2, int left)
    {
        var mine = e / inFeatures;
        var i = e - mine * inFeatures;
        var sum = 0.0f;
        var count = left != 0 ? r2 : r1;
        for (var t = 0; t < count; t++)
        {
            var pq = left != 0 ? mine * r2 + t : t * r2 + mine;
            sum += d[pq * inFeatures + i] * other[t * inFeatures + i];
        }
        g[e] += sum;
    }

    // left (B1's gradient, mine = p): g[o·r1 + p] += Σ_q d[o·rank + p·r2 + q] · other[o·r2 + q]; else (B2's, mine = q) over p.
    private static void ReduceUp(Index1D e, ArrayView<float> d, ArrayView<float> other, ArrayView<float> g, int outFeatures, int r1, int r2, int left)
    {
        var mineRank = left != 0 ? r1 : r2;
        var o = e / mineRank;
        var mine = e - o * mineRank;
        var rank = r1 * r2;
        var sum = 0.0f;
        var count = left != 0 ? r2 : r1;
        for (var t = 0; t < count; t++)
        {
            var pq = left != 0 ? mine * r2 + t : t * r2 + mine;
            sum += d[o * rank + pq] * other[o * count + t];
        }
        g[e] += sum;
    }
}
