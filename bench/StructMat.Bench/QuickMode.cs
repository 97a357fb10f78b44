using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using StructMat.Runtime;

namespace StructMat.Bench;

/// <summary>
/// <c>--quick</c>: a smoke test of every benchmark body, in process, without BenchmarkDotNet. Each structure and
/// the baseline at n = 1024 and 4096, batch 16: Forward and ForwardBackward run a few times, every output and
/// gradient must be finite (and y not all zero), the OpenBLAS baseline must agree with the generated dense
/// layer, and ONNX Runtime running each exported layer (structured and merged) must agree with its Forward. Prints rough times; they are not measurements. Exit code 1 on any failure.
/// </summary>
public static class QuickMode
{
    private const int Batch = 16;
    private const double BudgetMs = 40; // per body: repeat until this much time has passed (at least MinReps calls)
    private const int MinReps = 3;

    public static int Run()
    {
        var total = Stopwatch.StartNew();
        var failures = new List<string>();
        var rows = new List<string[]>();
        var ortRows = new List<string[]>();
        var ci = CultureInfo.InvariantCulture;
        Console.WriteLine($"StructMat.Bench --quick: SMOKE TEST, NOT A MEASUREMENT (few in-process calls, no warm-up control, batch {Batch}).");
        Console.WriteLine(FmaCeiling.Describe());
        Console.WriteLine($"Baseline: {LayerCatalog.Label(LayerCatalog.Baseline, 1024)}{(OpenBlas.Instance is { } blas ? " — " + blas.Describe() : "")}");
        WarmUp();
        foreach (var n in LayerCatalog.Sizes)
        {
            Workload? dense = null, sgemm = null;
            foreach (var name in LayerCatalog.Names())
            {
                try
                {
                    var work = new Workload(name, n, Batch);
                    var macs = LayerCatalog.Cost(name, n).Macs;
                    work.Forward();
                    Check(work.Y, "y after Forward", name, n, nonzero: true);
                    work.ZeroGrad();
                    work.ForwardBackward();
                    Check(work.Y, "y after ForwardBackward", name, n, nonzero: true);
                    Check(work.Dx, "dx", name, n, nonzero: false);
                    foreach (var (gradName, grad) in Gradients(work)) Check(grad, "gradient " + gradName, name, n, nonzero: false);
                    if (name != LayerCatalog.Baseline) ortRows.Add(CheckOnnxRuntime(work, Time(work.Forward)));
                    if (name == "dense") dense = work;
                    if (name == LayerCatalog.Sgemm) sgemm = work;

                    var forward = Time(work.Forward);
                    var both = Time(work.ForwardBackward);
                    Check(work.Y, "y after the timed calls", name, n, nonzero: true);
                    Check(work.Dx, "dx after the timed calls", name, n, nonzero: false);
                    foreach (var (gradName, grad) in Gradients(work)) Check(grad, "gradient " + gradName + " after the timed calls", name, n, nonzero: false);
                    rows.Add(new[]
                    {
                        name, n.ToString(ci), macs.ToString("N0", ci), Ms(forward), Gflops(macs, forward, 1), Ms(both), Gflops(macs, both, 3),
                    });
                }
                catch (Exception e)
                {
                    failures.Add($"{name} n={n}: {e.GetType().Name}: {e.Message}");
                    rows.Add(new[] { name, n.ToString(ci), "-", "FAILED", "-", "FAILED", "-" });
                }
            }
            if (dense is not null && sgemm is not null)
            {
                try { CompareBaseline(dense, sgemm); }
                catch (Exception e) { failures.Add($"OpenBLAS baseline vs generated dense, n={n}: {e.Message}"); }
            }
        }

        Console.WriteLine();
        Print(new[] { "structure", "n", "MACs/row", "fwd ms", "fwd GFLOP/s", "fwd+bwd ms", "fwd+bwd GFLOP/s" }, rows);
        Console.WriteLine();
        Print(new[] { "structure", "n", "fwd ms", "ORT structured ms", "ORT merged ms" }, ortRows);
        Console.WriteLine();
        Console.WriteLine("Smoke test, not a measurement: best of a few in-process calls. GFLOP/s = 2 · FlopsPerRow (forward multiply-adds)");
        Console.WriteLine("· batch / time, ×3 for fwd+bwd. For real numbers run the BenchmarkDotNet suite (docs/benchmarks.md).");
        Console.WriteLine($"Checked: every output, dx and gradient finite; OpenBLAS baseline = generated dense ({(OpenBlas.Instance is null ? "skipped, no OpenBLAS" : "done")}). Wall time {total.Elapsed.TotalSeconds:F1} s.");
        if (failures.Count == 0)
        {
            Console.WriteLine("quick mode: OK");
            return 0;
        }
        Console.Error.WriteLine($"quick mode: {failures.Count} failure(s):");
        foreach (var f in failures) Console.Error.WriteLine("  " + f);
        return 1;
    }

