using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using StructMat.Compiler;
using Xunit;

namespace StructMat.Generator.Tests;

/// <summary>Tests that change process-wide culture defaults run alone.</summary>
[CollectionDefinition(nameof(ProcessCulture), DisableParallelization = true)]
public sealed class ProcessCulture
{
}

/// <summary>Incremental behaviour under option changes and sibling edits, and culture independence of the output.</summary>
[Collection(nameof(ProcessCulture))]
public sealed class IncrementalAndCultureTests
{
    private const string ProjectDir = "/fake/project/";

    private static Dictionary<string, string> Project(bool dump) => new()
    {
        ["build_property.ProjectDir"] = ProjectDir,
        ["build_property.StructMatDump"] = dump ? "true" : "false",
    };

    private static IReadOnlyList<IncrementalStepRunReason> Reasons(GeneratorDriver driver, string step) =>
        driver.GetRunResult().Results[0].TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();

    private static bool IsDump(GeneratedSourceResult s) => s.HintName.EndsWith(".dump.g.cs", StringComparison.Ordinal);

    [Fact]
    public void Option_change_regenerates_with_dumps()
    {
        var file = new SmxFile(ProjectDir + "layers.smx", "namespace O;\nlayer L : 8 -> 4 = lowrank(rank: 2) + bias;");
        var input = Gen.Compilation("class A { }");
        var driver = Gen.Driver(new[] { file }, Project(dump: false)).RunGenerators(input);
        var first = driver.GetRunResult().Results[0].GeneratedSources;
        var code = Assert.Single(first);
        Assert.False(IsDump(code));

        // Flip the option, same .smx text and same C#: the compile step re-runs and the dump source appears.
        driver = driver.WithUpdatedAnalyzerConfigOptions(new BuildProperties(Project(dump: true))).RunGenerators(input);
        Assert.Contains(IncrementalStepRunReason.Modified, Reasons(driver, TrackingNames.Compiled));
        var withDump = driver.GetRunResult().Results[0].GeneratedSources;
        Assert.Equal(2, withDump.Length);
        var dump = Assert.Single(withDump, IsDump);
        Assert.Equal(code.HintName.Replace(".g.cs", ".dump.g.cs", StringComparison.Ordinal), dump.HintName);
        Assert.Contains("=== ast ===", dump.SourceText.ToString());
        Assert.Equal(code.SourceText.ToString(), Assert.Single(withDump, s => !IsDump(s)).SourceText.ToString());

        // Running again with nothing changed re-runs nothing.
        driver = driver.RunGenerators(input);
        Assert.All(Reasons(driver, TrackingNames.Compiled), r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, r.ToString()));
        Assert.Equal(2, driver.GetRunResult().Results[0].GeneratedSources.Length);

