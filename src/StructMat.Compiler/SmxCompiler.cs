using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using StructMat.Compiler.Diagnostics;
using StructMat.Compiler.Emit;
using StructMat.Compiler.Lowering;
using StructMat.Compiler.Passes;
using StructMat.Compiler.Semantics;
using StructMat.Compiler.Syntax;

namespace StructMat.Compiler;

/// <summary>What compiling one .smx file produced. Immutable and equatable, so the generator can cache it.</summary>
public sealed record CompilationResult(string? Source, EquatableArray<Diagnostic> Diagnostics, string? Dump)
{
    public bool HasErrors => Diagnostics.Any(d => d.IsError);

    /// <summary>The classes <see cref="Source"/> declares, so a host can check names across files.</summary>
    public EquatableArray<GeneratedClass> Classes { get; init; }
}

/// <summary>A generated layer class: its namespace, name and where the layer is declared.</summary>
public sealed record GeneratedClass(string Namespace, string Name, SourceSpan NameSpan);

/// <summary>
/// The compiler's front door: .smx text in, C# source, diagnostics and (on request) stage dumps out.
/// Stages: parse → bind and check shapes → lower → passes and autodiff → emit. A layer with an SMX error
/// anywhere in its declaration generates no code, and one without errors is generated even when others
/// have them: the user sees the SMX messages and nothing else (no C# errors cascading from them).
/// </summary>
public static class SmxCompiler
{
    /// <summary>The StructMat version (Directory.Build.props), stamped into generated code and its [GeneratedCode].</summary>
    public const string Version = StructMatVersion.Value;

    /// <summary>Stack for the compile thread: recursion follows expression depth, which <c>SizeLimits</c> bounds.</summary>
    private const int StackSize = 64 * 1024 * 1024;

    /// <summary>At most this many diagnostics per file, then SMX0006.</summary>
    public const int MaxDiagnostics = 100;

    /// <param name="omit">Layers to leave out of the generated code: those another file already declares in the same
    /// namespace (the host reports SMX0102 for them), so the one real message is not buried under C# errors.</param>
    public static CompilationResult Compile(string text, string sourceName, bool dump = false, IReadOnlyCollection<string>? omit = null)
    {
        // A dedicated thread with a known, large stack: the caller's (a compiler server thread) may be small.
        CompilationResult? result = null;
        var thread = new System.Threading.Thread(() => result = CompileOnThisThread(text, sourceName, dump, omit ?? Array.Empty<string>()), StackSize);
        thread.Start();
        thread.Join();
        return result!;
    }

    private static CompilationResult CompileOnThisThread(string text, string sourceName, bool dump, IReadOnlyCollection<string> omit)
    {
        var diagnostics = new List<Diagnostic>();
        var dumps = dump ? new StringBuilder() : null;
        try
        {
            var (unit, syntaxDiagnostics) = SmxParser.Parse(text);
            diagnostics.AddRange(syntaxDiagnostics);
            dumps?.Append("=== ast ===\n").Append(SyntaxDumper.Dump(unit));

            var (file, bindDiagnostics) = Binder.Bind(unit);
            diagnostics.AddRange(bindDiagnostics);
            dumps?.Append("=== bound ===\n").Append(BoundDumper.Dump(file));

            foreach (var part in file.Namespace.Split('.'))
            {
                if (CSharp.IsKeyword(part))
                {
                    diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.NamespaceInvalid, unit.NamespaceSpan, part, "namespace"));
                    return Result(null, diagnostics, dumps);
                }
            }

            var models = new List<LayerModel>();
            foreach (var layer in file.Layers)
            {
                if (omit.Contains(layer.Name) || HasErrorWithin(diagnostics, layer.Span)) continue;
                if (CSharp.IsKeyword(layer.Name))
                {
                    diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.NamespaceInvalid, layer.NameSpan, layer.Name, "class"));
                    continue;
                }
                if (ReservedNames.TooLong(file.Namespace, layer.Name) is { } bytes)
                {
                    var shown = layer.Name.Length <= 40 ? layer.Name : layer.Name.Substring(0, 40) + "…";
                    diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.NameTooLong, layer.NameSpan, shown, bytes, ReservedNames.MaxQualifiedNameBytes));
                    continue;
                }
                var ir = LowerLayer.Run(layer);
                if (ir.Parameters.All(p => !p.Trainable))
                {
                    diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.NothingTrainable, layer.NameSpan, layer.Name));
                }
                var optimized = PassPipeline.Run(ir, dumps is null ? null : (stage, text) =>
                    dumps.Append("=== ").Append(layer.Name).Append(": ").Append(stage).Append(" ===\n").Append(text));
                var model = new LayerModel(file.Namespace, layer, optimized);
                if (ReservedNames.Clash(model) is { } clash)
                {
                    diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.NameClash, layer.NameSpan, "Layer name", layer.Name, clash));
                    continue;
                }
                models.Add(model);
            }
            var source = models.Count == 0 ? null : FileEmitter.Emit(sourceName, file.Namespace, models);
            return Result(source, diagnostics, dumps) with
            {
                Classes = models.Select(m => new GeneratedClass(m.Namespace, m.ClassName, m.Bound.NameSpan)).ToEquatableArray(),
            };
        }
        catch (Exception e)
        {
            // Never let an exception escape: the generator would only show a CS8785 warning and emit nothing.
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.InternalError, SourceSpan.None, e.GetType().Name + ": " + e.Message));
            return Result(null, diagnostics, dumps);
        }
    }

    /// <summary>Whether an error was reported inside a declaration (a syntax error the parser recovered from included).</summary>
    private static bool HasErrorWithin(List<Diagnostic> diagnostics, SourceSpan declaration) =>
        diagnostics.Any(d => d.IsError && d.Span.Start >= declaration.Start && d.Span.Start < declaration.End);

    private static CompilationResult Result(string? source, List<Diagnostic> diagnostics, StringBuilder? dumps)
    {
        if (diagnostics.Count > MaxDiagnostics)
        {
            var last = diagnostics[MaxDiagnostics - 1];
            diagnostics = diagnostics.Take(MaxDiagnostics).ToList();
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.TooManyErrors, last.Span, MaxDiagnostics));
        }
        return new(source, diagnostics.ToEquatableArray(), dumps?.ToString());
    }
}
