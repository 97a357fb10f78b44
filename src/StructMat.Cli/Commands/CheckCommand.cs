using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading;
using Spectre.Console.Cli;
using StructMat.Compiler;
using StructMat.Compiler.Diagnostics;

namespace StructMat.Cli.Commands;

public sealed class CheckSettings : CommandSettings
{
    [CommandArgument(0, "<FILES>")]
    [Description(".smx files to check")]
    public string[] Files { get; init; } = Array.Empty<string>();

    [CommandOption("--format <FORMAT>")]
    [Description("text (default): file(line,col): error SMXnnnn: message, then a summary; json: an array of diagnostics")]
    [DefaultValue("text")]
    public string Format { get; init; } = "text";
}

/// <summary>
/// <c>smx check FILES…</c>: what a build reports for these files, the same ids, messages and positions, including
/// SMX0102 for a layer declared again in another file of its namespace. Exit 1 when any error.
/// </summary>
public sealed class CheckCommand(CliOutput output) : Command<CheckSettings>
{
    public override int Execute(CommandContext context, CheckSettings settings, CancellationToken cancellationToken)
    {
        if (settings.Format is not ("text" or "json")) throw new UsageException($"--format must be text or json, not '{settings.Format}'");
        // A file named twice is one file (a build never sees it twice, so it is no duplicate declaration).
        var files = settings.Files.DistinctBy(path => System.IO.Path.GetFullPath(path))
            .Select(path => (Path: path, Text: InputFiles.ReadSmx(path))).ToList();
        var reports = FileChecker.Check(files);

        if (settings.Format == "json") WriteJson(reports);
        else WriteText(reports);
        return reports.Any(r => r.Diagnostic.IsError) ? ExitCodes.Failed : ExitCodes.Ok;
    }

    private void WriteText(IReadOnlyList<ReportedDiagnostic> reports)
    {
        foreach (var report in reports) output.Out.WriteLine(report.Diagnostic.Format(report.Path));
        var errors = reports.Count(r => r.Diagnostic.IsError);
        var warnings = reports.Count - errors;
        var fileCount = reports.Select(r => r.Path).Distinct().Count();
        output.Out.WriteLine(reports.Count == 0
            ? "No errors."
            : $"{Plural(errors, "error")}, {Plural(warnings, "warning")} in {Plural(fileCount, "file")}.");
    }

    private void WriteJson(IReadOnlyList<ReportedDiagnostic> reports)
    {
        using var stream = new MemoryStream();
        // Relaxed escaping: messages quote names with ', which the default encoder would write as \u0027.
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartArray();
            foreach (var (path, d) in reports)
            {
                json.WriteStartObject();
                json.WriteString("file", path);
                json.WriteNumber("line", d.Span.StartLine + 1);
                json.WriteNumber("column", d.Span.StartColumn + 1);
                json.WriteNumber("endLine", d.Span.EndLine + 1);
                json.WriteNumber("endColumn", d.Span.EndColumn + 1);
                json.WriteString("severity", d.IsError ? "error" : "warning");
                json.WriteString("id", d.Id);
                json.WriteString("message", d.Message);
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        output.Out.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    private static string Plural(int count, string noun) => $"{count} {noun}{(count == 1 ? "" : "s")}";
}

/// <summary>A diagnostic and the path (as the user wrote it) of the file it is in.</summary>
public sealed record ReportedDiagnostic(string Path, Diagnostic Diagnostic);

/// <summary>Compiles each file as the generator does and adds its cross-file check.</summary>
public static class FileChecker
{
    public static IReadOnlyList<ReportedDiagnostic> Check(IReadOnlyList<(string Path, string Text)> files)
    {
        var results = files.Select(f => (f.Path, Result: SmxCompiler.Compile(f.Text, System.IO.Path.GetFileName(f.Path)))).ToList();
        var reports = results.SelectMany(r => r.Result.Diagnostics.Select(d => new ReportedDiagnostic(r.Path, d))).ToList();

        // As StructMatGenerator: files in path order, the first declaration of a namespace.name keeps it, every later
        // one is SMX0102 naming the first file.
        var first = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (path, result) in results.OrderBy(r => System.IO.Path.GetFullPath(r.Path), StringComparer.Ordinal))
        {
            foreach (var type in result.Classes)
            {
                var key = type.Namespace + "." + type.Name;
                if (first.TryGetValue(key, out var owner))
                {
                    var message = $"'{type.Name}' is already declared in namespace {type.Namespace} by {System.IO.Path.GetFileName(owner)}";
                    reports.Add(new ReportedDiagnostic(path, new Diagnostic(DiagnosticDescriptors.DuplicateDeclaration.Id, message, Severity.Error, type.NameSpan)));
                }
                else
                {
                    first[key] = path;
                }
            }
        }
        return reports;
    }
}
