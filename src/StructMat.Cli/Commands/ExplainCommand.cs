using System.Threading;
using Spectre.Console.Cli;

namespace StructMat.Cli.Commands;

public sealed class ExplainSettings : CommandSettings
{
}

public sealed class ExplainCommand(CliOutput output) : Command<ExplainSettings>
{
    public override int Execute(CommandContext context, ExplainSettings settings, CancellationToken cancellationToken)
    {
        output.Error.WriteLine("not yet");
        return ExitCodes.Failed;
    }
}
