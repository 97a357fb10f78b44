using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using StructMat.Compiler;
using Xunit;
using Xunit.Abstractions;
using SmxDiagnostic = StructMat.Compiler.Diagnostics.Diagnostic;
using SourceSpan = StructMat.Compiler.Diagnostics.SourceSpan;

namespace StructMat.Generator.Tests.Fuzzing;

/// <summary>
/// Property-based fuzzing of <see cref="StructMat.Compiler.SmxCompiler"/> (see tests/fuzz-regressions/README.md).
/// CI runs <see cref="DefaultCases"/> cases of <see cref="DefaultSeed"/>; <c>STRUCTMAT_FUZZ_CASES</c>,
/// <c>STRUCTMAT_FUZZ_SEED</c> and <c>STRUCTMAT_FUZZ_MINUTES</c> select a long local run. Every input that fails a
/// property is written to tests/fuzz-regressions/ and replayed by <see cref="Regression_inputs_keep_the_properties"/>.
/// </summary>
public sealed class FuzzTests(ITestOutputHelper output)
{
    public const int DefaultCases = 2000;
    public const int DefaultSeed = 20240607;
    private const int Chunk = 250;

    private static string RegressionDir => Path.Combine(Gen.RepoRoot(), "tests", "fuzz-regressions");

    internal static IReadOnlyList<string> Corpus() =>
        Directory.GetFiles(Path.Combine(Gen.RepoRoot(), "tests", "Cases"), "*.smx").OrderBy(f => f, StringComparer.Ordinal)
            .Select(File.ReadAllText).ToList();

