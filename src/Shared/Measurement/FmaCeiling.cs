using System;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Threading;

namespace StructMat.Measurement;

/// <summary>
/// The machine's fused multiply-add ceiling, measured where the benchmarks run (issue 16, goal 1): a loop of independent
/// fused multiply-adds on registers only (16 accumulators of the widest hardware vector, enough to cover the latency of
/// two FMA pipes), on one thread and on every logical core at once; the best of five runs of about 100 ms each. Useful
/// GFLOP/s divided by the all-threads figure is a case's share of the machine (<see cref="CeilingColumn"/>).
/// </summary>
public static class FmaCeiling
{
    private static readonly Lazy<(double Single, double All)> s_measured = new(() => (Measure(1), Measure(Environment.ProcessorCount)));

    /// <summary>GFLOP/s of one thread (2 flops per multiply-add lane).</summary>
    public static double SingleThread => s_measured.Value.Single;

    /// <summary>GFLOP/s of all logical cores together.</summary>
    public static double AllThreads => s_measured.Value.All;

    public static string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"FMA ceiling (register-only loop, {VectorName}): {SingleThread:F1} GFLOP/s on 1 thread, {AllThreads:F1} GFLOP/s on {Environment.ProcessorCount}");

    private static string VectorName => Vector512.IsHardwareAccelerated ? "512-bit vectors" : Vector256.IsHardwareAccelerated ? "256-bit vectors" : "128-bit vectors";

    private static volatile float s_sink;

    private static double Measure(int threads)
    {
        const long iterations = 20_000_000;
        double best = 0;
        for (int run = 0; run < 5; run++)
        {
            using var start = new Barrier(threads + 1);
            var workers = new Thread[threads];
            long flopsPerThread = 0;
            for (int t = 0; t < threads; t++)
            {
                workers[t] = new Thread(() =>
                {
                    start.SignalAndWait();
                    var flops = Loop(iterations);
                    Interlocked.Exchange(ref flopsPerThread, flops);
                }) { IsBackground = true };
                workers[t].Start();
            }
            start.SignalAndWait();
            var clock = Stopwatch.StartNew();
            foreach (var worker in workers) worker.Join();
            var seconds = clock.Elapsed.TotalSeconds;
            best = Math.Max(best, flopsPerThread * threads / seconds / 1e9);
        }
        return best;
    }

    /// <summary>16 independent chains of fused multiply-adds; returns the flops done.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static long Loop(long iterations)
    {
        if (Vector512.IsHardwareAccelerated) return Loop512(iterations);
        if (Vector256.IsHardwareAccelerated) return Loop256(iterations);
        return Loop128(iterations);
    }

    private static long Loop512(long iterations)
    {
        var m = Vector512.Create(0.999999f);
        var a = Vector512.Create(1e-7f);
        Vector512<float> c0 = Vector512.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        Vector512<float> c8 = c0, c9 = c0, c10 = c0, c11 = c0, c12 = c0, c13 = c0, c14 = c0, c15 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector512.FusedMultiplyAdd(c0, m, a); c1 = Vector512.FusedMultiplyAdd(c1, m, a);
            c2 = Vector512.FusedMultiplyAdd(c2, m, a); c3 = Vector512.FusedMultiplyAdd(c3, m, a);
            c4 = Vector512.FusedMultiplyAdd(c4, m, a); c5 = Vector512.FusedMultiplyAdd(c5, m, a);
            c6 = Vector512.FusedMultiplyAdd(c6, m, a); c7 = Vector512.FusedMultiplyAdd(c7, m, a);
            c8 = Vector512.FusedMultiplyAdd(c8, m, a); c9 = Vector512.FusedMultiplyAdd(c9, m, a);
            c10 = Vector512.FusedMultiplyAdd(c10, m, a); c11 = Vector512.FusedMultiplyAdd(c11, m, a);
            c12 = Vector512.FusedMultiplyAdd(c12, m, a); c13 = Vector512.FusedMultiplyAdd(c13, m, a);
            c14 = Vector512.FusedMultiplyAdd(c14, m, a); c15 = Vector512.FusedMultiplyAdd(c15, m, a);
        }
        var sum = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11 + c12 + c13 + c14 + c15;
        s_sink = Vector512.Sum(sum);
        return iterations * 16 * Vector512<float>.Count * 2;
    }

    private static long Loop256(long iterations)
    {
        var m = Vector256.Create(0.999999f);
        var a = Vector256.Create(1e-7f);
        Vector256<float> c0 = Vector256.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        Vector256<float> c8 = c0, c9 = c0, c10 = c0, c11 = c0, c12 = c0, c13 = c0, c14 = c0, c15 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector256.FusedMultiplyAdd(c0, m, a); c1 = Vector256.FusedMultiplyAdd(c1, m, a);
            c2 = Vector256.FusedMultiplyAdd(c2, m, a); c3 = Vector256.FusedMultiplyAdd(c3, m, a);
            c4 = Vector256.FusedMultiplyAdd(c4, m, a); c5 = Vector256.FusedMultiplyAdd(c5, m, a);
            c6 = Vector256.FusedMultiplyAdd(c6, m, a); c7 = Vector256.FusedMultiplyAdd(c7, m, a);
            c8 = Vector256.FusedMultiplyAdd(c8, m, a); c9 = Vector256.FusedMultiplyAdd(c9, m, a);
            c10 = Vector256.FusedMultiplyAdd(c10, m, a); c11 = Vector256.FusedMultiplyAdd(c11, m, a);
            c12 = Vector256.FusedMultiplyAdd(c12, m, a); c13 = Vector256.FusedMultiplyAdd(c13, m, a);
            c14 = Vector256.FusedMultiplyAdd(c14, m, a); c15 = Vector256.FusedMultiplyAdd(c15, m, a);
        }
        var sum = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11 + c12 + c13 + c14 + c15;
        s_sink = Vector256.Sum(sum);
        return iterations * 16 * Vector256<float>.Count * 2;
    }

    private static long Loop128(long iterations)
    {
        var m = Vector128.Create(0.999999f);
        var a = Vector128.Create(1e-7f);
        Vector128<float> c0 = Vector128.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector128.FusedMultiplyAdd(c0, m, a); c1 = Vector128.FusedMultiplyAdd(c1, m, a);
            c2 = Vector128.FusedMultiplyAdd(c2, m, a); c3 = Vector128.FusedMultiplyAdd(c3, m, a);
            c4 = Vector128.FusedMultiplyAdd(c4, m, a); c5 = Vector128.FusedMultiplyAdd(c5, m, a);
            c6 = Vector128.FusedMultiplyAdd(c6, m, a); c7 = Vector128.FusedMultiplyAdd(c7, m, a);
        }
        s_sink = Vector128.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7);
        return iterations * 8 * Vector128<float>.Count * 2;
    }
}
