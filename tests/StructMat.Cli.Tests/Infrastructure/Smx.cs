using System;
using System.Diagnostics;
using System.IO;
using System.Linq;

namespace StructMat.Cli.Tests.Infrastructure;

/// <summary>What one smx run printed and returned.</summary>
public sealed record SmxResult(int ExitCode, string Out, string Error)
{
    public string Describe() => $"exit {ExitCode}\n--- stdout ---\n{Out}\n--- stderr ---\n{Error}";

    /// <summary>Lines a stack trace would have ("   at Namespace.Type.Method(…)"), which a user must never see.</summary>
    public bool HasStackTrace => (Out + Error).Split('\n').Any(l => l.TrimStart().StartsWith("at ", StringComparison.Ordinal) && l.Contains('('))
                                 || (Out + Error).Contains("Exception:", StringComparison.Ordinal);
}

/// <summary>Runs smx in this process (the app's entry with captured output) or as a process (<c>dotnet smx.dll</c>).</summary>
public static class Smx
{
    public static SmxResult Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = SmxApp.Run(args, new CliOutput(output, error));
        return new SmxResult(code, output.ToString(), error.ToString());
    }

    /// <summary>The built tool, next to the tests (the project reference copies smx.dll and its runtimeconfig).</summary>
    public static string ToolPath
    {
        get
        {
            var path = Path.Combine(AppContext.BaseDirectory, "smx.dll");
            if (!File.Exists(path)) throw new FileNotFoundException("smx.dll is not next to the tests", path);
            return path;
        }
    }

    public static SmxResult Process(params string[] args) => Exec(Dotnet, new[] { ToolPath }.Concat(args).ToArray());

    public static string Dotnet
    {
        get
        {
            var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            return !string.IsNullOrEmpty(host) && File.Exists(host) ? host : "dotnet";
        }
    }

    public static SmxResult Exec(string fileName, string[] args, string? workingDirectory = null, int timeoutSeconds = 300)
    {
        var start = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Repo.Root,
        };
        foreach (var a in args) start.ArgumentList.Add(a);
        // The outer `dotnet test` sets these; a child `dotnet pack` must not build with the test host's MSBuild.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST_", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(key);
        }
        // An installed tool's apphost finds the runtime through DOTNET_ROOT: the one running these tests.
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host) start.Environment["DOTNET_ROOT"] = Path.GetDirectoryName(host);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeoutSeconds * 1000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(" ", args)} ran over {timeoutSeconds} s");
        }
        return new SmxResult(process.ExitCode, stdout.Result, stderr.Result);
    }
}

/// <summary>The repository's folders.</summary>
public static class Repo
{
    public static string Root
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "StructMat.sln"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("StructMat.sln not found above " + AppContext.BaseDirectory);
        }
    }

    public static string Cases => Path.Combine(Root, "tests", "Cases");

    public static string Mistakes => Path.Combine(Root, "tests", "mistakes");
}

/// <summary>A fresh folder per test, deleted afterwards.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder(string name)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "structmat-cli-tests", name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(string name) => System.IO.Path.Combine(Path, name);

    public string Write(string name, string text)
    {
        var path = Combine(name);
        File.WriteAllText(path, text);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A file still open by a killed child; the temp folder is cleaned by the system.
        }
    }
}