    private static int EnvInt(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : fallback;

    [Fact]
    public void Compiler_properties_hold_on_fuzzed_inputs()
    {
        var cases = EnvInt("STRUCTMAT_FUZZ_CASES", DefaultCases);
        var seed = EnvInt("STRUCTMAT_FUZZ_SEED", DefaultSeed);
        var minutes = EnvInt("STRUCTMAT_FUZZ_MINUTES", 0);
        var first = EnvInt("STRUCTMAT_FUZZ_FIRST", 0);   // replay a slice of a long run: cases first … cases - 1
        Assert.True(cases > 0, "STRUCTMAT_FUZZ_CASES must be positive");

        var fuzzer = new SmxFuzzer(seed, Corpus(), cases);
        var checker = new FuzzChecker();
        var clock = Stopwatch.StartNew();
        var strategies = new Dictionary<string, int>(StringComparer.Ordinal);
        var known = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var unknown = new List<FuzzFailure>();
        for (var start = first; start < cases; start += Chunk)
        {
            if (minutes > 0 && clock.Elapsed.TotalMinutes >= minutes) break;
            var chunk = Enumerable.Range(start, Math.Min(Chunk, cases - start)).Select(fuzzer.Generate).ToList();
            foreach (var c in chunk) strategies[c.Strategy] = strategies.GetValueOrDefault(c.Strategy) + 1;
            var before = checker.Failures.Count;
            checker.CheckAll(chunk);
            foreach (var failure in checker.Failures.Skip(before))
            {
                if (KnownBugs.Classify(failure) is { } bug) known[bug] = known.GetValueOrDefault(bug) + 1;
                else
                {
                    unknown.Add(failure);
                    Save(failure, seed);
                }
            }
            if (minutes > 0 || cases - first > DefaultCases)
            {
                Console.Error.WriteLine($"[fuzz] {clock.Elapsed:mm\\:ss} {checker.Cases} cases, {unknown.Count} new failures, {known.Values.Sum()} known-bug failures");
            }
        }

        var summary =
            $"seed {seed}: {checker.Cases} cases ({string.Join(", ", strategies.OrderBy(s => s.Key).Select(s => $"{s.Value} {s.Key}"))}), " +
            $"{checker.Characters:N0} chars; {checker.WithCode} produced code, {checker.WithErrors} had errors, " +
            $"{checker.CompiledWithCSharp} compiled as C# ({checker.CSharpCharacters / 1e6:F1} M chars; SMX {checker.SmxTime.TotalSeconds:F1} s, C# {checker.CSharpTime.TotalSeconds:F1} s); {unknown.Count} property failures, plus {known.Values.Sum()} explained by known bugs " +
            $"({string.Join(", ", known.Select(k => $"{k.Value} {k.Key}"))}); {clock.Elapsed.TotalSeconds:F1} s";
        output.WriteLine(summary);
        Console.Error.WriteLine("[fuzz] " + summary);
        foreach (var f in unknown.Take(50)) output.WriteLine(f.ToString());

        // The bugs KnownBugs recognises are fixed: a failure they explain is a regression now, and fails like any other.
        Assert.True(unknown.Count == 0 && known.Count == 0,
            summary + "\nFailures (inputs saved under tests/fuzz-regressions/; commit them):\n" +
            string.Join("\n", unknown.Take(20).Select(f => f.ToString())));
        // The generator must keep producing both valid programs and errors, or the properties test little.
        Assert.True(checker.Cases > 0, summary);
        Assert.True(checker.CompiledWithCSharp * 5 >= checker.Cases, summary + "\nfewer than 20 % of the inputs reached the C# compiler");
        Assert.True(checker.WithErrors * 5 >= checker.Cases, summary + "\nfewer than 20 % of the inputs had errors");
    }

    /// <summary>Writes a failing input to the regression folder (once per distinct text).</summary>
    private void Save(FuzzFailure failure, int seed)
    {
        try
        {
            Directory.CreateDirectory(RegressionDir);
            var name = $"{failure.Case.Strategy}-s{seed}-i{failure.Case.Index}";
            output.WriteLine("saved " + WriteInput(Path.Combine(RegressionDir, name), failure.Case.Text));
        }
        catch (IOException e)
        {
            output.WriteLine("could not save the failing input: " + e.Message);
        }
    }

    public static TheoryData<string> RegressionInputs()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.GetFiles(RegressionDir).Where(p => p.EndsWith(".smx", StringComparison.Ordinal) || p.EndsWith(".smx16", StringComparison.Ordinal))
                     .OrderBy(p => p, StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(path));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(RegressionInputs))]
    public void Regression_inputs_keep_the_properties(string file)
    {
        // Failures wholly explained by a known, skipped bug (KnownBugs) are tolerated here; anything else fails.
        var failures = Replay(file);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>Replays known-bugs/&lt;bug&gt;*.smx: bugs the fuzzer found, now fixed; each input must pass every property.</summary>
    private static void AssertKnownBugFixed(string bug)
    {
        var files = Directory.GetFiles(Path.Combine(RegressionDir, "known-bugs"), bug + "*.smx").OrderBy(f => f, StringComparer.Ordinal).ToList();
        Assert.NotEmpty(files);
        var failures = files.SelectMany(f => Replay(Path.Combine("known-bugs", Path.GetFileName(f)))).ToList();
        Assert.True(failures.Count == 0, KnownBugs.Reasons[bug] + "\n" + string.Join("\n", failures));
    }

    [Fact]
    public void Fixed_infinite_scale_is_a_diagnostic_not_Infinity_in_code() => AssertKnownBugFixed(KnownBugs.NonFiniteScale);

    [Fact]
    public void Fixed_names_clashing_with_generated_code_are_diagnostics() => AssertKnownBugFixed(KnownBugs.NameCollision);

    [Fact]
    public void Fixed_lowercase_layer_name_compiles_without_CS8981() => AssertKnownBugFixed(KnownBugs.LowercaseName);

    [Fact]
    public void Fixed_layer_without_parameters_compiles() => AssertKnownBugFixed(KnownBugs.NoParameters);

    [Fact]
    public void Fixed_doc_comment_with_line_separator_stays_a_comment() => AssertKnownBugFixed(KnownBugs.DocLineSeparator);

    [Fact]
    public void Fixed_contextual_keyword_layer_name_is_a_diagnostic() => AssertKnownBugFixed(KnownBugs.ContextualKeyword);

    [Fact]
    public void Fixed_broken_kron_arguments_are_not_an_internal_error() => AssertKnownBugFixed(KnownBugs.NullReference);

    /// <summary>Replays one regression input through every property; returns the failures.</summary>
    internal static List<FuzzFailure> Replay(string file)
    {
        var text = ReadInput(Path.Combine(RegressionDir, file));
        var checker = new FuzzChecker();
        checker.Check(new FuzzCase(0, "regression:" + file, text));
        return checker.Failures;
    }

    /// <summary>
    /// Saves an input exactly: as UTF-8 <c>.smx</c> when UTF-8 holds it, otherwise (a lone surrogate, which UTF-8
    /// cannot encode) as raw UTF-16LE code units in <c>.smx16</c>. Returns the path.
    /// </summary>
    internal static string WriteInput(string pathWithoutExtension, string text)
    {
        var utf8 = new UTF8Encoding(false, throwOnInvalidBytes: true);
        try
        {
            var bytes = utf8.GetBytes(text);
            var path = pathWithoutExtension + ".smx";
            if (!File.Exists(path)) File.WriteAllBytes(path, bytes);
            return path;
        }
        catch (EncoderFallbackException)
        {
            var path = pathWithoutExtension + ".smx16";
            if (!File.Exists(path)) File.WriteAllBytes(path, System.Runtime.InteropServices.MemoryMarshal.AsBytes(text.AsSpan()).ToArray());
            return path;
        }
    }

    internal static string ReadInput(string path) => path.EndsWith(".smx16", StringComparison.Ordinal)
        ? new string(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, char>(File.ReadAllBytes(path)))
        : new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(File.ReadAllBytes(path));

    [Fact]
    public void Inputs_are_saved_and_read_back_exactly()
    {
        var dir = Path.Combine(Path.GetTempPath(), "smx-fuzz-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            foreach (var text in new[] { "layer L : 4 -> 4 = dense;\0\u200F\U0001F600", "lone \uD83D surrogate\r\n", "" })
            {
                var path = WriteInput(Path.Combine(dir, "x" + text.Length), text);
                Assert.Equal(text, ReadInput(path));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Fuzzer_is_deterministic_and_mixes_its_strategies()
    {
        var corpus = Corpus();
        var a = new SmxFuzzer(7, corpus, 500);
        var b = new SmxFuzzer(7, corpus, 500);
        var cases = Enumerable.Range(0, 500).Select(a.Generate).ToList();
        Assert.Equal(cases.Select(c => c.Text), Enumerable.Range(0, 500).Select(b.Generate).Select(c => c.Text));
        Assert.Equal(cases[123].Text, new SmxFuzzer(7, corpus, 500).Generate(123).Text);
        Assert.NotEqual(cases.Select(c => c.Text), Enumerable.Range(0, 500).Select(new SmxFuzzer(8, corpus, 500).Generate).Select(c => c.Text));
        var strategies = cases.Select(c => c.Strategy).ToHashSet();
        foreach (var s in new[] { "grammar", "mutated-grammar", "mutated-corpus", "token-soup", "stress", "giant" }) Assert.Contains(s, strategies);
        var all = string.Concat(cases.Where(c => c.Strategy != "giant").Select(c => c.Text));
        foreach (var word in new[] { "lowrank(", "blockdiag(", "monarch(", "butterfly(", "blocksparse(", "kron(", "householder(", "btt(",
                     "diag(", "perm(", "frozen", "bias", "->", "const", "seed:", "reverse", "bitreversal", "shuffle", "random" })
        {
            Assert.Contains(word, all);
        }
        Assert.Contains(cases, c => c.Strategy == "giant" && c.Text.Length >= 10 * 1024 * 1024);
    }

    [Fact]
    public void Checker_detects_broken_spans_and_bad_code()
    {
        // The property checks themselves must be able to fail: a span computed from the wrong line, and C# with a warning.
        var lines = FuzzChecker.LineStarts("ab\ncd\n\nef");
        Assert.Equal((0, 0), FuzzChecker.Position(lines, 0));
        Assert.Equal((1, 1), FuzzChecker.Position(lines, 4));
        Assert.Equal((2, 0), FuzzChecker.Position(lines, 6));
        Assert.Equal((3, 2), FuzzChecker.Position(lines, 9));
        Assert.True(FuzzChecker.DeclaresLayer("const x = 1; layer L : 1 -> 1 = dense;"));
        Assert.False(FuzzChecker.DeclaresLayer("// layer\n/* layer */ const layers = 1;"));

        // Spans: a wrong line, a span past the end, an uncatalogued id, an internal error, and "no code, no diagnostic".
        SmxDiagnostic At(string id, SourceSpan span) => new(id, "m", StructMat.Compiler.Diagnostics.Severity.Error, span);
        var fuzzCase = new FuzzCase(0, "test", "ab\ncdef\n");
        var result = new StructMat.Compiler.CompilationResult(null, new[]
        {
            At("SMX0103", new SourceSpan(3, 2, 1, 0, 1, 2)),   // right
            At("SMX0103", new SourceSpan(4, 2, 0, 4, 0, 6)),   // offset 4 is line 1, column 1
            At("SMX0104", new SourceSpan(8, 2, 1, 5, 1, 7)),   // ends past the text
            At("SMX0104", new SourceSpan(3, 2, 1, 0, 1, 3)),   // end column off by one
            At("SMX9999", new SourceSpan(0, 0, 0, 0, 0, 0)),
            At("SMX0901", new SourceSpan(0, 0, 0, 0, 0, 0)),
        }.ToEquatableArray(), null);
        var failures = FuzzChecker.CheckResult(fuzzCase, result);
        Assert.Equal(new[]
        {
            "span line/column inconsistent with its offsets", "span outside the text", "span line/column inconsistent with its offsets",
            "uncatalogued diagnostic id", "internal compiler error",
        }, failures.Select(f => f.Property));
        Assert.Equal("no code and no diagnostic", Assert.Single(FuzzChecker.CheckResult(new FuzzCase(0, "t", "layer L : 4 -> 4 = dense;"),
            new StructMat.Compiler.CompilationResult(null, default, null))).Property);
        Assert.Empty(FuzzChecker.CheckResult(new FuzzCase(0, "t", "// nothing here\n"), new StructMat.Compiler.CompilationResult(null, default, null)));

        var checker = new FuzzChecker();
        var source = StructMat.Compiler.SmxCompiler.Compile("namespace W;\nlayer L : 4 -> 4 = dense;", "w.smx").Source!;
        var broken = source + "\npublic static class Unused { public static void M() { int x = 0; } }\n";
        checker.AddSource(new FuzzCase(1, "test", ""), broken);
        checker.Flush();
        var failure = Assert.Single(checker.Failures);
        Assert.Contains("CS0219", failure.Detail);
    }
}
