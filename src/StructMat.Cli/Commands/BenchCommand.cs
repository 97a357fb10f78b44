using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using Spectre.Console;
using Spectre.Console.Cli;
using StructMat.Cli.Bench;
using StructMat.Cli.Hosting;
using StructMat.Measurement;

namespace StructMat.Cli.Commands;

public sealed class BenchSettings : CommandSettings
{
    [CommandArgument(0, "<FILE>")]
    [Description("the .smx file")]
    public string File { get; init; } = "";

    [CommandOption("--layer <NAME>")]
    [Description("only this layer (default: every layer of the file)")]
    public string? Layer { get; init; }

    [CommandOption("--batch <SIZES>")]
    [Description("batch sizes, comma-separated")]
    [DefaultValue("1,16,256,1024")]
    public string Batch { get; init; } = "1,16,256,1024";

    [CommandOption("--time <SECONDS>")]
    [Description("time per case (each layer, batch and pass, and its dense baseline): calls repeat this long, the median is reported")]
    [DefaultValue(0.2)]
    public double Time { get; init; } = 0.2;

    [CommandOption("--svg <OUT>")]
    [Description("also draw time against batch size, structure and dense, forward and forward + backward")]
    public string? Svg { get; init; }
}

/// <summary>
/// <c>smx bench FILE</c>: compiles the file's layers in process (the same compiler and Roslyn as a build), and times
/// forward and forward + backward of each against a dense layer of the same shape.
/// </summary>
public sealed class BenchCommand(CliOutput output) : Command<BenchSettings>
{
    public override int Execute(CommandContext context, BenchSettings settings, CancellationToken cancellationToken)
    {
        var batches = ParseBatches(settings.Batch);
        if (!(settings.Time > 0 && settings.Time <= 600)) throw new UsageException($"--time must be between 0 and 600 seconds, not {settings.Time.ToString(CultureInfo.InvariantCulture)}");
        if (settings.Svg is { } svg) InputFiles.OutputFile(svg, "an .svg file to write");
        var (text, layers) = LayerSelection.Load(output, settings.File, settings.Layer);
        var timer = new CaseTimer(TimeSpan.FromSeconds(settings.Time));

        var rows = new List<BenchRow>();
        string baseline = "";
        void Work(Action<string> progress)
        {
            progress("measuring the FMA ceiling");
            _ = FmaCeiling.AllThreads;
            progress("compiling the layers");
            var assembly = LayerAssembly.Compile(text, Path.GetFileName(settings.File));
            var dense = DenseLayers(layers.Select(l => (l.Shape.In, l.Shape.Out)).Distinct().ToList());
            foreach (var layer in layers)
            {
                var baselineLayer = dense(layer.Shape.In, layer.Shape.Out);
                baseline = baselineLayer.Label;
                rows.AddRange(BenchRun.Measure(layer, assembly.Create(layer.Name), baselineLayer, batches, timer, FmaCeiling.AllThreads, progress));
            }
        }

        if (output.Interactive)
        {
            // One step per message: the ceiling, the compile, and each layer's batches twice (fwd, fwd+bwd).
            var steps = 2 + layers.Count * batches.Count * 2;
            output.Console.Progress()
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .Start(display =>
                {
                    var task = display.AddTask("starting", maxValue: steps);
                    var started = false;
                    Work(message =>
                    {
                        if (started) task.Increment(1);
                        started = true;
                        task.Description = Markup.Escape(message);
                    });
                    task.Value = steps;
                });
        }
        else
        {
            Work(message => output.Error.WriteLine("smx bench: " + message));
        }

        Report(rows, layers.Select(l => l.Name).ToList(), baseline, settings.Time);
        if (settings.Svg is { } path)
        {
            BenchSvg.Write(path, rows, baseline);
            output.Error.WriteLine($"wrote {path}");
        }
        return ExitCodes.Ok;
    }

