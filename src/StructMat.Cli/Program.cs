using System;

namespace StructMat.Cli;

public static class Program
{
    public static int Main(string[] args) =>
        SmxApp.Run(args, new CliOutput(Console.Out, Console.Error, interactive: !Console.IsOutputRedirected && !Console.IsErrorRedirected));
}
