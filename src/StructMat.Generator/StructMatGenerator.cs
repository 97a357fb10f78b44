using System;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using StructMat.Compiler;
using SmxDiagnostic = StructMat.Compiler.Diagnostics.Diagnostic;
using SmxDescriptors = StructMat.Compiler.Diagnostics.DiagnosticDescriptors;
using SourceSpan = StructMat.Compiler.Diagnostics.SourceSpan;

namespace StructMat.Generator;

/// <summary>
/// Compiles every <c>*.smx</c> AdditionalFile with <see cref="SmxCompiler"/>, adds one C# file per .smx
/// file and reports SMX diagnostics at <c>file.smx(line,col)</c>. Sources and diagnostics are separate
/// outputs over equatable values, so a diagnostic that moves does not re-emit code, and an edit to a
/// C# file re-runs nothing. No exception escapes: one would only surface as warning CS8785.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class StructMatGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var settings = context.AnalyzerConfigOptionsProvider.Select((provider, _) =>
        {
            var options = provider.GlobalOptions;
            options.TryGetValue("build_property.StructMatDump", out var dump);
            options.TryGetValue("build_property.ProjectDir", out var projectDir);
            return new Settings(string.Equals(dump, "true", StringComparison.OrdinalIgnoreCase), projectDir ?? string.Empty);
        });

        var compiled = context.AdditionalTextsProvider
            .Where(file => file.Path.EndsWith(".smx", StringComparison.OrdinalIgnoreCase))
            .Combine(settings)
            .Select((pair, cancellationToken) => Compile(pair.Left, pair.Right, cancellationToken))
            .WithTrackingName(TrackingNames.Compiled);

        var sources = compiled
            .Select((file, _) => new GeneratedSource(file.HintName, file.Result.Source, file.Result.Dump))
            .WithTrackingName(TrackingNames.Sources);
        context.RegisterSourceOutput(sources, static (output, source) =>
        {
            if (source.Text is not null) output.AddSource(source.HintName, SourceText.From(source.Text, Encoding.UTF8));
            if (source.Dump is not null) output.AddSource(source.HintName.Replace(".g.cs", ".dump.g.cs"), SourceText.From(AsComment(source.Dump), Encoding.UTF8));
        });

        var diagnostics = compiled
            .Select((file, _) => new FileDiagnostics(file.Path, file.Result.Diagnostics))
            .WithTrackingName(TrackingNames.Diagnostics);
        context.RegisterSourceOutput(diagnostics, static (output, file) =>
        {
            foreach (var diagnostic in file.Diagnostics) output.ReportDiagnostic(ToRoslyn(file.Path, diagnostic));
        });

        // Each file compiles alone, so a layer declared in two files of one namespace is only visible across
        // them: report it at every declaration after the first (files in path order), besides C#'s CS0101.
        var classes = compiled
            .Select((file, _) => new FileClasses(file.Path, file.Result.Classes))
            .Collect()
            .WithTrackingName(TrackingNames.Classes);
        context.RegisterSourceOutput(classes, static (output, files) =>
        {
            var first = new System.Collections.Generic.Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var file in files.OrderBy(f => f.Path, StringComparer.Ordinal))
            {
                foreach (var type in file.Classes)
                {
                    var key = type.Namespace + "." + type.Name;
                    if (first.TryGetValue(key, out var owner))
                    {
                        var message = $"'{type.Name}' is already declared in namespace {type.Namespace} by {System.IO.Path.GetFileName(owner)}";
                        output.ReportDiagnostic(ToRoslyn(file.Path, new SmxDiagnostic(SmxDescriptors.DuplicateDeclaration.Id, message,
                            StructMat.Compiler.Diagnostics.Severity.Error, type.NameSpan)));
                    }
                    else
                    {
                        first[key] = file.Path;
                    }
                }
            }
        });
    }

    private static CompiledFile Compile(AdditionalText file, Settings settings, System.Threading.CancellationToken cancellationToken)
    {
        var relative = RelativePath(file.Path, settings.ProjectDir);
        try
        {
            var text = file.GetText(cancellationToken)?.ToString();
            if (text is null)
            {
                return new CompiledFile(file.Path, HintName(relative, file.Path), Internal($"could not read {file.Path}"));
            }
            return new CompiledFile(file.Path, HintName(relative, file.Path), SmxCompiler.Compile(text, relative.Replace('\\', '/'), settings.Dump));
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception e)
        {
            return new CompiledFile(file.Path, HintName(relative, file.Path), Internal(e.GetType().Name + ": " + e.Message));
        }
    }

    private static CompilationResult Internal(string message) =>
        new(null, new[] { SmxDiagnostic.Create(SmxDescriptors.InternalError, SourceSpan.None, message) }.ToEquatableArray(), null);

    private static string RelativePath(string path, string projectDir)
    {
        if (projectDir.Length > 0 && path.StartsWith(projectDir, StringComparison.Ordinal))
        {
            return path.Substring(projectDir.Length).TrimStart('/', '\\');
        }
        return Path.GetFileName(path);
    }

    /// <summary>
    /// Unique per file: the project-relative path with separators flattened (<c>nets/a.smx</c> →
    /// <c>nets.a.smx.g.cs</c>); without a project folder, the file name plus a hash of the full path.
    /// </summary>
    internal static string HintName(string relative, string fullPath)
    {
        var flat = new string(relative.Select(c => char.IsLetterOrDigit(c) || c == '.' || c == '_' || c == '-' ? c : '.').ToArray()).Trim('.');
        if (relative == Path.GetFileName(fullPath) && relative != fullPath)
        {
            flat += "." + StableHash(fullPath).ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
        }
        return flat + ".g.cs";
    }

    private static uint StableHash(string text)
    {
        var hash = 2166136261u;
        foreach (var c in text) hash = (hash ^ c) * 16777619u;
        return hash;
    }

    private static string AsComment(string dump) =>
        "// <auto-generated/>\n// StructMat stage dumps (StructMatDump=true)\n" +
        string.Join("\n", dump.Split('\n').Select(line => "// " + line)) + "\n";

    private static Microsoft.CodeAnalysis.Diagnostic ToRoslyn(string path, SmxDiagnostic diagnostic)
    {
        var span = diagnostic.Span;
        var location = Location.Create(path, new TextSpan(span.Start, span.Length),
            new LinePositionSpan(new LinePosition(span.StartLine, span.StartColumn), new LinePosition(span.EndLine, span.EndColumn)));
        var descriptor = SmxDescriptors.All.FirstOrDefault(d => d.Id == diagnostic.Id);
        var roslynDescriptor = new DiagnosticDescriptor(diagnostic.Id, descriptor?.Title ?? diagnostic.Id, "{0}", "StructMat",
            diagnostic.IsError ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning, isEnabledByDefault: true);
        return Microsoft.CodeAnalysis.Diagnostic.Create(roslynDescriptor, location, diagnostic.Message);
    }
}

/// <summary>Names of the pipeline steps, for incremental-caching tests.</summary>
public static class TrackingNames
{
    public const string Compiled = nameof(Compiled);
    public const string Sources = nameof(Sources);
    public const string Diagnostics = nameof(Diagnostics);
    public const string Classes = nameof(Classes);
}

// Pipeline values: each must be immutable and structurally equatable.
internal sealed record Settings(bool Dump, string ProjectDir);

internal sealed record CompiledFile(string Path, string HintName, CompilationResult Result);

internal sealed record GeneratedSource(string HintName, string? Text, string? Dump);

internal sealed record FileDiagnostics(string Path, EquatableArray<SmxDiagnostic> Diagnostics);

internal sealed record FileClasses(string Path, EquatableArray<GeneratedClass> Classes);
