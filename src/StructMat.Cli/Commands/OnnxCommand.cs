using System.ComponentModel;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using Spectre.Console.Cli;
using StructMat.Cli.Hosting;
using StructMat.Runtime.IO;

namespace StructMat.Cli.Commands;

public sealed class OnnxSettings : CommandSettings
{
    [CommandArgument(0, "<FILE>")]
    [Description("the .smx file")]
    public string File { get; init; } = "";

    [CommandOption("--layer <NAME>")]
    [Description("the layer to export (required when the file declares more than one)")]
    public string? Layer { get; init; }

    [CommandOption("--weights <FILE>")]
    [Description("a .safetensors file with the layer's parameters under their saved names (default: the layer's initialisation, seed 0)")]
    public string? Weights { get; init; }

    [CommandOption("--merged")]
    [Description("one Gemm with the merged dense weight instead of the structure")]
    public bool Merged { get; init; }

    [CommandOption("-o|--output <OUT>")]
    [Description("the .onnx file to write (required)")]
    public string? Output { get; init; }
}

/// <summary>
/// <c>smx onnx FILE --layer NAME [--weights W.safetensors] [--merged] -o OUT.onnx</c>: the layer as an ONNX model
/// (<see cref="OnnxExport"/>, docs/onnx.md), with its parameters from a weight file or its default initialisation.
/// </summary>
public sealed class OnnxCommand(CliOutput output) : Command<OnnxSettings>
{
    public override int Execute(CommandContext context, OnnxSettings settings, CancellationToken cancellationToken)
    {
        var target = settings.Output ?? throw new UsageException("onnx needs -o OUT.onnx");
        InputFiles.OutputFile(target, "an .onnx file to write");
        if (settings.Weights is { } weights) InputFiles.RequireFile(weights, "a .safetensors file");
        var (text, layers) = LayerSelection.Load(output, settings.File, settings.Layer);
        if (layers.Count != 1)
            throw new UsageException($"{settings.File} declares {layers.Count} layers ({string.Join(", ", layers.Select(l => l.Name))}); choose one with --layer NAME");
        var info = layers[0];
        var layer = LayerAssembly.Compile(text, Path.GetFileName(settings.File)).Create(info.Name);
        if (settings.Weights is { } path) SafeTensorFiles.Guard(path, () => layer.LoadSafeTensors(path));
        var bytes = SafeTensorFiles.Guard(target, () => layer.ToOnnx(settings.Merged));
        File.WriteAllBytes(target, bytes);
        output.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{info.Name}: {info.Shape} as ONNX (opset {OnnxExport.Opset}, {(settings.Merged ? "merged to one Gemm" : "structured")}), " +
            $"parameters from {settings.Weights ?? "the default initialisation (seed 0)"}"));
        output.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote {bytes.Length:N0} bytes to {target}"));
        return ExitCodes.Ok;
    }
}
