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

        // Each file compiles alone, so a layer declared in two files of one namespace is only visible across them:
        // the first declaration (files in path order) keeps its code; every later one is SMX0102 and generates
        // nothing, so the user sees that one message and no C# errors (CS0101, CS0111 …) beneath it.
        var duplicates = compiled
            .Select((file, _) => new FileClasses(file.Path, file.Result.Classes))
            .Collect()
            .Select((files, _) => Duplicates.Find(files))
            .WithTrackingName(TrackingNames.Classes);

        var sources = compiled
            .Combine(duplicates)
            .Select((pair, cancellationToken) => Source(pair.Left, pair.Right, cancellationToken))
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
        context.RegisterSourceOutput(duplicates, static (output, found) =>
        {
            foreach (var duplicate in found.Declarations)
            {
                var message = $"'{duplicate.Name}' is already declared in namespace {duplicate.Namespace} by {Path.GetFileName(duplicate.FirstPath)}";
                output.ReportDiagnostic(ToRoslyn(duplicate.Path, new SmxDiagnostic(SmxDescriptors.DuplicateDeclaration.Id, message,
                    StructMat.Compiler.Diagnostics.Severity.Error, duplicate.NameSpan)));
            }
        });
    }

    /// <summary>The file's generated code: as compiled, or compiled again without the layers another file declares first.</summary>
    private static GeneratedSource Source(CompiledFile file, Duplicates duplicates, System.Threading.CancellationToken cancellationToken)
    {
        var omit = duplicates.Declarations.Where(d => d.Path == file.Path).Select(d => d.Name).ToList();
        if (omit.Count == 0) return new GeneratedSource(file.HintName, file.Result.Source, file.Result.Dump);
        cancellationToken.ThrowIfCancellationRequested();
        var result = file.Text is null ? file.Result : SmxCompiler.Compile(file.Text, file.SourceName, file.Result.Dump is not null, omit);
        return new GeneratedSource(file.HintName, result.Source, result.Dump);
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
            var sourceName = relative.Replace('\\', '/');
            return new CompiledFile(file.Path, HintName(relative, file.Path), SmxCompiler.Compile(text, sourceName, settings.Dump)) { Text = text, SourceName = sourceName };
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

internal sealed record CompiledFile(string Path, string HintName, CompilationResult Result)
{
    /// <summary>The .smx text, kept to compile the file again without duplicate layers (null when it could not be read).</summary>
    public string? Text { get; init; }

    public string SourceName { get; init; } = "";
}

internal sealed record GeneratedSource(string HintName, string? Text, string? Dump);

internal sealed record FileDiagnostics(string Path, EquatableArray<SmxDiagnostic> Diagnostics);

internal sealed record FileClasses(string Path, EquatableArray<GeneratedClass> Classes);

/// <summary>A layer declared again in another file of its namespace: where, and which file declared it first.</summary>
internal sealed record DuplicateDeclaration(string Path, string Namespace, string Name, SourceSpan NameSpan, string FirstPath);

/// <summary>Every duplicate layer of the project, files in path order (the first declaration wins).</summary>
internal sealed record Duplicates(EquatableArray<DuplicateDeclaration> Declarations)
{
    public static Duplicates Find(System.Collections.Immutable.ImmutableArray<FileClasses> files)
    {
        var first = new System.Collections.Generic.Dictionary<string, string>(StringComparer.Ordinal);
        var found = new System.Collections.Generic.List<DuplicateDeclaration>();
        foreach (var file in files.OrderBy(f => f.Path, StringComparer.Ordinal))
        {
            foreach (var type in file.Classes)
            {
                var key = type.Namespace + "." + type.Name;
                if (first.TryGetValue(key, out var owner)) found.Add(new DuplicateDeclaration(file.Path, type.Namespace, type.Name, type.NameSpan, owner));
                else first[key] = file.Path;
            }
        }
        return new Duplicates(found.ToEquatableArray());
    }
}
