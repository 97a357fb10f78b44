using System;
using System.Collections.Generic;
using System.IO;
using Spectre.Console.Cli;
using StructMat.Cli.Commands;

namespace StructMat.Cli;

/// <summary>
/// The smx command line: the commands, and the one place exceptions become exit codes. Every failure is one line on
/// standard error starting with "smx: "; no stack trace ever reaches the user.
/// </summary>
public static class SmxApp
{
    public static int Run(IReadOnlyList<string> args, CliOutput output)
    {
        var app = new CommandApp();
        app.Configure(config =>
        {
            config.SetApplicationName("smx");
            config.SetApplicationVersion(typeof(SmxApp).Assembly.GetName().Version?.ToString(3) ?? "0.0.0");
            config.Settings.Console = output.Console;
            // Commands take this run's output through their constructor, so tests can capture it in process.
            config.Settings.Registrar.RegisterInstance<CliOutput>(output);
            config.PropagateExceptions();
            config.UseStrictParsing();
            config.AddCommand<CheckCommand>("check")
                .WithDescription("Report the build's diagnostics for .smx files (file(line,col): error SMXnnnn: message).")
                .WithExample("check", "layers.smx")
                .WithExample("check", "a.smx", "b.smx", "--format", "json");
            config.AddCommand<ExplainCommand>("explain")
                .WithDescription("Explain each layer: structure, node shapes, parameter tensors, parameters and FLOPs against dense, activation memory.")
                .WithExample("explain", "layers.smx", "--layer", "Mixer", "--svg", "mixer.svg");
            config.AddCommand<EmitCommand>("emit")
                .WithDescription("Print the generated C# (and with --dump the stage dumps), or write them to a folder.")
                .WithExample("emit", "layers.smx", "-o", "generated");
            config.AddCommand<BenchCommand>("bench")
                .WithDescription("Compile the layers in process and time forward and forward + backward against dense.")
                .WithExample("bench", "layers.smx", "--batch", "1,16,256");
            config.AddCommand<ProjectCommand>("project")
                .WithDescription("Project a dense [[out, in]] weight onto a layer's structure and save its parameters.")
                .WithExample("project", "layers.smx", "--layer", "Mixer", "--from", "dense.safetensors", "-o", "mixer.safetensors");
            config.AddCommand<OnnxCommand>("onnx")
                .WithDescription("Write a layer as an ONNX model (opset 17), structured or merged, with its weights from a .safetensors file.")
                .WithExample("onnx", "layers.smx", "--layer", "Mixer", "--weights", "mixer.safetensors", "-o", "mixer.onnx");
            config.AddCommand<ConvertCommand>("convert")
                .WithDescription("Rename a layer's saved parameters to PEFT keys, or PEFT keys to the layer's names.")
                .WithExample("convert", "layers.smx", "--layer", "Adapter", "--in", "a.safetensors", "--out", "peft.safetensors", "--to", "peft", "--prefix", "model.q_proj");
        });

        try
        {
            // No command at all is a usage error, though Spectre would print the help and succeed.
            if (args.Count == 0)
            {
                app.Run(new[] { "--help" });
                return ExitCodes.Usage;
            }
            return app.Run(args);
        }
        catch (CommandAppException e)
        {
            // Spectre's parse and validation errors: unknown command or option, missing argument, bad value.
            return Report(output, ExitCodes.Usage, e.Message);
        }
        catch (UsageException e)
        {
            return Report(output, ExitCodes.Usage, e.Message);
        }
        catch (CommandFailedException e)
        {
            return Report(output, ExitCodes.Failed, e.Message);
        }
        catch (IOException e)
        {
            return Report(output, ExitCodes.Failed, e.Message);
        }
        catch (UnauthorizedAccessException e)
        {
            return Report(output, ExitCodes.Failed, e.Message);
        }
        catch (Exception e)
        {
            // A bug in smx or below it: still one line, but say so, so it gets reported rather than worked around.
            return Report(output, ExitCodes.Failed, $"internal error ({e.GetType().Name}): {e.Message}");
        }
    }

    private static int Report(CliOutput output, int code, string message)
    {
        output.Error.WriteLine("smx: " + OneLine(message));
        if (code == ExitCodes.Usage) output.Error.WriteLine("Run 'smx --help' (or 'smx <command> --help') for usage.");
        return code;
    }

    private static string OneLine(string message) => string.Join(" ", message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
