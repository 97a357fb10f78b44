using System.ComponentModel;
using System.IO;
using System.Linq;
using System.Threading;
using Spectre.Console.Cli;
using StructMat.Cli.Hosting;
using StructMat.Runtime.IO;

namespace StructMat.Cli.Commands;

public sealed class ConvertSettings : CommandSettings
{
    [CommandArgument(0, "<FILE>")]
    [Description("the .smx file")]
    public string File { get; init; } = "";

    [CommandOption("--layer <NAME>")]
    [Description("the layer whose parameters the files hold (required)")]
    public string? Layer { get; init; }

    [CommandOption("--in <IN>")]
    [Description("the .safetensors file to read (required)")]
    public string? In { get; init; }

    [CommandOption("--out <OUT>")]
    [Description("the .safetensors file to write (required)")]
    public string? Out { get; init; }

    [CommandOption("--to <LAYOUT>")]
    [Description("peft: from the layer's names to PEFT keys; structmat: from PEFT keys to the layer's names (required)")]
    public string? To { get; init; }

    [CommandOption("--prefix <PREFIX>")]
    [Description("the PEFT module prefix, e.g. base_model.model.layers.0.self_attn.q_proj (default: none)")]
    public string Prefix { get; init; } = "";

    [CommandOption("--adapter <NAME>")]
    [Description("the adapter name inside PEFT keys (a PeftModel state dict: default); omit for an adapter_model.safetensors layout")]
    public string? Adapter { get; init; }
}

/// <summary>
/// <c>smx convert</c>: the same tensors under the other layout's names. The layer's own file is read strictly (every
/// parameter, shapes checked), so a file that does not belong to the layer fails instead of converting half of it.
/// </summary>
public sealed class ConvertCommand(CliOutput output) : Command<ConvertSettings>
{
    public override int Execute(CommandContext context, ConvertSettings settings, CancellationToken cancellationToken)
    {
        var layerName = settings.Layer ?? throw new UsageException("convert needs --layer NAME");
        var input = settings.In ?? throw new UsageException("convert needs --in FILE.safetensors");
        var target = settings.Out ?? throw new UsageException("convert needs --out FILE.safetensors");
        var toPeft = settings.To switch
        {
            "peft" => true,
            "structmat" => false,
            null => throw new UsageException("convert needs --to peft or --to structmat"),
            var other => throw new UsageException($"--to must be peft or structmat, not '{other}'"),
        };
        InputFiles.RequireFile(input, "a .safetensors file");
        InputFiles.OutputFile(target, "a .safetensors file to write");
        var (text, layers) = LayerSelection.Load(output, settings.File, layerName);
        var layer = LayerAssembly.Compile(text, Path.GetFileName(settings.File)).Create(layers[0].Name);
        if (layer.Parameters.All(p => p.PeftKey is null))
        {
            throw new CommandFailedException($"{layerName} is not a PEFT form (a frozen dense base and an adapter PEFT knows), so it has no PEFT keys");
        }

        if (toPeft)
        {
            SafeTensorFiles.Guard(input, () => layer.LoadSafeTensors(input));
            var renamed = SafeTensorFiles.Guard(target, () => SafeTensorFiles.Renamed(layer.Parameters, p => PeftNames.Key(p, settings.Prefix, settings.Adapter)).ToList());
            SafeTensorFiles.Guard(target, () => SafeTensors.Save(target, renamed));
            foreach (var (from, to) in layer.Parameters.Zip(renamed)) output.Out.WriteLine($"{from.Name} -> {to.Name}");
        }
        else
        {
            SafeTensorFiles.Guard(input, () => layer.LoadPeft(input, settings.Prefix, settings.Adapter));
            SafeTensorFiles.Guard(target, () => layer.SaveSafeTensors(target));
            foreach (var p in layer.Parameters) output.Out.WriteLine($"{PeftNames.Key(p, settings.Prefix, settings.Adapter)} -> {p.Name}");
        }
        output.Out.WriteLine($"wrote {layer.Parameters.Count} tensors to {target}");
        return ExitCodes.Ok;
    }
}
