using System;
using System.ComponentModel;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using Spectre.Console;
using Spectre.Console.Cli;
using StructMat.Cli.Hosting;
using StructMat.Cli.Svg;
using StructMat.Compiler.Inspection;

namespace StructMat.Cli.Commands;

public sealed class ExplainSettings : CommandSettings
{
    [CommandArgument(0, "<FILE>")]
    [Description("the .smx file")]
    public string File { get; init; } = "";

    [CommandOption("--layer <NAME>")]
    [Description("only this layer (default: every layer of the file)")]
    public string? Layer { get; init; }

    [CommandOption("--svg <OUT>")]
    [Description("write a picture: the factors as blocks and the dense matrix's nonzero pattern (with several layers, OUT-<Layer>.svg each)")]
    public string? Svg { get; init; }
}

/// <summary>
/// <c>smx explain FILE</c>: for each layer, the generated class's structure explanation, the shape of every node, each
/// parameter tensor, parameters and multiply-adds against dense, and the activation memory per batch row.
/// </summary>
public sealed class ExplainCommand(CliOutput output) : Command<ExplainSettings>
{
    /// <summary>The seed the SVG's parameters are drawn from, so the same file gives the same picture.</summary>
    public const int PatternSeed = 1;

    public override int Execute(CommandContext context, ExplainSettings settings, CancellationToken cancellationToken)
    {
        if (settings.Svg is { } svg) InputFiles.OutputFile(svg, "an .svg file to write");
        var (text, layers) = LayerSelection.Load(output, settings.File, settings.Layer);
        var first = true;
        foreach (var layer in layers)
        {
            if (!first) output.Out.WriteLine();
            first = false;
            Explain(layer);
        }
        if (settings.Svg is { } path)
        {
            var assembly = LayerAssembly.Compile(text, Path.GetFileName(settings.File));
            foreach (var layer in layers)
            {
                var file = layers.Count == 1 ? path : Path.ChangeExtension(path, null) + "-" + layer.Name + ".svg";
                StructureSvg.Write(file, layer, PatternOf(assembly, layer.Name), $"every float parameter drawn at random (seed {PatternSeed})");
                output.Error.WriteLine($"wrote {file}");
            }
        }
        return ExitCodes.Ok;
    }

    /// <summary>
    /// The dense matrix with every float32 parameter drawn from a standard normal: the structure's support, not its
    /// initialisation (a LoRA's zero B would otherwise hide the adapter).
    /// </summary>
    internal static float[] PatternOf(LayerAssembly assembly, string name)
    {
        var layer = assembly.Create(name, PatternSeed);
        var random = new Random(PatternSeed);
        foreach (var parameter in layer.Parameters.Where(p => p.ElementType == StructMat.Runtime.ElementType.Float32))
        {
            var data = parameter.Data;
            for (var i = 0; i < data.Length; i++) data[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        }
        return layer.ToDense();
    }

    private void Explain(LayerInfo layer)
    {
        var o = output.Out;
        o.WriteLine($"{layer.Name} : {layer.Shape}   (namespace {layer.Namespace})");
        o.WriteLine();
        o.WriteLine("Structure");
        foreach (var line in layer.Explanation.Split('\n')) o.WriteLine("  " + line);
        o.WriteLine();

        var nodes = new Table().Title("Nodes").AddColumn("node").AddColumn("kind").AddColumn(new TableColumn("in").RightAligned())
            .AddColumn(new TableColumn("out").RightAligned());
        foreach (var node in layer.Nodes)
        {
            nodes.AddRow(Markup.Escape(new string(' ', node.Depth * 2) + node.Text), node.Kind, Count(node.Shape.In), Count(node.Shape.Out));
        }
        output.Console.Write(nodes);

        var parameters = new Table().Title("Parameter tensors (names as saved)").AddColumn("name").AddColumn("shape")
            .AddColumn(new TableColumn("elements").RightAligned()).AddColumn("trainable").AddColumn("init").AddColumn("PEFT key");
        foreach (var p in layer.Parameters)
        {
            parameters.AddRow(Markup.Escape(p.Name), Markup.Escape("[" + string.Join(", ", p.Shape) + "]"), Count(p.Length),
                p.Trainable ? "trainable" : "frozen", p.Init.ToString(), Markup.Escape(p.PeftKey ?? "-"));
        }
        output.Console.Write(parameters);

        var cost = new Table().Title("Cost per batch row").AddColumn("").AddColumn(new TableColumn("this layer").RightAligned())
            .AddColumn(new TableColumn("dense").RightAligned()).AddColumn(new TableColumn("ratio").RightAligned());
        cost.AddRow("parameters", $"{Count(layer.ParameterCount)} ({Count(layer.TrainableParameterCount)} trainable)", Count(layer.DenseParameterCount),
            Percent(layer.ParameterCount, layer.DenseParameterCount));
        cost.AddRow("forward multiply-adds", Count(layer.FlopsPerRow), Count(layer.DenseFlopsPerRow), Percent(layer.FlopsPerRow, layer.DenseFlopsPerRow));
        cost.AddRow("forward activation memory", Bytes(layer.ForwardWorkspaceFloatsPerRow), "0 B", "-");
        cost.AddRow("backward activation memory", Bytes(layer.BackwardWorkspaceFloatsPerRow), "0 B", "-");
        output.Console.Write(cost);
        o.WriteLine("Activation memory: the float32 intermediates between the input and the output (the buffer plan's workspace slots),");
        o.WriteLine("per batch row; a dense layer has none. The backward recomputes what it needs from x, so nothing is kept between passes.");
    }

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Bytes(long floats) => $"{Count(floats * sizeof(float))} B ({Count(floats)} floats)";

    private static string Percent(long part, long whole) => whole == 0 ? "-" : (100.0 * part / whole).ToString("0.##", CultureInfo.InvariantCulture) + " %";
}
