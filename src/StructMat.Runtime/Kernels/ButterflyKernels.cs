using System;
using System.Buffers;
using System.Runtime.Intrinsics;

namespace StructMat.Runtime.Kernels;

/// <summary>
/// <c>butterfly()</c>: <c>y = B_{F−1} ⋯ B_0 x</c> for n = 2^F with twiddles <c>[F, n/2, 2, 2]</c>, factor k (stride s = 2^k)
/// mapping <c>y[g·2s + a·s + j] = Σ_c W[k, g·s + j, a, c] · x[g·2s + c·s + j]</c>. Each row goes through all F factors in a
/// buffer of its own (n floats: 16 KB at n = 4096, in L1), so a call reads x and writes y once; the twiddles are re-laid out
/// once per call by entry (<c>[F, 4, n/2]</c>) so that eight consecutive blocks load as vectors (strides of 8 and more;
/// the three smallest strides run element by element). Each output is <c>fma(W[a,1], x_1, W[a,0] · x_0)</c>, the same for
/// every batch size and thread count. Rows are split over threads.
/// </summary>
public static unsafe class ButterflyKernels
{
    /// <summary><c>y = (accumulate ? y : 0) + B x</c> for each of <paramref name="rows"/> rows of width <paramref name="n"/>.</summary>
    public static void Apply(ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<float> twiddle, int rows, int n, bool accumulate) =>
        Run(x, y, twiddle, rows, n, accumulate, transposed: false);

    /// <summary><c>dx = (accumulate ? dx : 0) + Bᵀ dy</c>: the input gradient of <see cref="Apply"/>.</summary>
    public static void ApplyTransposed(ReadOnlySpan<float> dy, Span<float> dx, ReadOnlySpan<float> twiddle, int rows, int n, bool accumulate) =>
        Run(dy, dx, twiddle, rows, n, accumulate, transposed: true);

    /// <summary>
    /// <c>gradient += ∂(Σ dyᵀ B x)/∂W</c> (<c>[F, n/2, 2, 2]</c>): each row's factor inputs recomputed in a buffer of
    /// <c>F · n</c> floats, then the output gradient taken back through the factors; sums per block of 64 rows, added in
    /// block order, so the bits do not depend on the thread count.
    /// </summary>
    public static void Gradient(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> twiddle, Span<float> gradient, int rows, int n)
    {
        int factors = Check(twiddle, rows, n);
        KernelArguments.Length(x.Length, (long)rows * n, nameof(x), "rows * n");
        KernelArguments.Length(dy.Length, (long)rows * n, nameof(dy), "rows * n");
        KernelArguments.Length(gradient.Length, (long)factors * n * 2, nameof(gradient), "log2(n) * n/2 * 4");
        if (rows == 0) return;
        var soa = Entries(twiddle, factors, n);
        // Rows in fixed blocks (from the shape alone), each summed on its own and added in block order: the same bits
        // whatever the thread count, and serial or not.
        int blocks = (rows + GradientRows - 1) / GradientRows;
        var sums = new float[blocks][];
        try
        {
            fixed (float* px = x, pdy = dy, pw = soa)
            {
                nint xAddress = (nint)px, dyAddress = (nint)pdy, wAddress = (nint)pw;
                KernelThreading.RangeAction body = (first, end) =>
                {
                    var buffers = ArrayPool<float>.Shared.Rent((factors + 2) * n);
                    try
                    {
                        fixed (float* pb = buffers)
                        {
                            for (int block = first; block < end; block++)
                            {
                                var sum = new float[factors * n * 2];
                                fixed (float* ps = sum)
                                {
                                    for (int r = (int)((long)rows * block / blocks); r < (int)((long)rows * (block + 1) / blocks); r++)
                                        GradientRow((float*)xAddress + (long)r * n, (float*)dyAddress + (long)r * n, (float*)wAddress, ps, pb, factors, n);
                                }
                                sums[block] = sum;
                            }
                        }
                    }
                    finally
                    {
                        ArrayPool<float>.Shared.Return(buffers);
                    }
                };
                long work = (long)rows * factors * n * 6;
                if (KernelThreading.MaySplit(work)) KernelThreading.RunChunks(blocks, Math.Min(blocks, KernelThreading.BalancingChunks), body);
                else body(0, blocks);
            }
            int half = n / 2;
            foreach (var sum in sums)
                for (int k = 0; k < factors; k++)
                    for (int e = 0; e < 4; e++)
                        for (int j = 0; j < half; j++)
                            gradient[((k * half + j) << 2) + e] += sum[(k * 4 + e) * half + j];
        }
        finally
        {
            ArrayPool<float>.Shared.Return(soa);
        }
    }

