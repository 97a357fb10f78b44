using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using StructMat.Runtime;

namespace StructMat.Bench;

/// <summary>
/// <c>--first-call</c>: issue 16's first-call measurement. For every structure of the catalog at n = 1024 and 4096 this
/// starts a fresh process (<c>--first-call-one NAME N</c>) that times the layer's constructor, its first <c>Forward</c> at
/// batch 64, and the median of 20 further calls (the steady state), and prints whether the first call meets issue 16's
/// goal 8 (≤ 10 ms + 2 × steady), with the JIT compilation time (all threads) and methods compiled during the first call. A fresh process per case, so each first call pays its own JIT compilation and packing;
/// one run each: a measurement to read, not a statistic.
/// </summary>
public static class FirstCallProbe
{
    private const int Batch = 64;

    public static int Run()
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("No process path to start the cases with.");
        var entry = typeof(FirstCallProbe).Assembly.Location;
        var host = System.IO.Path.GetFileNameWithoutExtension(self) == "dotnet" ? $"\"{entry}\" " : "";
        Console.WriteLine($"first call at batch {Batch}, each case in a fresh process (goal: first Forward ≤ 10 ms + 2 × steady state)");
        Console.WriteLine("| structure | n | constructor | first Forward | of which JIT (methods) | steady Forward (median of 20) | goal |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---|");
        var failures = 0;
        foreach (var (name, _, _) in LayerCatalog.Structures)
        {
            foreach (var n in LayerCatalog.Sizes)
            {
                var start = new ProcessStartInfo(self, $"{host}--first-call-one {name} {n}") { RedirectStandardOutput = true, UseShellExecute = false };
                using var process = Process.Start(start)!;
                var line = process.StandardOutput.ReadToEnd().Trim().Split('\n').Last();
                process.WaitForExit();
                if (process.ExitCode != 0) failures++;
                Console.WriteLine(line);
            }
        }
        return failures == 0 ? 0 : 1;
    }

    /// <summary>One case, in this process: prints its table row.</summary>
    public static int RunOne(string name, int n)
    {
        var ci = CultureInfo.InvariantCulture;
        var clock = Stopwatch.StartNew();
        var layer = LayerCatalog.Create(name, n);
        var constructor = clock.Elapsed.TotalMilliseconds;
        var x = new float[Batch * layer.InFeatures];
        var random = new Random(1);
        for (var i = 0; i < x.Length; i++) x[i] = (float)(random.NextDouble() * 2 - 1);
        var y = new float[Batch * layer.OutFeatures];
        // JIT compilation on every thread while the first call runs (the batch tiles run on the thread pool).
        var jitTime = System.Runtime.JitInfo.GetCompilationTime(currentThread: false);
        var jitMethods = System.Runtime.JitInfo.GetCompiledMethodCount(currentThread: false);
        clock.Restart();
        layer.Forward(x, y, Batch);
        var first = clock.Elapsed.TotalMilliseconds;
        var jit = (System.Runtime.JitInfo.GetCompilationTime(currentThread: false) - jitTime).TotalMilliseconds;
        var methods = System.Runtime.JitInfo.GetCompiledMethodCount(currentThread: false) - jitMethods;
        var steady = Enumerable.Range(0, 20).Select(_ =>
        {
            clock.Restart();
            layer.Forward(x, y, Batch);
            return clock.Elapsed.TotalMilliseconds;
        }).OrderBy(t => t).ElementAt(10);
        var goal = first <= 10 + 2 * steady;
        Console.WriteLine(string.Create(ci, $"| {name} | {n} | {constructor:F1} ms | {first:F1} ms | {jit:F1} ms ({methods}) | {steady:F2} ms | {(goal ? "met" : "missed")} |"));
        return 0;
    }
}
