using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using StructMat.Compiler;
using SmxDescriptors = StructMat.Compiler.Diagnostics.DiagnosticDescriptors;

namespace StructMat.Generator.Tests.Fuzzing;

/// <summary>A property that did not hold for one input.</summary>
internal sealed record FuzzFailure(FuzzCase Case, string Property, string Detail, IReadOnlyList<string>? CSharpIds = null)
{
    public override string ToString() => $"case {Case.Index} ({Case.Strategy}, {Case.Text.Length} chars): {Property}: {Detail}";
}

/// <summary>
/// Checks the fuzzing properties for a stream of inputs:
/// <list type="number">
/// <item><c>SmxCompiler.Compile</c> returns (no exception escapes) and reports no internal error (SMX0901, which means
/// an exception was caught inside the compiler);</item>
/// <item>it yields code or at least one diagnostic (an input that declares no layer may yield neither);</item>
/// <item>every diagnostic id is <c>SMX\d{4}</c> and catalogued, and its span lies inside the text, with start and end
/// line/column equal to those computed from the offsets (lines end at '\n', as ANTLR counts them; columns are UTF-16
/// code units);</item>
/// <item>with no error diagnostic there is code, and it compiles with zero C# errors and zero warnings (warning level
/// 9999, nullable enabled, documentation parsed, as the generator tests compile it). Sources are compiled in batches of up to
/// <see cref="BatchSize"/> files per <see cref="CSharpCompilation"/>; a case whose tree has a diagnostic is compiled
/// again on its own, so one case's problem is never blamed on another.</item>
/// </list>
/// </summary>
internal sealed class FuzzChecker
{
    public const int BatchSize = 50;

    private static readonly Regex IdPattern = new(@"^SMX\d{4}$", RegexOptions.Compiled);
    private static readonly Regex NamespaceLine = new(@"^namespace (.+);\r?$", RegexOptions.Compiled | RegexOptions.Multiline);
    private static readonly HashSet<string> KnownIds = new(SmxDescriptors.All.Select(d => d.Id), StringComparer.Ordinal);

    public static readonly CSharpParseOptions ParseOptions = Gen.ParseOptions;