    /// <summary>
    /// Runs every body at the smallest size untimed for a moment, so the JIT's tiering (the shared kernels start
    /// unoptimised) is mostly over before the timed calls; without it the first rows are several times slower.
    /// A failure here is left to the checked pass below to report.
    /// </summary>
    private static void WarmUp()
    {
        foreach (var name in LayerCatalog.Names())
        {
            try
            {
                var work = new Workload(name, LayerCatalog.Sizes[0], Batch);
                var spent = Stopwatch.StartNew();
                for (var i = 0; i < 40 && spent.Elapsed.TotalMilliseconds < 150; i++)
                {
                    work.Forward();
                    work.ForwardBackward();
                }
            }
            catch (Exception)
            {
                // reported by the checked pass
            }
        }
        Thread.Sleep(200); // let the background JIT install the optimised code
    }

    private static IEnumerable<(string, float[])> Gradients(Workload work) =>
        work.Layer is { } layer
            ? layer.Parameters.Where(p => p.Gradient is not null).Select(p => (p.Name, p.Gradient!))
            : new[] { ("weight (sgemm)", work.BaselineWeightGradient) };

    private static double Time(Action body)
    {
        var best = double.MaxValue;
        var spent = Stopwatch.StartNew();
        for (var rep = 0; rep < MinReps || spent.Elapsed.TotalMilliseconds < BudgetMs; rep++)
        {
            var t = Stopwatch.GetTimestamp();
            body();
            best = Math.Min(best, Stopwatch.GetElapsedTime(t).TotalMilliseconds);
        }
        return best;
    }

    private static void Check(float[] values, string what, string name, int n, bool nonzero)
    {
        var allZero = true;
        for (var i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i])) throw new InvalidOperationException($"{what} has a non-finite value {values[i]} at {i}.");
            if (values[i] != 0) allZero = false;
        }
        if (nonzero && allZero) throw new InvalidOperationException($"{what} is all zero on a random input.");
    }

    /// <summary>The layer exported to ONNX, structured and merged, run by ONNX Runtime on the same x: y must agree with Forward.</summary>
    private static string[] CheckOnnxRuntime(Workload work, double forwardMs)
    {
        var ci = CultureInfo.InvariantCulture;
        work.Forward();
        var row = new List<string> { work.Structure, work.N.ToString(ci), Ms(forwardMs) };
        foreach (var merged in new[] { false, true })
        {
            using var peer = new OrtPeer(work.Layer!, merged, work.X, work.Batch);
            peer.Run();
            Agree(peer.Y, work.Y, $"{work.Structure} n={work.N}: ONNX Runtime ({(merged ? "merged" : "structured")}) y");
            row.Add(Ms(Time(peer.Run)));
        }
        return row.ToArray();
    }

    /// <summary>The two use the same weights (the dense layer's seed-0 initialisation) and inputs: y, dx, dW must agree.</summary>
    private static void CompareBaseline(Workload dense, Workload sgemm)
    {
        if (!dense.Layer!.Parameters.Single().Data.AsSpan().SequenceEqual(sgemm.BaselineWeight))
            throw new InvalidOperationException("the baseline's weight differs from the dense layer's.");
        dense.ZeroGrad();
        sgemm.ZeroGrad();
        dense.ForwardBackward();
        sgemm.ForwardBackward();
        Agree(sgemm.Y, dense.Y, "y");
        Agree(sgemm.Dx, dense.Dx, "dx");
        Agree(sgemm.BaselineWeightGradient, dense.Layer.Parameters.Single().Gradient!, "dW");
    }

    private static void Agree(float[] actual, float[] expected, string what)
    {
        if (actual.Length != expected.Length) throw new InvalidOperationException($"{what}: {actual.Length} values, expected {expected.Length}.");
        double maxDiff = 0, maxAbs = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs(actual[i] - expected[i]));
            maxAbs = Math.Max(maxAbs, Math.Abs(expected[i]));
        }
        if (maxDiff > 1e-4 * Math.Max(maxAbs, 1e-30))
            throw new InvalidOperationException($"{what}: max difference {maxDiff:G3}, max |expected| = {maxAbs:G3}.");
    }

    private static string Ms(double ms) => ms.ToString(ms < 1 ? "F4" : "F2", CultureInfo.InvariantCulture);

    private static string Gflops(long macs, double ms, int passes) =>
        (2.0 * macs * Batch * passes / (ms * 1e6)).ToString("F1", CultureInfo.InvariantCulture);

    private static void Print(string[] header, List<string[]> rows)
    {
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        string Line(string[] cells) => "| " + string.Join(" | ", cells.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))) + " |";
        Console.WriteLine(Line(header));
        Console.WriteLine("|" + string.Join("|", widths.Select((w, i) => i == 0 ? new string('-', w + 2) : new string('-', w + 1) + ":")) + "|");
        foreach (var row in rows) Console.WriteLine(Line(row));
    }
}
