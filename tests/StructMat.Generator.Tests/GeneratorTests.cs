using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;
using Xunit.Abstractions;

namespace StructMat.Generator.Tests;

public sealed class GeneratorTests(ITestOutputHelper output)
{
    private const string ProjectDir = "/fake/project/";

    private static readonly string[] Steps = { TrackingNames.Compiled, TrackingNames.Sources, TrackingNames.Diagnostics };

    private static IEnumerable<IncrementalStepRunReason> Reasons(GeneratorDriver driver, string step) =>
        driver.GetRunResult().Results[0].TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason);

    private static Dictionary<string, string> Project(bool dump = false) => new()
    {
        ["build_property.ProjectDir"] = ProjectDir,
        ["build_property.StructMatDump"] = dump ? "true" : "false",
    };

    [Fact]
    public void Unrelated_csharp_edit_reuses_cached_output()
    {
        var input = Gen.Compilation("class A { }");
        var (driver, _, _) = Gen.Run(new[] { new SmxFile(ProjectDir + "layers.smx", "layer L : 8 -> 4 = lowrank(rank: 2);") }, Project(), input);
        Assert.All(Steps, step => Assert.Contains(IncrementalStepRunReason.New, Reasons(driver, step)));

        var edited = input.ReplaceSyntaxTree(input.SyntaxTrees[0], CSharpSyntaxTree.ParseText("class A { int x; }", Gen.ParseOptions))
            .AddSyntaxTrees(CSharpSyntaxTree.ParseText("class B { }", Gen.ParseOptions));
        driver = driver.RunGenerators(edited);

        foreach (var step in Steps)
        {
            var reasons = Reasons(driver, step).ToList();
            Assert.NotEmpty(reasons);
            Assert.All(reasons, r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step}: {r}"));
        }
        var outputs = driver.GetRunResult().Results[0].TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs).ToList();
        Assert.NotEmpty(outputs);
        Assert.All(outputs, o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }

    [Fact]
    public void Smx_edit_regenerates()
    {
        var before = new SmxFile(ProjectDir + "layers.smx", "layer L : 8 -> 4 = lowrank(rank: 2);");
        var (driver, output1, _) = Gen.Run(new[] { before }, Project());
        var source1 = driver.GetRunResult().GeneratedTrees.Single().ToString();

        driver = driver.ReplaceAdditionalText(before, new SmxFile(before.Path, "layer L : 8 -> 4 = lowrank(rank: 3);"));
        driver = driver.RunGenerators(output1);

        Assert.All(new[] { TrackingNames.Compiled, TrackingNames.Sources },
            step => Assert.Contains(IncrementalStepRunReason.Modified, Reasons(driver, step)));
        var sourceOutputs = driver.GetRunResult().Results[0].TrackedOutputSteps.SelectMany(s => s.Value)
            .Where(s => s.Inputs.Any(i => i.Source.Name == TrackingNames.Sources)).SelectMany(s => s.Outputs).ToList();
        Assert.NotEmpty(sourceOutputs);
        Assert.All(sourceOutputs, o => Assert.Equal(IncrementalStepRunReason.Modified, o.Reason));
        var source2 = driver.GetRunResult().GeneratedTrees.Single().ToString();
        Assert.NotEqual(source1, source2);
        Assert.Contains("rank", source2);
    }

    [Fact]
    public void Moving_a_diagnostic_re_reports_it_without_re_emitting_source()
    {
        const string good = "namespace T;\n\nlayer Good : 8 -> 4 = lowrank(rank: 2);\n";
        const string bad = "layer Bad : 64 -> 64 = blockdiag(blocks: 5);\n";
        var before = new SmxFile(ProjectDir + "layers.smx", good + bad);
        var (driver, input, diagnostics1) = Gen.Run(new[] { before }, Project());
        var line1 = Assert.Single(diagnostics1, d => d.Id == "SMX0103").Location.GetLineSpan().StartLinePosition.Line;
        var source1 = driver.GetRunResult().GeneratedTrees.Single().ToString();

        driver = driver.ReplaceAdditionalText(before, new SmxFile(before.Path, good + "// moved down one line\n" + bad));
        driver = driver.RunGeneratorsAndUpdateCompilation(input, out _, out var diagnostics2);

        Assert.Equal(line1 + 1, Assert.Single(diagnostics2, d => d.Id == "SMX0103").Location.GetLineSpan().StartLinePosition.Line);
        Assert.Contains(IncrementalStepRunReason.Modified, Reasons(driver, TrackingNames.Compiled));
        Assert.Contains(IncrementalStepRunReason.Modified, Reasons(driver, TrackingNames.Diagnostics));
        Assert.All(Reasons(driver, TrackingNames.Sources),
            r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"Sources: {r}"));

        // The source output's action did not run again: its step input came from Sources and is cached.
        var sourceOutputs = driver.GetRunResult().Results[0].TrackedOutputSteps.SelectMany(s => s.Value)
            .Where(s => s.Inputs.Any(i => i.Source.Name == TrackingNames.Sources)).ToList();
        Assert.NotEmpty(sourceOutputs);
        Assert.All(sourceOutputs.SelectMany(s => s.Outputs), o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
        Assert.Equal(source1, driver.GetRunResult().GeneratedTrees.Single().ToString());
    }

    [Fact]
    public void Hint_names_are_unique_per_relative_path()
    {
        var files = new[]
        {
            new SmxFile(ProjectDir + "nets/a/layers.smx", "namespace N.A;\nlayer L : 8 -> 4 = dense;"),
            new SmxFile(ProjectDir + "nets/b/layers.smx", "namespace N.B;\nlayer L : 8 -> 4 = dense;"),
        };
        var (driver, output, diagnostics) = Gen.Run(files, Project());
        var result = driver.GetRunResult().Results[0];

        Assert.Null(result.Exception);
        Assert.Empty(diagnostics);
        var hints = result.GeneratedSources.Select(s => s.HintName).ToList();
        Assert.Equal(2, hints.Count);
        Assert.Equal(2, hints.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.All(hints, h => Assert.Contains("layers.smx", h));
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
    }

    [Fact]
    public void Same_file_name_without_project_dir_still_gets_unique_hint_names()
    {
        var files = new[]
        {
            new SmxFile("/elsewhere/a/layers.smx", "namespace N.A;\nlayer L : 8 -> 4 = dense;"),
            new SmxFile("/elsewhere/b/layers.smx", "namespace N.B;\nlayer L : 8 -> 4 = dense;"),
        };
        var (driver, _, diagnostics) = Gen.Run(files);

        Assert.Null(driver.GetRunResult().Results[0].Exception);
        Assert.DoesNotContain(diagnostics, d => d.Id == "CS8785");
        Assert.Equal(2, driver.GetRunResult().Results[0].GeneratedSources.Select(s => s.HintName).Distinct().Count());
    }

    [Fact]
    public void Diagnostics_point_at_the_smx_file_line_and_column()
    {
        const string path = ProjectDir + "nets/bad.smx";
        var lines = new[] { "namespace T;", "", "layer B : 64 -> 64 = blockdiag(blocks: 5);" };
        var (_, _, diagnostics) = Gen.Run(new[] { new SmxFile(path, string.Join("\n", lines)) }, Project());

        var d = Assert.Single(diagnostics);
        Assert.Equal("SMX0103", d.Id);
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Equal("blockdiag: 5 blocks do not divide the input dimension 64", d.GetMessage());
        var span = d.Location.GetLineSpan();
        Assert.Equal(path, span.Path);
        Assert.Equal(2, span.StartLinePosition.Line);
        Assert.Equal(lines[2].IndexOf("blocks: 5", StringComparison.Ordinal), span.StartLinePosition.Character);
        Assert.Equal(2, span.EndLinePosition.Line);
        Assert.Equal(lines[2].IndexOf("blocks: 5", StringComparison.Ordinal) + "blocks: 5".Length, span.EndLinePosition.Character);
    }

    [Fact]
    public void Generated_code_compiles_without_warnings()
    {
        var cases = Path.Combine(Gen.RepoRoot(), "tests", "Cases");
        var files = Directory.GetFiles(cases, "*.smx").OrderBy(f => f, StringComparer.Ordinal)
            .Select(f => new SmxFile(f, File.ReadAllText(f))).ToList();
        Assert.NotEmpty(files);

        var input = Gen.Compilation("class Empty { }").WithOptions(Gen.Compilation().Options.WithWarningLevel(9999));
        var (driver, outputCompilation, generatorDiagnostics) = Gen.Run(files, new Dictionary<string, string>
        {
            ["build_property.ProjectDir"] = Path.GetDirectoryName(cases)! + Path.DirectorySeparatorChar,
        }, input);

        Assert.Null(driver.GetRunResult().Results[0].Exception);
        Assert.Equal(files.Count, driver.GetRunResult().GeneratedTrees.Length);
        var problems = generatorDiagnostics.Concat(outputCompilation.GetDiagnostics())
            .Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        foreach (var d in problems) output.WriteLine(d.ToString());
        Assert.True(problems.Count == 0, $"{problems.Count} problems:\n" + string.Join("\n", problems.Take(30)));
    }

    // Deep and long expressions once overflowed the stack and killed the process; the compiler now runs on
    // its own large-stack thread and refuses more than 200 levels of nesting (SMX0004) or 1,000 operators (SMX0005).
    public static TheoryData<string, string, bool> HostileInputs()
    {
        var random = new Random(20240607);
        var bytes = new byte[64 * 1024];
        random.NextBytes(bytes);
        var layerTokens = new StringBuilder(1 << 20);
        while (layerTokens.Length < 1 << 20) layerTokens.Append("layer ");
        return new TheoryData<string, string, bool>
        {
            { "random bytes", Encoding.UTF8.GetString(bytes), false },
            { "random bytes as Latin-1", Encoding.Latin1.GetString(bytes), false },
            { "empty", "", false },
            { "only whitespace and a BOM", "\uFEFF  \n\t\r\n", false },
            { "1 MB of layer tokens", layerTokens.ToString(), false },
            { "5,000 '(' at top level", new string('(', 5000), false },
            { "150 nested parentheses in a layer", "layer L : 8 -> 8 = " + new string('(', 150) + "dense" + new string(')', 150) + ";", true },
            { "5,000 nested parentheses in a layer", "layer L : 8 -> 8 = " + new string('(', 5000) + "dense" + new string(')', 5000) + ";", false },
            { "5,000 unary minuses", "layer L : 8 -> 8 = " + new string('-', 5000) + "dense;", false },
            { "a 5,000-term sum", "layer L : 8 -> 8 = dense" + string.Concat(Enumerable.Repeat(" + dense", 5000)) + ";", false },
            { "a 900-term product", "layer L : 8 -> 8 = dense" + string.Concat(Enumerable.Repeat(" * dense(8 -> 8)", 900)) + ";", true },
            { "500 unclosed parentheses in a layer", "layer L : 8 -> 8 = " + new string('(', 500), false },
            { "unterminated everything", "namespace ; layer X : 8 -> = dense(blocks: (((\"\n/* never closed", false },
            { "NUL characters", "layer L\0 : 8 -> 4 = dense;\0\0", false },
            { "huge numbers", "layer L : 99999999999999999999999 -> 4 = blockdiag(blocks: 340282366920938463463374607431768211456);", false },
            { "zero and negative dims", "layer L : 0 -> -4 = lowrank(rank: 0) + -1e400 * dense;", false },
            { "C# keyword names", "namespace class.int;\nlayer void : 4 -> 4 = dense;", false },
        };
    }

    [Theory]
    [MemberData(nameof(HostileInputs))]
    public void Generator_never_throws_on_hostile_input(string name, string text, bool valid)
    {
        var (driver, _, diagnostics) = Gen.Run(new[] { new SmxFile(ProjectDir + "hostile.smx", text) }, Project());

        var result = driver.GetRunResult().Results[0];
        foreach (var d in diagnostics.Take(5)) output.WriteLine(d.ToString());
        Assert.True(result.Exception is null, $"{name}: {result.Exception}");
        Assert.DoesNotContain(diagnostics, d => d.Id == "CS8785");
        Assert.All(diagnostics, d => Assert.StartsWith("SMX", d.Id));
        if (valid) Assert.Single(result.GeneratedSources);
        else if (text.Trim('\uFEFF', ' ', '\n', '\t', '\r').Length > 0) Assert.Contains(diagnostics, d => d.Severity == DiagnosticSeverity.Error);
    }

    [Fact]
    public void Characters_outside_the_BMP_are_unexpected_characters_not_internal_errors()
    {
        var text = "layer L : 4 -> 4 = dense; \U0001F600";
        var (driver, _, diagnostics) = Gen.Run(new[] { new SmxFile(ProjectDir + "emoji.smx", text) }, Project());

        var d = Assert.Single(diagnostics);
        Assert.Equal("SMX0002", d.Id);
        Assert.Equal(text.IndexOf('\uD83D'), d.Location.GetLineSpan().StartLinePosition.Character);
        Assert.Single(driver.GetRunResult().Results[0].GeneratedSources);
    }

    [Fact]
    public void Dump_switch_adds_stage_dump_source()
    {
        var file = new SmxFile(ProjectDir + "layers.smx", "layer L : 8 -> 4 = lowrank(rank: 2) + bias;");

        var with = Gen.Run(new[] { file }, Project(dump: true)).Driver.GetRunResult().Results[0].GeneratedSources;
        var dump = Assert.Single(with, s => s.HintName.EndsWith(".dump.g.cs", StringComparison.Ordinal)).SourceText.ToString();
        Assert.Contains("=== ast ===", dump);
        Assert.Contains("=== L: ", dump);
        Assert.All(dump.Split('\n').Where(l => l.Length > 0), l => Assert.StartsWith("//", l));
        Assert.Equal(2, with.Length);

        var without = Gen.Run(new[] { file }, Project(dump: false)).Driver.GetRunResult().Results[0].GeneratedSources;
        Assert.DoesNotContain(without, s => s.HintName.EndsWith(".dump.g.cs", StringComparison.Ordinal));
        Assert.Single(without);
    }
}
