using System.IO;
using Spectre.Console;

namespace StructMat.Cli;

/// <summary>
/// Where a command writes: <see cref="Out"/> for results (plain text, never wrapped, so diagnostics and generated code
/// stay byte-exact), <see cref="Error"/> for messages and plain progress, and <see cref="Console"/> (over
/// <see cref="Out"/>) for tables and the progress display. Not interactive (redirected, or in tests): no colours,
/// no cursor movement, a wide fixed width.
/// </summary>
public sealed class CliOutput
{
    public CliOutput(TextWriter output, TextWriter error, bool interactive = false)
    {
        Out = output;
        Error = error;
        Interactive = interactive;
        Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = interactive ? InteractionSupport.Detect : InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        if (!interactive) Console.Profile.Width = 240;
    }

    public TextWriter Out { get; }

    public TextWriter Error { get; }

    public bool Interactive { get; }

    public IAnsiConsole Console { get; }
}
