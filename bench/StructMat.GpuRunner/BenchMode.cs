using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Text.Json.Nodes;
using ILGPU;
using ILGPU.Runtime;
using StructMat.Runtime;

namespace StructMat.GpuRunner;

/// <summary>
/// <c>bench</c>: per structure, size n and batch, the median wall time of <c>Forward</c> and of <c>Forward</c> then
/// <c>Backward</c> on the accelerator, each call followed by <c>accelerator.Synchronize()</c> (a host stopwatch around
/// launch + synchronize), after untimed warm-up calls (the first compiles and loads the kernels). Gradients accumulate
/// across calls and ZeroGrad is not timed, as in the CPU benchmarks. Useful GFLOP/s = 2 · FlopsPerRow · batch / median,
/// ×3 for forward + backward. The JSON file is rewritten after every case, so a stopped run keeps what it measured.
/// </summary>
public static class BenchMode
{
    public const string Forward = "forward";
    public const string ForwardBackward = "forward-backward";
    private static readonly string[] s_passes = { Forward, ForwardBackward };

    public static int Run(RunnerOptions options, Accelerator accelerator, DeviceInfo device)
    {
        var total = Stopwatch.StartNew();
        var results = new JsonArray();
        var rows = new List<string[]>();
        int failures = 0, skipped = 0;
        var peak = device.Fp32PeakGflops;
        var document = new JsonObject
        {
            ["schema"] = "structmat-gpu-bench/1",
            ["tool"] = "StructMat.GpuRunner bench",
            ["command_line"] = Environment.CommandLine,
            ["dry_run"] = options.Cpu,
            ["utc"] = DateTime.UtcNow.ToString("O", Output.Invariant),
            ["device"] = device.ToJson(),
            ["settings"] = new JsonObject
            {
                ["warmup"] = options.Warmup, ["max_iterations"] = options.Iterations, ["min_iterations"] = options.MinIterations,
                ["budget_s"] = options.BudgetSeconds, ["deadline_s"] = options.DeadlineSeconds,
                ["timing"] = "host stopwatch around each call + accelerator.Synchronize(); median of the timed calls",
                ["flops"] = "2 * macs_per_row * batch, x3 for forward-backward",
            },
            ["results"] = results,
        };
        if (options.Cpu) Console.WriteLine("bench --cpu: DRY RUN on ILGPU's CPU accelerator (a kernel emulator); the times are not measurements.");

        foreach (var (n, name) in RunOrder(options))
        {
            var structure = LayerCatalog.Find(name);
            var cases = options.Batches.SelectMany(b => s_passes.Select(p => (Batch: b, Pass: p))).ToList();
            if (OverDeadline(options, total))
            {
                foreach (var (batch, pass) in cases) results.Add(Record(name, structure.Describe(n), n, batch, pass, "skipped", "deadline reached"));
                skipped += cases.Count;
                continue;
            }
            IStructuredLayer layer;
            GpuLayer gpu;
            try
            {
                layer = structure.Create(n);
                gpu = GpuLayer.Create(layer, accelerator);
            }
            catch (Exception e)
            {
                failures += cases.Count;
                foreach (var (batch, pass) in cases) results.Add(Record(name, structure.Describe(n), n, batch, pass, "error", Message(e)));
                Console.WriteLine($"  {name} n={n}: {Message(e)}");
                Output.WriteJson(options.OutPath, document);
                continue;
            }
            using (gpu)
            {
                foreach (var (batch, pass) in cases)
                {
                    var record = Record(name, structure.Describe(n), n, batch, pass, "ok", null);
                    string shown;
                    if (OverDeadline(options, total))
                    {
                        record["status"] = "skipped";
                        record["error"] = "deadline reached";
                        skipped++;
                        shown = "skipped";
                    }
                    else
                    {
                        try
                        {
                            var times = Time(options, accelerator, layer, gpu, batch, pass);
                            var median = Median(times);
                            var gflops = 2.0 * layer.FlopsPerRow * batch * (pass == Forward ? 1 : 3) / (median * 1e6); // flop / ms → GFLOP/s
                            record["median_ms"] = median;
                            record["min_ms"] = times.Min();
                            record["mean_ms"] = times.Average();
                            record["iterations"] = times.Count;
                            record["times_ms"] = new JsonArray(times.Select(t => (JsonNode)JsonValue.Create(t)!).ToArray());
                            record["gflops"] = gflops;
                            record["peak_fraction"] = peak is { } p ? gflops / p : null;
                            shown = Output.Num(median, "F3") + " ms";
                            rows.Add(new[]
                            {
                                name, n.ToString(Output.Invariant), batch.ToString(Output.Invariant), pass, Output.Num(median, "F3"),
                                Output.Num(gflops, "F1"), peak is { } q ? Output.Num(100 * gflops / q, "F1") + " %" : "-", times.Count.ToString(Output.Invariant),
                            });
                        }
                        catch (Exception e)
                        {
                            failures++;
                            record["status"] = "error";
                            record["error"] = Message(e);
                            shown = "FAILED: " + Message(e);
                        }
                    }
                    record["macs_per_row"] = layer.FlopsPerRow;
                    record["dense_macs_per_row"] = (long)n * n;
                    record["parameters"] = layer.ParameterCount;
                    record["trainable_parameters"] = layer.TrainableParameterCount;
                    results.Add(record);
                    Output.WriteJson(options.OutPath, document);
                    Console.WriteLine($"  {name} n={n} batch={batch} {pass}: {shown}");
                }
            }
        }

        Output.WriteJson(options.OutPath, document);
        Console.WriteLine();
        Output.PrintTable(new[] { "structure", "n", "batch", "pass", "median ms", "GFLOP/s", "of fp32 peak", "calls" }, rows);
        Console.WriteLine();
        Console.WriteLine("GFLOP/s = 2 · FlopsPerRow (forward multiply-adds) · batch / median, ×3 for forward-backward; "
                          + (peak is { } pk ? $"fp32 FMA peak {pk:F0} GFLOP/s ({DeviceInfo.PeakFormula})." : "no fp32 peak for this accelerator."));
        Console.WriteLine($"Wrote {options.OutPath}: {results.Count} cases, {failures} failed, {skipped} skipped (deadline), {total.Elapsed.TotalSeconds:F1} s.");
        return failures == 0 ? ExitCodes.Ok : ExitCodes.Failed;
    }