    /// <summary>Rows per block of the gradient's sums: blocks, not threads, fix the order of the additions.</summary>
    private const int GradientRows = 64;

    private static void Run(ReadOnlySpan<float> input, Span<float> output, ReadOnlySpan<float> twiddle, int rows, int n, bool accumulate, bool transposed)
    {
        int factors = Check(twiddle, rows, n);
        KernelArguments.Length(input.Length, (long)rows * n, transposed ? "dy" : "x", "rows * n");
        KernelArguments.Length(output.Length, (long)rows * n, transposed ? "dx" : "y", "rows * n");
        if (rows == 0) return;
        var soa = Entries(twiddle, factors, n);
        try
        {
            fixed (float* pin = input, pout = output, pw = soa)
            {
                nint inAddress = (nint)pin, outAddress = (nint)pout, wAddress = (nint)pw;
                long work = (long)rows * factors * n * 2;
                KernelThreading.Split(work, rows, KernelThreading.ChunksForWork(work), (start, end) =>
                {
                    var buffers = ArrayPool<float>.Shared.Rent(2 * n);
                    try
                    {
                        fixed (float* pb = buffers)
                        {
                            for (int r = start; r < end; r++)
                            {
                                float* source = (float*)inAddress + (long)r * n, target = (float*)outAddress + (long)r * n;
                                if (transposed) TransposedRow(source, target, (float*)wAddress, pb, factors, n, accumulate);
                                else ForwardRow(source, target, (float*)wAddress, pb, factors, n, accumulate);
                            }
                        }
                    }
                    finally
                    {
                        ArrayPool<float>.Shared.Return(buffers);
                    }
                });
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(soa);
        }
    }

    private static int Check(ReadOnlySpan<float> twiddle, int rows, int n)
    {
        KernelArguments.NonNegative(rows, nameof(rows));
        if (n < 2 || (n & (n - 1)) != 0) throw new ArgumentException($"n must be a power of two of at least 2, got {n}.", nameof(n));
        int factors = 0;
        while (1 << factors < n) factors++;
        KernelArguments.FitsInt32((long)rows * n, nameof(rows), "rows * n");
        KernelArguments.Length(twiddle.Length, (long)factors * n * 2, nameof(twiddle), "log2(n) * n/2 * 4");
        return factors;
    }

    /// <summary>The twiddles by entry: <c>soa[(k·4 + a·2 + c)·n/2 + j] = W[k, j, a, c]</c> (rented; return it).</summary>
    private static float[] Entries(ReadOnlySpan<float> twiddle, int factors, int n)
    {
        int half = n / 2;
        var soa = ArrayPool<float>.Shared.Rent(factors * n * 2);
        for (int k = 0; k < factors; k++)
            for (int j = 0; j < half; j++)
                for (int e = 0; e < 4; e++)
                    soa[(k * 4 + e) * half + j] = twiddle[((k * half + j) << 2) + e];
        return soa;
    }

    /// <summary>
    /// One factor: <c>lo' = fma(A1, hi, A0·lo)</c>, <c>hi' = fma(B1, hi, B0·lo)</c> for every pair (lo, hi) = (v[g·2s + t],
    /// v[g·2s + s + t]), with <c>A0..B1</c> the entries <paramref name="a0"/> … <paramref name="b1"/> of block g·s + t:
    /// forward (W00, W01, W10, W11) or transposed (W00, W10, W01, W11).
    /// </summary>
    private static void Factor(float* source, float* target, int n, int stride, float* a0, float* a1, float* b0, float* b1)
    {
        int s = stride;
        for (int g = 0; g < n; g += 2 * s)
        {
            float* lo = source + g, hi = source + g + s, outLo = target + g, outHi = target + g + s;
            int j0 = g / 2; // block of (g, t = 0): g/(2s)·s
            int t = 0;
            if (Vector256.IsHardwareAccelerated && s >= 8)
            {
                for (; t < s; t += 8)
                {
                    var l = Vector256.Load(lo + t);
                    var h = Vector256.Load(hi + t);
                    Vector256.FusedMultiplyAdd(Vector256.Load(a1 + j0 + t), h, Vector256.Load(a0 + j0 + t) * l).Store(outLo + t);
                    Vector256.FusedMultiplyAdd(Vector256.Load(b1 + j0 + t), h, Vector256.Load(b0 + j0 + t) * l).Store(outHi + t);
                }
            }
            for (; t < s; t++)
            {
                float l = lo[t], h = hi[t];
                int j = j0 + t;
                outLo[t] = MathF.FusedMultiplyAdd(a1[j], h, a0[j] * l);
                outHi[t] = MathF.FusedMultiplyAdd(b1[j], h, b0[j] * l);
            }
        }
    }

    private static void ForwardRow(float* x, float* y, float* w, float* buffers, int factors, int n, bool accumulate)
    {
        int half = n / 2;
        float* current = x, free = buffers;
        for (int k = 0; k < factors; k++)
        {
            float* next = k == factors - 1 && !accumulate ? y : (free == buffers ? buffers : buffers + n);
            float* e = w + (long)k * 4 * half;
            Factor(current, next, n, 1 << k, e, e + half, e + 2 * half, e + 3 * half);
            current = next;
            free = next == buffers ? buffers + n : buffers;
        }
        if (accumulate) Add(current, y, n);
    }

    private static void TransposedRow(float* dy, float* dx, float* w, float* buffers, int factors, int n, bool accumulate)
    {
        int half = n / 2;
        float* current = dy, free = buffers;
        for (int k = factors - 1; k >= 0; k--)
        {
            float* next = k == 0 && !accumulate ? dx : (free == buffers ? buffers : buffers + n);
            float* e = w + (long)k * 4 * half;
            Factor(current, next, n, 1 << k, e, e + 2 * half, e + half, e + 3 * half);
            current = next;
            free = next == buffers ? buffers + n : buffers;
        }
        if (accumulate) Add(current, dx, n);
    }

    private static void Add(float* source, float* target, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= n; i += 8) (Vector256.Load(target + i) + Vector256.Load(source + i)).Store(target + i);
        for (; i < n; i++) target[i] += source[i];
    }

