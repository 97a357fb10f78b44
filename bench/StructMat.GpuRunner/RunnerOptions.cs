using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace StructMat.GpuRunner;

/// <summary>Exit codes (documented in docs/gpu-benchmarks.md and by <c>--help</c>).</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>A check exceeded its tolerance or produced a non-finite value, or a benchmark case failed.</summary>
    public const int Failed = 1;

    public const int Usage = 2;

    /// <summary>No CUDA accelerator and no <c>--cpu</c>: nothing ran.</summary>
    public const int NoCuda = 3;
}

/// <summary>The command line: a mode and options. Defaults differ between CUDA runs and the <c>--cpu</c> dry run.</summary>
public sealed class RunnerOptions
{
    public const string Usage = """
        StructMat.GpuRunner — validates and times the generated ILGPU kernels (docs/gpu-benchmarks.md).

        usage: StructMat.GpuRunner <mode> [options]
          modes:
            info    print the accelerator ILGPU opens and exit
            check   every structure's forward, dx and parameter gradients on the accelerator against the CPU path
            bench   median time of forward and forward+backward per structure, size and batch; writes JSON
          options:
            --cpu                ILGPU's CPU accelerator (a kernel emulator) at tiny shapes: a dry run for CI, not a measurement
            --structures a,b     of: dense, lowrank, blockdiag, monarch, btt, kron, hra, pixelfly (the default set),
                                 lora, oft, boft, loha, dora (adapters, on request: a call of their own on a GPU)
            --sizes 4096,8192    layer sizes n (declared: 64, 256, 4096, 8192; default 4096,8192, with --cpu 64,256)
            --batches 8192,32768 bench batch sizes (default 8192,32768, with --cpu 8)
            --check-batch N      check batch size (default 64, with --cpu 8)
            --tolerance E        check: max |gpu − cpu| / max |cpu| per tensor (default 1e-4)
            --warmup N           bench: untimed calls per case, fewer once they take half of --budget-s (default 3, with --cpu 1)
            --iterations N       bench: at most N timed calls per case (default 30, with --cpu 2)
            --min-iterations N   bench: at least N timed calls per case (default 3, with --cpu 1)
            --budget-s S         bench: stop timing a case after S seconds once --min-iterations ran (default 1)
            --deadline-s S       bench: after S seconds in all, skip the remaining cases (recorded as skipped; the
                                 structured layers run first, dense and hra last)
            --clock-mhz F        SM clock for the fp32 peak instead of the one CUDA reports
            --out PATH           JSON output (default gpu-results/structmat-gpu-<mode>.json)
          exit codes: 0 success, 1 a check or benchmark case failed, 2 usage error, 3 no CUDA accelerator (and no --cpu)
        """;

    public string Mode { get; private init; } = "";

    public bool Cpu { get; private init; }

    public IReadOnlyList<string> Structures { get; private init; } = Array.Empty<string>();

    public IReadOnlyList<int> Sizes { get; private init; } = Array.Empty<int>();

    public IReadOnlyList<int> Batches { get; private init; } = Array.Empty<int>();

    public int CheckBatch { get; private init; }

    public double Tolerance { get; private init; }

    public int Warmup { get; private init; }

    public int Iterations { get; private init; }

    public int MinIterations { get; private init; }

    public double BudgetSeconds { get; private init; }

    public double? DeadlineSeconds { get; private init; }

    public double? ClockMhz { get; private init; }

    public string OutPath { get; private init; } = "";

    /// <summary>Parses <paramref name="args"/>; throws <see cref="ArgumentException"/> with a message for the user.</summary>
    public static RunnerOptions Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var values = new Dictionary<string, string>();
        string? mode = null;
        var cpu = false;
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (a == "--cpu") cpu = true;
            else if (a.StartsWith("--", StringComparison.Ordinal))
            {
                if (i + 1 >= args.Count) throw new ArgumentException($"{a} needs a value.");
                values[a] = args[++i];
            }
            else if (mode is null) mode = a;
            else throw new ArgumentException($"Unexpected argument '{a}'.");
        }
        if (mode is not ("info" or "check" or "bench")) throw new ArgumentException(mode is null ? "No mode given." : $"Unknown mode '{mode}'.");

        var known = new[] { "--structures", "--sizes", "--batches", "--check-batch", "--tolerance", "--warmup", "--iterations", "--min-iterations", "--budget-s", "--deadline-s", "--clock-mhz", "--out" };
        foreach (var key in values.Keys)
            if (Array.IndexOf(known, key) < 0) throw new ArgumentException($"Unknown option '{key}'.");

        string Get(string key, string fallback) => values.TryGetValue(key, out var v) ? v : fallback;
        var structures = Get("--structures", string.Join(",", LayerCatalog.DefaultNames)).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var s in structures) LayerCatalog.Find(s); // throws for unknown names
        var sizes = Ints(Get("--sizes", cpu ? "64,256" : "4096,8192"), "--sizes");
        var declared = LayerCatalog.TinySizes.Concat(LayerCatalog.GpuSizes).ToArray();
        foreach (var n in sizes)
            if (Array.IndexOf(declared, n) < 0) throw new ArgumentException($"--sizes: n = {n} is not declared in layers.smx (declared: {string.Join(", ", declared)}).");

        var options = new RunnerOptions
        {
            Mode = mode,
            Cpu = cpu,
            Structures = structures,
            Sizes = sizes,
            Batches = Ints(Get("--batches", cpu ? "8" : "8192,32768"), "--batches"),
            CheckBatch = Ints(Get("--check-batch", cpu ? "8" : "64"), "--check-batch").Single(),
            Tolerance = Number(Get("--tolerance", "1e-4"), "--tolerance"),
            Warmup = Ints(Get("--warmup", cpu ? "1" : "3"), "--warmup", allowZero: true).Single(),
            Iterations = Ints(Get("--iterations", cpu ? "2" : "30"), "--iterations").Single(),
            MinIterations = Ints(Get("--min-iterations", cpu ? "1" : "3"), "--min-iterations").Single(),
            BudgetSeconds = Number(Get("--budget-s", "1"), "--budget-s"),
            DeadlineSeconds = values.ContainsKey("--deadline-s") ? Number(values["--deadline-s"], "--deadline-s") : null,
            ClockMhz = values.ContainsKey("--clock-mhz") ? Number(values["--clock-mhz"], "--clock-mhz") : null,
            OutPath = Get("--out", $"gpu-results/structmat-gpu-{mode}.json"),
        };
        if (options.MinIterations > options.Iterations) throw new ArgumentException("--min-iterations is larger than --iterations.");
        return options;
    }

    private static int[] Ints(string text, string option, bool allowZero = false)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0) throw new ArgumentException($"{option}: no value.");
        return parts.Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && (v > 0 || (allowZero && v == 0))
            ? v
            : throw new ArgumentException($"{option}: '{p}' is not a {(allowZero ? "non-negative" : "positive")} integer.")).ToArray();
    }

    private static double Number(string text, string option) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0 && double.IsFinite(v)
            ? v
            : throw new ArgumentException($"{option}: '{text}' is not a positive number.");
}
