using System.Threading;
using Spectre.Console.Cli;

namespace StructMat.Cli.Commands;

public sealed class BenchSettings : CommandSettings
{
}

public sealed class BenchCommand(CliOutput output) : Command<BenchSettings>
{
    public override int Execute(CommandContext context, BenchSettings settings, CancellationToken cancellationToken)
    {
        output.Error.WriteLine("not yet");
        return ExitCodes.Failed;
    }
}
