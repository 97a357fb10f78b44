using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;

namespace StructMat.Build.Tests.Infrastructure;

/// <summary>The outcome of one <c>dotnet</c> (or other) command: exit code and interleaved stdout/stderr.</summary>
public sealed record CommandResult(string CommandLine, string WorkingDirectory, int ExitCode, bool TimedOut, TimeSpan Duration, string Output)
{
    public bool Succeeded => ExitCode == 0 && !TimedOut;

    /// <summary>A message for assertions: the command, where it ran, how it ended, and (the tail of) its output.</summary>
    public string Describe(string? headline = null)
    {
        const int MaxOutput = 40_000;
        var output = Output.Length <= MaxOutput
            ? Output
            : "[... " + (Output.Length - MaxOutput) + " characters cut ...]" + Environment.NewLine + Output.Substring(Output.Length - MaxOutput);
        var end = TimedOut ? "timed out" : "exited with " + ExitCode;
        var sb = new StringBuilder();
        if (headline != null)
        {
            sb.AppendLine(headline);
        }
        sb.AppendLine($"`{CommandLine}` in {WorkingDirectory} {end} after {Duration.TotalSeconds:F1} s. Output:");
        sb.AppendLine(output);
        return sb.ToString();
    }
}

/// <summary>Runs external commands (mostly <c>dotnet</c>) with a timeout, capturing all output.</summary>
public static class Dotnet
{
    /// <summary>Generous: a cold restore plus build on a busy 2-core machine can take minutes.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(10);

    /// <summary>The dotnet host that runs these tests (<c>DOTNET_HOST_PATH</c> under <c>dotnet test</c>), else <c>dotnet</c> from PATH.</summary>
    public static string Executable
    {
        get
        {
            var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            return !string.IsNullOrEmpty(host) && File.Exists(host) ? host! : "dotnet";
        }
    }

    public static CommandResult Run(string workingDirectory, params string[] arguments) =>
        Exec(Executable, workingDirectory, arguments, DefaultTimeout);

    /// <summary>
    /// Runs <paramref name="fileName"/> with an environment cleaned of the MSBuild variables that the
    /// test host may inherit from the outer <c>dotnet test</c> (they would point the child build at the
    /// outer build's MSBuild), with node reuse off so no build node outlives the command.
    /// </summary>
    public static CommandResult Exec(string fileName, string workingDirectory, IEnumerable<string> arguments, TimeSpan timeout,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var args = arguments.ToList();
        var startInfo = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var a in args)
        {
            startInfo.ArgumentList.Add(a);
        }

        foreach (var key in startInfo.Environment.Keys.ToList())
        {
            if (key.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || key.StartsWith("VSTEST_", StringComparison.OrdinalIgnoreCase))
            {
                startInfo.Environment.Remove(key);
            }
        }
        startInfo.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        startInfo.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        startInfo.Environment["DOTNET_NOLOGO"] = "1";
        startInfo.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        // Plain text logs, no terminal-logger progress rewriting.
        startInfo.Environment["MSBUILDTERMINALLOGGER"] = "off";
        if (environment != null)
        {
            foreach (var kv in environment)
            {
                if (kv.Value == null)
                {
                    startInfo.Environment.Remove(kv.Key);
                }
                else
                {
                    startInfo.Environment[kv.Key] = kv.Value;
                }
            }
        }

        var commandLine = fileName + " " + string.Join(" ", args.Select(Quote));
        var output = new StringBuilder();
        var gate = new object();
        var stdoutDone = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stderrDone = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);

        var watch = Stopwatch.StartNew();
        using var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data == null) { stdoutDone.TrySetResult(true); return; }
            lock (gate) { output.AppendLine(e.Data); }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data == null) { stderrDone.TrySetResult(true); return; }
            lock (gate) { output.AppendLine(e.Data); }
        };

        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        // WaitForExit(int) returns at exit without waiting for end-of-stream: a long-lived grandchild
        // (a compiler server) that inherited the pipes cannot hang the test.
        var timedOut = !process.WaitForExit((int)timeout.TotalMilliseconds);
        if (timedOut)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Exited in the meantime.
            }
            process.WaitForExit(10_000);
        }
        // Give the readers a moment to drain what the process wrote before it exited.
        Task.WhenAll(stdoutDone.Task, stderrDone.Task).Wait(TimeSpan.FromSeconds(10));
        watch.Stop();

        string text;
        lock (gate) { text = output.ToString(); }
        var exitCode = timedOut ? -1 : process.ExitCode;
        return new CommandResult(commandLine, workingDirectory, exitCode, timedOut, watch.Elapsed, text);
    }

    private static string Quote(string s) =>
        s.Length > 0 && s.All(c => !char.IsWhiteSpace(c) && c != '"' && c != '\'') ? s : "'" + s.Replace("'", "'\\''") + "'";
}
