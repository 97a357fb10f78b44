using System;
using ILGPU;
using ILGPU.Runtime;
using StructMat.Runtime.Kernels;

namespace StructMat.Runtime.Gpu;

/// <summary>
/// <c>butterfly()</c> on an ILGPU accelerator (the math of <see cref="ButterflyKernels"/>): one launch per factor, one thread
/// per (row, 2 × 2 block), between two device scratch buffers owned here; the gradient keeps every factor's input
/// (<c>log2 n · rows · n</c> floats; the scratch is a <see cref="DeviceWorkspace"/>) and sums each twiddle entry over the rows in a fixed order, one thread per entry.
/// </summary>
public sealed class ButterflyDevice : IDisposable
{
    private readonly Action<Index2D, ArrayView<float>, ArrayView<float>, ArrayView<float>, FactorShape> _factor;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, FactorShape> _entries;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>> _add;
    private readonly DeviceWorkspace _scratch; // slots: 0 and 1 ping-pong between factors, 2 every factor's input (gradient)

    public ButterflyDevice(Accelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        _scratch = new DeviceWorkspace(accelerator, 3);
        _factor = KernelCache.GetOrLoad(accelerator, "StructMat.Runtime.Butterfly.Factor",
            a => a.LoadAutoGroupedStreamKernel<Index2D, ArrayView<float>, ArrayView<float>, ArrayView<float>, FactorShape>(FactorKernel));
        _entries = KernelCache.GetOrLoad(accelerator, "StructMat.Runtime.Butterfly.Entries",
            a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, FactorShape>(EntriesKernel));
        _add = KernelCache.GetOrLoad(accelerator, "StructMat.Runtime.Butterfly.Add",
            a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>>(AddKernel));
    }

    /// <summary><c>y = (accumulate ? y : 0) + B x</c>.</summary>
    public void Apply(ArrayView<float> x, ArrayView<float> y, ArrayView<float> twiddle, int rows, int n, bool accumulate) =>
        Run(x, y, twiddle, rows, n, accumulate, transposed: false);

    /// <summary><c>dx = (accumulate ? dx : 0) + Bᵀ dy</c>.</summary>
    public void ApplyTransposed(ArrayView<float> dy, ArrayView<float> dx, ArrayView<float> twiddle, int rows, int n, bool accumulate) =>
        Run(dy, dx, twiddle, rows, n, accumulate, transposed: true);

    /// <summary><c>gradient += ∂(Σ dyᵀ B x)/∂W</c>.</summary>
    public void Gradient(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> twiddle, ArrayView<float> gradient, int rows, int n)
    {
        int factors = Check(twiddle, rows, n);
        KernelArguments.FitsInt32((long)rows * n * factors, nameof(rows), "rows * n * log2(n) (every factor's input is kept)");
        KernelArguments.Length(x.Length, (long)rows * n, nameof(x), "rows * n");
        KernelArguments.Length(dy.Length, (long)rows * n, nameof(dy), "rows * n");
        KernelArguments.Length(gradient.Length, (long)factors * n * 2, nameof(gradient), "log2(n) * n/2 * 4");
        if (rows == 0) return;
        long size = (long)rows * n;
        var inputs = _scratch.Get(2, factors * size);
        inputs.SubView(0, size).CopyFrom(x.SubView(0, size));
        for (int k = 0; k + 1 < factors; k++)
            _factor(new Index2D(rows, n / 2), inputs.SubView(k * size, size), inputs.SubView((k + 1) * size, size), twiddle, new FactorShape(n, k, 0, 0));
        var g = _scratch.Get(0, size);
        var next = _scratch.Get(1, size);
        g.CopyFrom(dy.SubView(0, size));
        for (int k = factors - 1; k >= 0; k--)
        {
            _entries(new Index1D(n * 2), inputs.SubView(k * size, size), g, gradient, new FactorShape(n, k, 0, rows));
            if (k == 0) break;
            _factor(new Index2D(rows, n / 2), g, next, twiddle, new FactorShape(n, k, 1, 0));
            (g, next) = (next, g);
        }
    }

    public void Dispose() => _scratch.Dispose();

