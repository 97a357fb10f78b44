using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Reports;

namespace StructMat.Bench;

/// <summary>
/// Writes <c>structmat-run.json</c> next to BenchmarkDotNet's exports: what the report script cannot read from
/// them — each structure's multiply-adds per row and parameter counts, the baseline and OpenBLAS's
/// configuration, the CPU model, and the command of each run with the JSON reports it wrote. A later run into the
/// same folder replaces the entries of earlier runs whose reports it overwrote all of, and keeps the others (a
/// suite run in parts).
/// </summary>
public static class RunInfo
{
    public const string FileName = "structmat-run.json";

    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
    };

    public static IEnumerable<string> Write(IReadOnlyList<Summary> summaries, string[] args, DateTime startedUtc)
    {
        var written = new List<string>();
        foreach (var group in summaries.Where(s => s.Reports.Length > 0).GroupBy(s => s.ResultsDirectoryPath))
        {
            var path = Path.Combine(group.Key, FileName);
            // The brief JSON exports this run wrote (BenchmarkDotNet names them after the type, or the run when joined).
            var reports = Directory.EnumerateFiles(group.Key, "*-report-brief.json")
                .Where(f => File.GetLastWriteTimeUtc(f) >= startedUtc.AddSeconds(-1))
                .Select(Path.GetFileName).OfType<string>().OrderBy(f => f, StringComparer.Ordinal).ToArray();
            var previousRuns = ReadRuns(path).Where(run => !run.Reports.All(reports.Contains)).ToList();
            var run = new Run(
                "dotnet run -c Release --project bench/StructMat.Bench --" + string.Concat(args.Select(a => " " + Quote(a))),
                startedUtc.ToString("yyyy-MM-ddTHH:mm:ssZ"),
                GitCommit(),
                reports);
            var info = new JsonObject
            {
                ["cpu"] = CpuModel(),
                ["logicalCores"] = Environment.ProcessorCount,
                ["fmaCeilingGflops"] = new JsonObject { ["singleThread"] = Math.Round(FmaCeiling.SingleThread, 1), ["allThreads"] = Math.Round(FmaCeiling.AllThreads, 1) },
                ["os"] = RuntimeInformation.OSDescription,
                ["runtime"] = RuntimeInformation.FrameworkDescription,
                ["baseline"] = LayerCatalog.Baseline,
                ["baselineLabel"] = LayerCatalog.Label(LayerCatalog.Baseline, 1024),
                ["openblas"] = OpenBlas.Instance?.Describe(),
                ["openblasEnvironment"] = OpenBlasEnvironment(),
                ["flopsConvention"] = "macsPerRow is IStructuredLayer.FlopsPerRow: forward multiply-adds per input row (n² for dense). "
                    + "Useful flops = 2 · macsPerRow · batch, ×3 for ForwardBackward.",
                ["runs"] = JsonSerializer.SerializeToNode(previousRuns.Append(run).ToArray(), s_json),
                ["structures"] = new JsonArray(LayerCatalog.Names().SelectMany(name => LayerCatalog.Sizes.Select(n =>
                {
                    var cost = LayerCatalog.Cost(name, n);
                    return (JsonNode)new JsonObject
                    {
                        ["name"] = name,
                        ["n"] = n,
                        ["label"] = LayerCatalog.Label(name, n),
                        ["macsPerRow"] = cost.Macs,
                        ["parameters"] = cost.Parameters,
                        ["trainableParameters"] = cost.Trainable,
                    };
                })).ToArray()),
            };
            File.WriteAllText(path, info.ToJsonString(s_json) + "\n");
            written.Add(path);
        }
        return written;
    }

    private sealed record Run(string Command, string Utc, string? GitCommit, string[] Reports);

    private static IEnumerable<Run> ReadRuns(string path)
    {
        if (!File.Exists(path)) return Array.Empty<Run>();
        try
        {
            var runs = JsonNode.Parse(File.ReadAllText(path))?["runs"];
            return runs?.Deserialize<Run[]>(new JsonSerializerOptions { PropertyNameCaseInsensitive = true }) ?? Array.Empty<Run>();
        }
        catch (JsonException)
        {
            return Array.Empty<Run>(); // an unreadable file from an older run is replaced
        }
    }

    /// <summary>The OPENBLAS_* variables (OPENBLAS_CORETYPE, OPENBLAS_NUM_THREADS, …), which change what the baseline runs.</summary>
    private static JsonObject OpenBlasEnvironment()
    {
        var variables = new JsonObject();
        foreach (var entry in Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
                     .Select(e => (Key: e.Key.ToString() ?? "", Value: e.Value?.ToString()))
                     .Where(e => e.Key.StartsWith("OPENBLAS_", StringComparison.Ordinal))
                     .OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            variables[entry.Key] = entry.Value;
        }
        return variables;
    }

    private static string Quote(string a) =>
        a.Length > 0 && a.All(c => char.IsLetterOrDigit(c) || "-_=.,:/".Contains(c)) ? a : "'" + a.Replace("'", "'\\''") + "'";

    private static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            if (line is not null) return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    private static string? GitCommit()
    {
        try
        {
            using var git = Process.Start(new ProcessStartInfo("git", "rev-parse --short HEAD") { RedirectStandardOutput = true, RedirectStandardError = true });
            if (git is null) return null;
            var output = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 && output.Length > 0 ? output : null;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return null;
        }
    }
}