    private static readonly CSharpCompilationOptions CompilationOptions =
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable)
            .WithWarningLevel(9999);

    private readonly List<(FuzzCase Case, string Source)> _pending = new();

    public int Cases { get; private set; }
    public int WithCode { get; private set; }
    public int WithErrors { get; private set; }
    public int CompiledWithCSharp { get; private set; }
    public long Characters { get; private set; }
    public TimeSpan SmxTime { get; private set; }
    public long CSharpCharacters { get; private set; }
    public TimeSpan CSharpTime { get; private set; }
    public List<FuzzFailure> Failures { get; } = new();

    /// <summary>Checks a chunk of inputs: the SMX properties in parallel, then C# compilation of the clean ones in batches.</summary>
    public void CheckAll(IReadOnlyList<FuzzCase> cases)
    {
        var results = new (CompilationResult? Result, List<FuzzFailure> Failures)[cases.Count];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Parallel.For(0, cases.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            k => results[k] = CheckSmx(cases[k]));
        SmxTime += clock.Elapsed;
        for (var k = 0; k < cases.Count; k++)
        {
            Cases++;
            Characters += cases[k].Text.Length;
            Failures.AddRange(results[k].Failures);
            var result = results[k].Result;
            if (result is null) continue;
            if (result.Source is not null) WithCode++;
            if (result.HasErrors) WithErrors++;
            else if (result.Source is not null) _pending.Add((cases[k], result.Source));
        }
        Flush();
    }

    public void Check(FuzzCase fuzzCase) => CheckAll(new[] { fuzzCase });

    /// <summary>Queues C# source for the batch compiler as if a case had produced it (the checker's own tests use this).</summary>
    internal void AddSource(FuzzCase fuzzCase, string source) => _pending.Add((fuzzCase, source));

    /// <summary>The properties that need no C# compiler; returns the result (null if Compile threw) and the failures.</summary>
    public static (CompilationResult? Result, List<FuzzFailure> Failures) CheckSmx(FuzzCase fuzzCase)
    {
        var failures = new List<FuzzFailure>();
        var text = fuzzCase.Text;
        CompilationResult result;
        try
        {
            result = SmxCompiler.Compile(text, $"fuzz/case{fuzzCase.Index}.smx");
        }
        catch (Exception e)
        {
            failures.Add(new FuzzFailure(fuzzCase, "Compile threw", e.ToString()));
            return (null, failures);
        }
        if (result is null)
        {
            failures.Add(new FuzzFailure(fuzzCase, "Compile returned no result", "result is null"));
            return (null, failures);
        }
        failures.AddRange(CheckResult(fuzzCase, result));
        return (result, failures);
    }

    /// <summary>The properties of one compilation result for its input text (separate so the checks themselves can be tested).</summary>
    internal static List<FuzzFailure> CheckResult(FuzzCase fuzzCase, CompilationResult result)
    {
        var failures = new List<FuzzFailure>();
        var text = fuzzCase.Text;

        if (result.Source is null && result.Diagnostics.Count == 0 && DeclaresLayer(text))
        {
            failures.Add(new FuzzFailure(fuzzCase, "no code and no diagnostic", "the input declares a layer but Compile returned neither"));
        }

        var lines = LineStarts(text);
        foreach (var d in result.Diagnostics)
        {
            if (d is null)
            {
                failures.Add(new FuzzFailure(fuzzCase, "null diagnostic", ""));
                continue;
            }
            if (d.Id is null || !IdPattern.IsMatch(d.Id) || !KnownIds.Contains(d.Id))
            {
                failures.Add(new FuzzFailure(fuzzCase, "uncatalogued diagnostic id", $"{d.Id}: {d.Message}"));
            }
            if (d.Id == SmxDescriptors.InternalError.Id)
            {
                failures.Add(new FuzzFailure(fuzzCase, "internal compiler error", d.Message));
            }
            var s = d.Span;
            if (s.Start < 0 || s.Length < 0 || (long)s.Start + s.Length > text.Length)
            {
                failures.Add(new FuzzFailure(fuzzCase, "span outside the text", $"{d.Id} span [{s.Start}, +{s.Length}) in a text of {text.Length} chars"));
                continue;
            }
            var (startLine, startColumn) = Position(lines, s.Start);
            var (endLine, endColumn) = Position(lines, s.Start + s.Length);
            if (s.StartLine != startLine || s.StartColumn != startColumn || s.EndLine != endLine || s.EndColumn != endColumn)
            {
                failures.Add(new FuzzFailure(fuzzCase, "span line/column inconsistent with its offsets",
                    $"{d.Id} '{d.Message}' at offsets [{s.Start}, +{s.Length}) claims ({s.StartLine},{s.StartColumn})-({s.EndLine},{s.EndColumn}) " +
                    $"but the text has ({startLine},{startColumn})-({endLine},{endColumn}) (0-based)"));
            }
        }

        if (!result.HasErrors && result.Source is null && result.Diagnostics.Count > 0 && DeclaresLayer(text))
        {
            failures.Add(new FuzzFailure(fuzzCase, "no error but no code", string.Join("; ", result.Diagnostics.Select(d => d.ToString()))));
        }
        return failures;
    }

    /// <summary>Whether the text has a <c>layer</c> token outside comments (so an empty or constants-only file may yield nothing).</summary>
    internal static bool DeclaresLayer(string text)
    {
        var code = Regex.Replace(text, @"//[^\r\n]*|/\*[\s\S]*?\*/", " ");
        return Regex.IsMatch(code, @"(?<![A-Za-z0-9_])layer(?![A-Za-z0-9_])");
    }

    internal static int[] LineStarts(string text)
    {
        var starts = new List<int> { 0 };
        for (var k = 0; k < text.Length; k++)
        {
            if (text[k] == '\n') starts.Add(k + 1);
        }
        return starts.ToArray();
    }

    internal static (int Line, int Column) Position(int[] lineStarts, int offset)
    {
        var line = Array.BinarySearch(lineStarts, offset);
        if (line < 0) line = ~line - 1;
        return (line, offset - lineStarts[line]);
    }

    /// <summary>Compiles the pending clean sources, in batches whose generated namespaces are distinct.</summary>
    public void Flush()
    {
        var batches = new List<List<(FuzzCase Case, string Source, string Namespace)>>();
        foreach (var (fuzzCase, source) in _pending)
        {
            var ns = NamespaceLine.Match(source) is { Success: true } m ? m.Groups[1].Value : "";
            var batch = batches.FirstOrDefault(b => b.Count < BatchSize && b.All(x => x.Namespace != ns));
            if (batch is null) batches.Add(batch = new());
            batch.Add((fuzzCase, source, ns));
        }
        _pending.Clear();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        foreach (var batch in batches) CompileBatch(batch.Select(x => (x.Case, x.Source)).ToList());
        CSharpTime += clock.Elapsed;
    }

    private void CompileBatch(List<(FuzzCase Case, string Source)> batch)
    {
        CompiledWithCSharp += batch.Count;
        var trees = batch.Select(x => CSharpSyntaxTree.ParseText(x.Source, ParseOptions, path: $"case{x.Case.Index}.g.cs")).ToList();
        var diagnostics = Compile(trees);
        if (diagnostics.Count == 0) return;

        // Every case with a diagnostic is compiled again on its own, and only what it does alone counts: cases share a
        // compilation, and one case's names (a layer called Checks in a namespace that encloses another case's) can break
        // another case's code. Cases without diagnostics in the batch have none alone either (adding files can only add them).
        var suspects = diagnostics.Any(d => d.Location.SourceTree is null)
            ? Enumerable.Range(0, batch.Count).ToList()
            : diagnostics.Select(d => trees.IndexOf((SyntaxTree)d.Location.SourceTree!)).Distinct().OrderBy(k => k).ToList();
        var byTree = suspects.ToDictionary(k => k, k => batch.Count == 1 ? diagnostics : Compile(new List<SyntaxTree> { trees[k] }));
        foreach (var (k, alone) in byTree.OrderBy(x => x.Key))
        {
            if (alone.Count == 0) continue;
            Failures.Add(new FuzzFailure(batch[k].Case, "generated C# has errors or warnings",
                $"{alone.Count} diagnostics:\n  " + string.Join("\n  ", alone.Take(8).Select(d => d + "  [" + LineOf(trees[k], d) + "]")),
                alone.Select(d => d.Id).Distinct().OrderBy(id => id, StringComparer.Ordinal).ToList()));
        }
    }

    private static string LineOf(SyntaxTree tree, Diagnostic d)
    {
        if (d.Location.SourceTree is null) return "";
        var line = d.Location.GetLineSpan().StartLinePosition.Line;
        var text = tree.GetText().Lines[line].ToString().Trim();
        return text.Length > 160 ? text.Substring(0, 160) + "…" : text;
    }

    /// <summary>An empty compilation whose bound references every batch shares (AddSyntaxTrees reuses them).</summary>
    private static readonly Lazy<CSharpCompilation> Empty = new(() =>
    {
        var empty = CSharpCompilation.Create("Fuzz", null, Gen.References, CompilationOptions);
        _ = empty.GetDiagnostics();
        return empty;
    });

    private List<Diagnostic> Compile(List<SyntaxTree> trees)
    {
        CSharpCharacters += trees.Sum(t => (long)t.Length);
        return Empty.Value.AddSyntaxTrees(trees).GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
    }
}
