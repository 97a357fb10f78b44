using System;
using ILGPU;
using ILGPU.Runtime;

namespace StructMat.Runtime.Gpu;

/// <summary>
/// Partial sums of split-K kernels: a tiled kernel whose reduction is cut into slices writes one plane of
/// partial sums per slice (<see cref="Get"/>); <see cref="SumInto"/> then adds the planes in slice order, so the
/// result is the same run after run (no atomics). One buffer per layer twin, grown on demand; ops reuse it in turn.
/// </summary>
public sealed class SplitPartials : IDisposable
{
    private readonly Accelerator _accelerator;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int, long, float, int> _sum;
    private MemoryBuffer1D<float, Stride1D.Dense>? _buffer;

    public SplitPartials(Accelerator accelerator)
    {
        _accelerator = accelerator ?? throw new ArgumentNullException(nameof(accelerator));
        _sum = KernelCache.GetOrLoad(accelerator, "StructMat.Runtime.SplitPartials.Sum",
            a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, long, float, int>(Sum));
    }

    /// <summary>Room for <paramref name="splits"/> planes of <paramref name="planeLength"/> floats (contents undefined).</summary>
    public ArrayView<float> Get(int splits, long planeLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(splits, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(planeLength);
        var length = checked(splits * planeLength);
        if (_buffer is null || _buffer.Length < length)
        {
            _buffer?.Dispose();
            _buffer = _accelerator.Allocate1D<float>(Math.Max(1, length));
        }
        return _buffer.View.SubView(0, length);
    }

    /// <summary>
    /// <c>output[e] (+)= alpha · Σ_s plane_s[e]</c> for e below <paramref name="planeLength"/>, over the planes that
    /// the last <see cref="Get"/> handed out, summed in order.
    /// </summary>
    public void SumInto(ArrayView<float> output, int splits, long planeLength, float alpha, bool accumulate)
    {
        if (_buffer is null || _buffer.Length < splits * planeLength || output.Length < planeLength)
        {
            throw new InvalidOperationException($"No {splits} partial-sum planes of {planeLength} floats to sum into an output of {output.Length}.");
        }
        if (planeLength == 0) return;
        _sum(checked((int)planeLength), _buffer.View, output, splits, planeLength, alpha, accumulate ? 1 : 0);
    }

    private static void Sum(Index1D e, ArrayView<float> partials, ArrayView<float> output, int splits, long planeLength, float alpha, int accumulate)
    {
        var sum = 0.0f;
        for (var s = 0; s < splits; s++) sum += partials[s * planeLength + e];
        output[e] = accumulate != 0 ? output[e] + alpha * sum : alpha * sum;
    }

    public void Dispose() => _buffer?.Dispose();
}
