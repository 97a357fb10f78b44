using System.ComponentModel;
using System.IO;
using System.Threading;
using Spectre.Console.Cli;
using StructMat.Compiler;

namespace StructMat.Cli.Commands;

public sealed class EmitSettings : CommandSettings
{
    [CommandArgument(0, "<FILE>")]
    [Description("the .smx file")]
    public string File { get; init; } = "";

    [CommandOption("--dump")]
    [Description("also the stage dumps: AST, bound tree, IR after every pass, schedule")]
    public bool Dump { get; init; }

    [CommandOption("-o|--output <DIR>")]
    [Description("write <name>.g.cs (and <name>.dump.txt) into DIR instead of standard output")]
    public string? Output { get; init; }
}

/// <summary><c>smx emit FILE</c>: the C# the generator would add for this file (SmxCompiler.Compile's Source).</summary>
public sealed class EmitCommand(CliOutput output) : Command<EmitSettings>
{
    public override int Execute(CommandContext context, EmitSettings settings, CancellationToken cancellationToken)
    {
        var text = InputFiles.ReadSmx(settings.File);
        var name = Path.GetFileNameWithoutExtension(settings.File);
        var result = SmxCompiler.Compile(text, Path.GetFileName(settings.File), settings.Dump);
        foreach (var d in result.Diagnostics) output.Error.WriteLine(d.Format(settings.File));

        if (settings.Output is { } folder)
        {
            InputFiles.OutputFolder(folder);
            if (result.Source is not null)
            {
                var path = Path.Combine(folder, name + ".g.cs");
                System.IO.File.WriteAllText(path, result.Source);
                output.Error.WriteLine($"wrote {path}");
            }
            if (result.Dump is not null)
            {
                var path = Path.Combine(folder, name + ".dump.txt");
                System.IO.File.WriteAllText(path, result.Dump);
                output.Error.WriteLine($"wrote {path}");
            }
        }
        else
        {
            if (result.Source is not null) output.Out.Write(result.Source);
            if (result.Dump is not null) output.Out.Write(result.Dump);
        }
        if (result.Source is null && !result.HasErrors) output.Error.WriteLine($"{settings.File}: declares no layers; nothing to emit");
        return result.HasErrors ? ExitCodes.Failed : ExitCodes.Ok;
    }
}
