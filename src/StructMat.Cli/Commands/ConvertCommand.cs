using System.Threading;
using Spectre.Console.Cli;

namespace StructMat.Cli.Commands;

public sealed class ConvertSettings : CommandSettings
{
}

public sealed class ConvertCommand(CliOutput output) : Command<ConvertSettings>
{
    public override int Execute(CommandContext context, ConvertSettings settings, CancellationToken cancellationToken)
    {
        output.Error.WriteLine("not yet");
        return ExitCodes.Failed;
    }
}
