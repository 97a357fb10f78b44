using System;
using System.ComponentModel;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using Spectre.Console.Cli;
using StructMat.Cli.Hosting;
using StructMat.Runtime;
using StructMat.Runtime.IO;

namespace StructMat.Cli.Commands;

public sealed class ProjectSettings : CommandSettings
{
    [CommandArgument(0, "<FILE>")]
    [Description("the .smx file")]
    public string File { get; init; } = "";

    [CommandOption("--layer <NAME>")]
    [Description("the layer to project onto (required)")]
    public string? Layer { get; init; }

    [CommandOption("--from <DENSE>")]
    [Description("a .safetensors file with the dense weight [[out, in]] (required)")]
    public string? From { get; init; }

    [CommandOption("--tensor <NAME>")]
    [Description("the tensor to read when the file holds more than one")]
    public string? Tensor { get; init; }

    [CommandOption("-o|--output <OUT>")]
    [Description("the .safetensors file to write the layer's parameters to (required)")]
    public string? Output { get; init; }
}

/// <summary>
/// <c>smx project FILE --layer NAME --from DENSE.safetensors -o OUT.safetensors</c>: sets the layer's parameters to
/// the structure nearest the dense weight (IProjectable.Project), prints ‖W − P(W)‖ / ‖W‖, saves the parameters.
/// </summary>
public sealed class ProjectCommand(CliOutput output) : Command<ProjectSettings>
{
    public override int Execute(CommandContext context, ProjectSettings settings, CancellationToken cancellationToken)
    {
        var layerName = settings.Layer ?? throw new UsageException("project needs --layer NAME");
        var from = settings.From ?? throw new UsageException("project needs --from DENSE.safetensors");
        var target = settings.Output ?? throw new UsageException("project needs -o OUT.safetensors");
        InputFiles.OutputFile(target, "a .safetensors file to write");
        var (text, layers) = LayerSelection.Load(output, settings.File, layerName);
        var info = layers[0];

        var tensors = SafeTensorFiles.Read(from);
        var (name, weight) = Choose(from, tensors, settings.Tensor);
        if (weight.Shape.Length != 2 || weight.Shape[0] != info.Shape.Out || weight.Shape[1] != info.Shape.In)
        {
            throw new CommandFailedException($"{from}: tensor '{name}' is [{string.Join(", ", weight.Shape)}], but {info.Name} maps {info.Shape} " +
                $"and needs a dense weight [out, in] = [{info.Shape.Out}, {info.Shape.In}]");
        }

        var layer = LayerAssembly.Compile(text, Path.GetFileName(settings.File)).Create(info.Name);
        if (layer is not IProjectable projectable)
        {
            throw new CommandFailedException($"{info.Name} has no projection from dense weights (lowrank, blockdiag, monarch, kron of dense and dense have one)");
        }
        var distance = projectable.Project(weight.Data);

        // The error from the layer's own dense form, not from Project's return value: the two must agree, and the
        // printed figure should not rest on the code it checks.
        var projected = layer.ToDenseDouble();
        double difference = 0, norm = 0;
        for (var i = 0; i < projected.Length; i++)
        {
            var w = (double)weight.Data[i];
            difference += (w - projected[i]) * (w - projected[i]);
            norm += w * w;
        }
        var relative = norm == 0 ? Math.Sqrt(difference) : Math.Sqrt(difference / norm);
        SafeTensorFiles.Guard(target, () => layer.SaveSafeTensors(target));

        output.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{info.Name}: projected '{name}' [{info.Shape.Out}, {info.Shape.In}] from {from}"));
        output.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"relative Frobenius error ||W - P(W)|| / ||W|| = {relative:G6} (||W - P(W)|| = {distance:G6}, ||W|| = {Math.Sqrt(norm):G6})"));
        output.Out.WriteLine($"wrote {layer.Parameters.Count} tensors ({string.Join(", ", layer.Parameters.Select(p => p.Name))}) to {target}");
        return ExitCodes.Ok;
    }

    private static (string Name, Tensor Tensor) Choose(string path, System.Collections.Generic.IReadOnlyDictionary<string, Tensor> tensors, string? wanted)
    {
        if (wanted is not null)
        {
            if (!tensors.TryGetValue(wanted, out var chosen)) throw new CommandFailedException($"{path} has no tensor '{wanted}'; it holds {Names(tensors)}");
            if (chosen.Bytes is not null) throw new CommandFailedException($"{path}: tensor '{wanted}' is {chosen.DType}, not a float weight");
            return (wanted, chosen);
        }
        var floats = tensors.Where(t => t.Value.Bytes is null).ToList();
        if (floats.Count == 1) return (floats[0].Key, floats[0].Value);
        if (floats.Count == 0) throw new CommandFailedException($"{path} holds no float tensor");
        throw new CommandFailedException($"{path} holds {floats.Count} float tensors ({Names(tensors)}); choose one with --tensor NAME");
    }

    private static string Names(System.Collections.Generic.IReadOnlyDictionary<string, Tensor> tensors) =>
        tensors.Count == 0 ? "none" : string.Join(", ", tensors.Keys.Select(k => "'" + k + "'"));
}