    private void Run(ArrayView<float> input, ArrayView<float> output, ArrayView<float> twiddle, int rows, int n, bool accumulate, bool transposed)
    {
        int factors = Check(twiddle, rows, n);
        KernelArguments.Length(input.Length, (long)rows * n, transposed ? "dy" : "x", "rows * n");
        KernelArguments.Length(output.Length, (long)rows * n, transposed ? "dx" : "y", "rows * n");
        if (rows == 0) return;
        long size = (long)rows * n;
        var ping = _scratch.Get(0, size);
        var pong = _scratch.Get(1, size);
        var current = input.SubView(0, size);
        for (int step = 0; step < factors; step++)
        {
            int k = transposed ? factors - 1 - step : step;
            var next = step == factors - 1 && !accumulate ? output.SubView(0, size) : (step % 2 == 0 ? ping : pong);
            _factor(new Index2D(rows, n / 2), current, next, twiddle, new FactorShape(n, k, transposed ? 1 : 0, 0));
            current = next;
        }
        if (accumulate) _add(new Index1D(checked((int)size)), current, output);
    }

    private static int Check(ArrayView<float> twiddle, int rows, int n)
    {
        KernelArguments.NonNegative(rows, nameof(rows));
        if (n < 2 || (n & (n - 1)) != 0) throw new ArgumentException($"n must be a power of two of at least 2, got {n}.", nameof(n));
        int factors = 0;
        while (1 << factors < n) factors++;
        KernelArguments.FitsInt32((long)rows * n, nameof(rows), "rows * n");
        KernelArguments.Length(twiddle.Length, (long)factors * n * 2, nameof(twiddle), "log2(n) * n/2 * 4");
        return factors;
    }

    /// <summary>Factor k for (row, block j): the pair (lo, hi) at (g·2s + t, g·2s + s + t), j = g·s + t; transposed swaps W's entries 01 and 10.</summary>
    private static void FactorKernel(Index2D index, ArrayView<float> source, ArrayView<float> target, ArrayView<float> twiddle, FactorShape shape)
    {
        int row = index.X, j = index.Y, s = 1 << shape.K;
        int g = j / s, t = j - g * s;
        long lo = (long)row * shape.N + g * 2 * s + t, hi = lo + s;
        long w = ((long)shape.K * (shape.N / 2) + j) * 4;
        float l = source[lo], h = source[hi];
        float w01 = shape.Transposed != 0 ? twiddle[w + 2] : twiddle[w + 1];
        float w10 = shape.Transposed != 0 ? twiddle[w + 1] : twiddle[w + 2];
        target[lo] = twiddle[w] * l + w01 * h;
        target[hi] = w10 * l + twiddle[w + 3] * h;
    }

    /// <summary>One twiddle entry of factor k: <c>grad[k, j, a, c] += Σ_rows g[row, a-side] · input[row, c-side]</c>, rows in order.</summary>
    private static void EntriesKernel(Index1D index, ArrayView<float> input, ArrayView<float> outputGradient, ArrayView<float> gradient, FactorShape shape)
    {
        int entry = index.X, j = entry >> 2, a = (entry >> 1) & 1, c = entry & 1, s = 1 << shape.K;
        int g = j / s, t = j - g * s;
        int outPosition = g * 2 * s + a * s + t, inPosition = g * 2 * s + c * s + t;
        float sum = 0f;
        for (int row = 0; row < shape.Rows; row++)
            sum += outputGradient[(long)row * shape.N + outPosition] * input[(long)row * shape.N + inPosition];
        long target = ((long)shape.K * (shape.N / 2) + j) * 4 + a * 2 + c;
        gradient[target] += sum;
    }

    private static void AddKernel(Index1D index, ArrayView<float> source, ArrayView<float> target) => target[index] += source[index];
}

/// <summary>The scalar arguments of <see cref="ButterflyDevice"/>'s kernels.</summary>
public readonly struct FactorShape
{
    public FactorShape(int n, int k, int transposed, int rows)
    {
        N = n;
        K = k;
        Transposed = transposed;
        Rows = rows;
    }

    public readonly int N;

    public readonly int K;

    public readonly int Transposed;

    public readonly int Rows;
}