    /// <summary>One row's gradient: the factor inputs <c>buffers[k·n …]</c>, then the output gradient back through the factors.</summary>
    private static void GradientRow(float* x, float* dy, float* w, float* sum, float* buffers, int factors, int n)
    {
        int half = n / 2;
        // Inputs of every factor: factor 0 reads x; factor k > 0 reads the output of factor k − 1.
        float* inputs = buffers;
        new ReadOnlySpan<float>(x, n).CopyTo(new Span<float>(inputs, n));
        for (int k = 0; k + 1 < factors; k++)
        {
            float* e = w + (long)k * 4 * half;
            Factor(inputs + (long)k * n, inputs + (long)(k + 1) * n, n, 1 << k, e, e + half, e + 2 * half, e + 3 * half);
        }
        float* g = buffers + (long)factors * n, gNext = g + n;
        new ReadOnlySpan<float>(dy, n).CopyTo(new Span<float>(g, n));
        for (int k = factors - 1; k >= 0; k--)
        {
            int s = 1 << k;
            float* input = inputs + (long)k * n;
            float* d = sum + (long)k * 4 * half;
            for (int p = 0; p < n; p += 2 * s)
            {
                int j0 = p / 2;
                for (int t = 0; t < s; t++)
                {
                    float lo = input[p + t], hi = input[p + s + t], dLo = g[p + t], dHi = g[p + s + t];
                    int j = j0 + t;
                    d[j] += dLo * lo;
                    d[half + j] += dLo * hi;
                    d[2 * half + j] += dHi * lo;
                    d[3 * half + j] += dHi * hi;
                }
            }
            if (k == 0) break;
            float* e = w + (long)k * 4 * half;
            Factor(g, gNext, n, s, e, e + 2 * half, e + half, e + 3 * half);
            float* swap = g;
            g = gNext;
            gNext = swap;
        }
    }
}