    /// <summary>OpenBLAS when it loads, else the generated dense layer of each shape (one Roslyn compile for all).</summary>
    private static Func<int, int, IDenseBaseline> DenseLayers(IReadOnlyList<(int In, int Out)> shapes)
    {
        if (OpenBlas.Instance is { } blas) return (i, o) => new OpenBlasDense(blas, i, o);
        var smx = "namespace Smx.Bench;\n" + string.Concat(shapes.Select(s => $"layer {DenseName(s.In, s.Out)} : {s.In} -> {s.Out} = dense;\n"));
        var assembly = LayerAssembly.Compile(smx, "dense.smx");
        return (i, o) => new GeneratedDense(assembly.Create(DenseName(i, o)));
    }

    private static string DenseName(int inFeatures, int outFeatures) => $"Dense{inFeatures}x{outFeatures}";

    private void Report(List<BenchRow> rows, List<string> layers, string baseline, double seconds)
    {
        var o = output.Out;
        o.WriteLine(FmaCeiling.Describe());
        o.WriteLine($"Dense baseline: {baseline}{(OpenBlas.Instance is { } blas ? " (" + blas.Describe() + ")" : " (no OpenBLAS found: libopenblas.so.0)")}");
        o.WriteLine($"Each case: one warm-up call, then calls for {F(seconds, "0.###")} s (at least {CaseTimer.MinSamples}); median shown. " +
                    "FLOPs = 2 per multiply-add; fwd = forward, fwd+bwd = forward then backward, counted as 3 x forward.");
        foreach (var layer in layers)
        {
            var table = new Table().Title(Markup.Escape(layer))
                .AddColumn(new TableColumn("batch").RightAligned()).AddColumn("pass")
                .AddColumn(new TableColumn("time").RightAligned()).AddColumn(new TableColumn("GFLOP/s").RightAligned())
                .AddColumn(new TableColumn("dense time").RightAligned()).AddColumn(new TableColumn("dense GFLOP/s").RightAligned())
                .AddColumn(new TableColumn("speedup").RightAligned()).AddColumn(new TableColumn("FLOP ratio").RightAligned())
                .AddColumn(new TableColumn("% FMA ceiling").RightAligned());
            foreach (var row in rows.Where(r => r.Layer == layer))
            {
                table.AddRow(row.Batch.ToString(CultureInfo.InvariantCulture), PassName(row.Pass), Time(row.Seconds), F(row.Gflops, "0.00"),
                    Time(row.DenseSeconds), F(row.DenseGflops, "0.00"), F(row.Speedup, "0.00") + "x", F(row.FlopRatio, "0.00") + "x",
                    F(100 * row.CeilingShare, row.CeilingShare < 0.01 ? "0.00" : "0.0") + " %");
            }
            output.Console.Write(table);
            foreach (var pass in new[] { Pass.Forward, Pass.ForwardBackward })
            {
                var from = BenchRun.BreakEven(rows.Where(r => r.Layer == layer && r.Pass == pass));
                o.WriteLine($"  {PassName(pass)}: " + (from is { } b ? $"beats {baseline} from batch {b}" : $"does not beat {baseline} at the largest batch measured"));
            }
        }
    }

    /// <summary>Short, so the table fits a 100-column terminal: fwd = forward, fwd+bwd = forward then backward.</summary>
    internal static string PassName(Pass pass) => pass == Pass.Forward ? "fwd" : "fwd+bwd";

    internal static IReadOnlyList<int> ParseBatches(string text)
    {
        var sizes = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var size) || size < 1 || size > 1 << 20)
            {
                throw new UsageException($"--batch: '{part}' is not a batch size (a whole number from 1 to {1 << 20}); write e.g. --batch 1,16,256");
            }
            sizes.Add(size);
        }
        return sizes.Distinct().OrderBy(s => s).ToList();
    }

    private static string Time(double seconds) =>
        seconds >= 1 ? F(seconds, "0.00") + " s" : seconds >= 1e-3 ? F(seconds * 1e3, "0.00") + " ms"
        : seconds >= 1e-6 ? F(seconds * 1e6, "0.0") + " µs" : F(seconds * 1e9, "0") + " ns";

    private static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