        // Flip back: the dump source goes away, the code is unchanged.
        driver = driver.WithUpdatedAnalyzerConfigOptions(new BuildProperties(Project(dump: false))).RunGenerators(input);
        Assert.Contains(IncrementalStepRunReason.Modified, Reasons(driver, TrackingNames.Compiled));
        var back = driver.GetRunResult().Results[0].GeneratedSources;
        Assert.DoesNotContain(back, IsDump);
        Assert.Equal(code.SourceText.ToString(), Assert.Single(back).SourceText.ToString());
    }

    [Fact]
    public void Two_files_with_the_same_name_in_different_folders_both_generate()
    {
        var a = new SmxFile(ProjectDir + "nets/a/layers.smx", "namespace N.A;\nlayer L : 8 -> 4 = dense;");
        var b = new SmxFile(ProjectDir + "nets/b/layers.smx", "namespace N.B;\nlayer L : 8 -> 4 = dense;");
        var input = Gen.Compilation("class Empty { }");
        var (driver, output, diagnostics) = Gen.Run(new[] { a, b }, Project(dump: false), input);
        Assert.Empty(diagnostics);
        var sources = driver.GetRunResult().Results[0].GeneratedSources;
        Assert.Equal(new[] { "nets.a.layers.smx.g.cs", "nets.b.layers.smx.g.cs" }, sources.Select(s => s.HintName).OrderBy(h => h, StringComparer.Ordinal));
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
        var bSource = sources.Single(s => s.HintName.StartsWith("nets.b", StringComparison.Ordinal)).SourceText.ToString();

        // Edit a only: a's compile step is Modified, b's stays Cached, and both files are still generated.
        driver = driver.ReplaceAdditionalText(a, new SmxFile(a.Path, "namespace N.A;\nlayer L : 8 -> 4 = lowrank(rank: 2);"));
        driver = driver.RunGeneratorsAndUpdateCompilation(input, out var output2, out var diagnostics2);
        Assert.Empty(diagnostics2);

        var steps = driver.GetRunResult().Results[0].TrackedSteps[TrackingNames.Compiled];
        var byPath = steps.SelectMany(s => s.Outputs)
            .Select(o => (Path: (string?)o.Value.GetType().GetProperty("Path")!.GetValue(o.Value), o.Reason)).ToList();
        Assert.Equal(2, byPath.Count);
        Assert.Equal(IncrementalStepRunReason.Modified, byPath.Single(x => x.Path == a.Path).Reason);
        Assert.Equal(IncrementalStepRunReason.Cached, byPath.Single(x => x.Path == b.Path).Reason);

        var after = driver.GetRunResult().Results[0].GeneratedSources;
        Assert.Equal(2, after.Length);
        Assert.Contains("lora", after.Single(s => s.HintName.StartsWith("nets.a", StringComparison.Ordinal)).SourceText.ToString(), StringComparison.Ordinal);
        Assert.Equal(bSource, after.Single(s => s.HintName.StartsWith("nets.b", StringComparison.Ordinal)).SourceText.ToString());
        Assert.Empty(output2.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
    }

    [Fact]
    public void Generated_code_is_byte_identical_across_cultures()
    {
        var cases = Directory.GetFiles(Path.Combine(Gen.RepoRoot(), "tests", "Cases"), "*.smx").OrderBy(f => f, StringComparer.Ordinal).ToList();
        Assert.NotEmpty(cases);
        var cultures = new[] { CultureInfo.InvariantCulture, new CultureInfo("de-DE"), new CultureInfo("fi-FI"), new CultureInfo("ar-SA") };
        // The cultures must really differ from invariant where it matters (decimal comma, minus sign, digits), or the test shows nothing.
        Assert.Equal("0,5", 0.5.ToString(cultures[1]));
        Assert.NotEqual("-1", (-1).ToString(cultures[2]));

        var thread = Thread.CurrentThread;
        var (savedCulture, savedUi) = (thread.CurrentCulture, thread.CurrentUICulture);
        var (savedDefault, savedDefaultUi) = (CultureInfo.DefaultThreadCurrentCulture, CultureInfo.DefaultThreadCurrentUICulture);
        var outputs = new List<string[]>();
        try
        {
            foreach (var culture in cultures)
            {
                (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture) = (culture, culture);
                // SmxCompiler.Compile runs on its own thread, which inherits the default culture, not the caller's:
                // set the process default too, so the compile thread sees the culture under test.
                (CultureInfo.DefaultThreadCurrentCulture, CultureInfo.DefaultThreadCurrentUICulture) = (culture, culture);
                outputs.Add(cases.Select(path =>
                {
                    var result = SmxCompiler.Compile(File.ReadAllText(path), "Cases/" + Path.GetFileName(path), dump: true);
                    Assert.False(result.HasErrors, path);
                    return result.Source + "\u0000" + result.Dump + "\u0000" + string.Join("\n", result.Diagnostics.Select(d => d.ToString()));
                }).ToArray());
            }
        }
        finally
        {
            (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture) = (savedCulture, savedUi);
            (CultureInfo.DefaultThreadCurrentCulture, CultureInfo.DefaultThreadCurrentUICulture) = (savedDefault, savedDefaultUi);
        }
        Assert.Equal(savedDefault, CultureInfo.DefaultThreadCurrentCulture);
        Assert.Equal(savedCulture, CultureInfo.CurrentCulture);
        Assert.Equal(savedUi, CultureInfo.CurrentUICulture);

        for (var c = 1; c < cultures.Length; c++)
        {
            for (var k = 0; k < cases.Count; k++)
            {
                Assert.True(System.Text.Encoding.UTF8.GetBytes(outputs[0][k]).AsSpan().SequenceEqual(System.Text.Encoding.UTF8.GetBytes(outputs[c][k])),
                    $"{Path.GetFileName(cases[k])} differs under {cultures[c].Name} from invariant");
            }
        }
        // And the invariant output is the committed golden file (its long GPU kernel bodies named by class).
        var sources = cases.Select((path, k) => (Name: Path.GetFileNameWithoutExtension(path), Source: outputs[0][k].Split('\u0000')[0])).ToList();
        foreach (var (name, source) in sources)
        {
            var verified = Path.Combine(Path.GetDirectoryName(cases[0])!, name + ".verified.cs");
            Assert.Equal(File.ReadAllText(verified).ReplaceLineEndings("\n"), StructMat.Compiler.Tests.GoldenView.CaseCode(name, source).ReplaceLineEndings("\n"));
        }
    }
}