    /// <summary>
    /// Layers in the order they are timed: the structured ones at every size first, then those that cost n² per row
    /// (dense, and hra's frozen dense base), so that a run stopped by --deadline-s loses the slowest cases, not Monarch.
    /// </summary>
    public static IEnumerable<(int N, string Structure)> RunOrder(RunnerOptions options) =>
        options.Sizes.SelectMany(n => options.Structures.Select(s => (N: n, Structure: s)))
            .OrderBy(c => c.Structure is "dense" or "hra" ? 1 : 0)
            .ThenBy(c => c.N);

    /// <summary>Times one case; returns the timed calls in milliseconds. Throws if an output is not finite.</summary>
    private static List<double> Time(RunnerOptions options, Accelerator accelerator, IStructuredLayer layer, GpuLayer gpu, int batch, string pass)
    {
        using var x = DeviceData.AllocateRandom(accelerator, (long)batch * layer.InFeatures, seed: 21);
        using var dy = DeviceData.AllocateRandom(accelerator, (long)batch * layer.OutFeatures, seed: 22);
        using var y = accelerator.Allocate1D<float>((long)batch * layer.OutFeatures);
        using var dx = accelerator.Allocate1D<float>((long)batch * layer.InFeatures);
        gpu.ZeroGrad();
        void Call()
        {
            gpu.Forward(x.View, y.View, batch);
            if (pass == ForwardBackward) gpu.Backward(x.View, dy.View, dx.View, batch);
            accelerator.Synchronize();
        }

        // Warm-up: at least one call (kernel compilation and loading), then more until --warmup or half the budget is spent.
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < Math.Max(1, options.Warmup) && (i == 0 || clock.Elapsed.TotalSeconds < options.BudgetSeconds / 2); i++) Call();

        var times = new List<double>();
        clock.Restart();
        var watch = new Stopwatch();
        while (times.Count < options.Iterations && (times.Count < options.MinIterations || clock.Elapsed.TotalSeconds < options.BudgetSeconds))
        {
            watch.Restart();
            Call();
            times.Add(watch.Elapsed.TotalMilliseconds);
        }

        // Sanity, not validation (that is `check`): the first rows of the outputs are finite and y is not all zero.
        CheckFinite(y, Math.Min(y.Length, 4L * layer.OutFeatures), "y", requireNonZero: true);
        if (pass == ForwardBackward) CheckFinite(dx, Math.Min(dx.Length, 4L * layer.InFeatures), "dx", requireNonZero: false);
        return times;
    }

    private static void CheckFinite(MemoryBuffer1D<float, Stride1D.Dense> buffer, long count, string what, bool requireNonZero)
    {
        var values = new float[count];
        ((ArrayView<float>)buffer.View).SubView(0, count).CopyToCPU(values);
        if (values.Any(v => !float.IsFinite(v))) throw new InvalidOperationException($"{what} has a non-finite value after the timed calls.");
        if (requireNonZero && values.All(v => v == 0)) throw new InvalidOperationException($"{what} is all zero after the timed calls.");
    }

    public static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0) throw new ArgumentException("No values.", nameof(values));
        var sorted = values.OrderBy(v => v).ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    private static bool OverDeadline(RunnerOptions options, Stopwatch total) =>
        options.DeadlineSeconds is { } deadline && total.Elapsed.TotalSeconds >= deadline;

    private static string Message(Exception e) => $"{e.GetType().Name}: {e.Message}";

    private static JsonObject Record(string name, string label, int n, int batch, string pass, string status, string? error) => new()
    {
        ["structure"] = name, ["label"] = label, ["n"] = n, ["batch"] = batch, ["pass"] = pass, ["status"] = status, ["error"] = error,
    };
}
