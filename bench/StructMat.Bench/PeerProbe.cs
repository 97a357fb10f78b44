using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;

namespace StructMat.Bench;

/// <summary>
/// <c>--peer [STRUCTURE…] [--n N] [--batch B,…]</c>: a quick in-process look at StructMat's Forward against ONNX Runtime
/// (structured and merged) on one structure, without BenchmarkDotNet: the three run in interleaved rounds (so machine
/// load drifts over all of them alike), and the median of 15 rounds is printed. For finding where to look; the figures
/// to report come from <see cref="OnnxRuntimeBenchmarks"/>.
/// </summary>
public static class PeerProbe
{
    private const int Rounds = 15;
    private const double RoundMs = 20;

    public static int Run(string[] args)
    {
        var ci = CultureInfo.InvariantCulture;
        var structures = args.TakeWhile(a => !a.StartsWith("--", StringComparison.Ordinal)).ToList();
        if (structures.Count == 0) structures = LayerCatalog.Structures.Select(s => s.Name).ToList();
        var sizes = Option(args, "--n")?.Split(',').Select(s => int.Parse(s, ci)).ToArray() ?? LayerCatalog.Sizes;
        var batches = Option(args, "--batch")?.Split(',').Select(s => int.Parse(s, ci)).ToArray() ?? new[] { 1, 16, 1024 };
        Console.WriteLine(FmaCeiling.Describe());
        Console.WriteLine("| structure | n | batch | StructMat ms | ORT structured ms | ORT merged ms | ORT structured / StructMat |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var name in structures)
            foreach (var n in sizes)
                foreach (var batch in batches)
                {
                    var work = new Workload(name, n, batch);
                    using var structured = new OrtPeer(work.Layer!, merged: false, work.X, batch);
                    using var merged = new OrtPeer(work.Layer!, merged: true, work.X, batch);
                    var bodies = new Action[] { work.Forward, structured.Run, merged.Run };
                    var times = bodies.Select(_ => new List<double>()).ToArray();
                    foreach (var body in bodies) for (var i = 0; i < 3; i++) body(); // warm up
                    for (var round = 0; round < Rounds; round++)
                        for (var k = 0; k < bodies.Length; k++)
                        {
                            // ONNX Runtime's workers spin for a while after a run; let them park before the next body.
                            System.Threading.Thread.Sleep(10);
                            times[k].Add(PerCall(bodies[k]));
                        }
                    var medians = times.Select(Median).ToArray();
                    Console.WriteLine($"| {name} | {n} | {batch} | {Ms(medians[0])} | {Ms(medians[1])} | {Ms(medians[2])} | {(medians[1] / medians[0]).ToString("F2", ci)} |");
                }
        return 0;
    }

    private static string? Option(string[] args, string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;

    /// <summary>Calls the body until <see cref="RoundMs"/> has passed; the time per call.</summary>
    private static double PerCall(Action body)
    {
        var watch = Stopwatch.StartNew();
        var calls = 0;
        do { body(); calls++; } while (watch.Elapsed.TotalMilliseconds < RoundMs);
        return watch.Elapsed.TotalMilliseconds / calls;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted[sorted.Length / 2];
    }

    private static string Ms(double ms) => ms.ToString(ms < 1 ? "F4" : "F2", CultureInfo.InvariantCulture);
}
