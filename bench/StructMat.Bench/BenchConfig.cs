using System;
using System.Linq;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters.Json;
using Perfolizer.Horology;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace StructMat.Bench;

/// <summary>
/// The one configuration: a short job (1 launch, 2 warmup and 6 measured iterations of about 150 ms, no overhead
/// evaluation), so the whole
/// suite takes minutes on two cores, a JSON export for scripts/bench/report.py, and a useful-GFLOP/s column.
/// Passing <c>--job …</c> on the command line replaces the job (BenchmarkDotNet's own jobs); <c>--iterationCount</c>,
/// <c>--warmupCount</c>, <c>--launchCount</c>, <c>--iterationTime</c> adjust it.
/// </summary>
public static class BenchConfig
{
    public const string JobId = "StructMat";

    public static Job Job { get; } = Job.Default
        .WithLaunchCount(1)
        .WithWarmupCount(2)
        .WithIterationCount(6)
        .WithIterationTime(TimeInterval.FromMilliseconds(150))
        .WithEvaluateOverhead(false) // bodies take microseconds to seconds; a call's overhead (~1 ns) is noise
        .WithId(JobId);

    public static IConfig Create(string[] args)
    {
        var config = DefaultConfig.Instance
            .AddExporter(JsonExporter.Brief)
            .AddColumn(new GflopsColumn())
            .AddColumn(new CeilingColumn());
        var jobOnCommandLine = args.Any(a => a is "--job" or "-j" || a.StartsWith("--job=", StringComparison.Ordinal));
        return jobOnCommandLine ? config : config.AddJob(Job.AsDefault());
    }
}

/// <summary>Useful GFLOP/s: 2 · FlopsPerRow · batch / mean time, times 3 for ForwardBackward (the usual convention).</summary>
public sealed class GflopsColumn : IColumn
{
    public string Id => nameof(GflopsColumn);

    public string ColumnName => "GFLOP/s";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Useful GFLOP/s: 2 · FlopsPerRow (multiply-adds) · batch / mean, ×3 for ForwardBackward";

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) =>
        Gflops(summary, benchmarkCase)?.ToString("F1", System.Globalization.CultureInfo.InvariantCulture) ?? "-";

    /// <summary>The case's useful GFLOP/s, or null when it is not a structure of the catalog (or has no result).</summary>
    public static double? Gflops(Summary summary, BenchmarkCase benchmarkCase)
    {
        var mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
        var structure = benchmarkCase.Parameters["Structure"] as string;
        if (mean is not > 0 || structure is null || benchmarkCase.Parameters["N"] is not int n || benchmarkCase.Parameters["Batch"] is not int batch)
            return null;
        var passes = benchmarkCase.Descriptor.WorkloadMethod.Name == "ForwardBackward" ? 3.0 : 1.0;
        var flops = 2.0 * LayerCatalog.Cost(structure, n).Macs * batch * passes;
        return flops / mean.Value; // flop/ns = GFLOP/s
    }
}

/// <summary>A case's useful GFLOP/s as a share of the machine's all-threads FMA ceiling measured at the start of the run (<see cref="FmaCeiling"/>).</summary>
public sealed class CeilingColumn : IColumn
{
    public string Id => nameof(CeilingColumn);

    public string ColumnName => "Ceiling";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 1;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Useful GFLOP/s over the machine's FMA ceiling on all threads, measured at the start of the run (a register-only FMA loop)";

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) =>
        GflopsColumn.Gflops(summary, benchmarkCase) is { } gflops
            ? (gflops / FmaCeiling.AllThreads).ToString("P0", System.Globalization.CultureInfo.InvariantCulture)
            : "-";
}
