using System.Threading;
using Spectre.Console.Cli;

namespace StructMat.Cli.Commands;

public sealed class ProjectSettings : CommandSettings
{
}

public sealed class ProjectCommand(CliOutput output) : Command<ProjectSettings>
{
    public override int Execute(CommandContext context, ProjectSettings settings, CancellationToken cancellationToken)
    {
        output.Error.WriteLine("not yet");
        return ExitCodes.Failed;
    }
}
