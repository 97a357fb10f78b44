using System.Collections.Generic;
using System.Linq;
using StructMat.Compiler.Inspection;

namespace StructMat.Cli.Commands;

/// <summary>Inspecting a file and choosing the layers a command works on (<c>--layer NAME</c>, or all).</summary>
internal static class LayerSelection
{
    /// <summary>The file's layers; SMX errors are the command's failure (exit 1), an unknown --layer a usage error.</summary>
    public static (string Text, IReadOnlyList<LayerInfo> Layers) Load(CliOutput output, string path, string? layer)
    {
        var text = InputFiles.ReadSmx(path);
        var inspection = LayerInspector.Inspect(text, System.IO.Path.GetFileName(path));
        if (inspection.HasErrors)
        {
            foreach (var d in inspection.Diagnostics) output.Error.WriteLine(d.Format(path));
            throw new CommandFailedException($"{path} has errors (above); fix them first");
        }
        if (inspection.Layers.Count == 0) throw new CommandFailedException($"{path} declares no layers");
        if (layer is null) return (text, inspection.Layers.ToList());
        var chosen = inspection.Layers.Where(l => l.Name == layer).ToList();
        if (chosen.Count == 0)
        {
            throw new UsageException($"{path} has no layer '{layer}'; it declares {string.Join(", ", inspection.Layers.Select(l => l.Name))}");
        }
        return (text, chosen);
    }
}
