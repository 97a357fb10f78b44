using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Xunit;

namespace StructMat.Generator.Tests;

/// <summary>Layer names are checked across .smx files, which each compile on their own.</summary>
public class DuplicateLayerTests
{
    private const string ProjectDir = "/fake/project/";

    [Fact]
    public void A_layer_declared_in_two_files_of_one_namespace_is_SMX0102_at_the_second()
    {
        var a = new SmxFile(ProjectDir + "a.smx", "namespace N;\nlayer Shared : 4 -> 4 = dense;");
        var b = new SmxFile(ProjectDir + "b.smx", "namespace N;\n\nlayer Shared : 4 -> 4 = lowrank(rank: 1);\nlayer Other : 4 -> 4 = dense;");
        var (_, _, diagnostics) = Gen.Run(new[] { b, a }, new Dictionary<string, string> { ["build_property.ProjectDir"] = ProjectDir });

        var smx = diagnostics.Where(d => d.Id.StartsWith("SMX")).ToList();
        var d = Assert.Single(smx);
        Assert.Equal("SMX0102", d.Id);
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Equal("'Shared' is already declared in namespace N by a.smx", d.GetMessage());
        var span = d.Location.GetLineSpan();
        Assert.Equal(ProjectDir + "b.smx", span.Path);
        Assert.Equal((2, 6), (span.StartLinePosition.Line, span.StartLinePosition.Character));
    }

    [Fact]
    public void A_duplicate_layer_generates_no_code_so_SMX0102_is_the_only_error()
    {
        // Before, the second Shared was generated too and 28–58 C# errors (CS0101, CS0111 …) buried the SMX0102.
        var a = new SmxFile(ProjectDir + "a.smx", "namespace N;\nlayer Shared : 4 -> 4 = dense;");
        var b = new SmxFile(ProjectDir + "b.smx", "namespace N;\nlayer Shared : 4 -> 4 = monarch(blocks: 2) + bias;\nlayer Other : 4 -> 4 = dense;");
        var (driver, output, diagnostics) = Gen.Run(new[] { a, b }, new Dictionary<string, string> { ["build_property.ProjectDir"] = ProjectDir });

        Assert.Equal("SMX0102", Assert.Single(diagnostics).Id);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
        var sources = driver.GetRunResult().Results[0].GeneratedSources.ToDictionary(s => s.HintName.Substring(0, 1), s => s.SourceText.ToString());
        Assert.Contains("class Shared", sources["a"]);
        Assert.DoesNotContain("class Shared", sources["b"]);
        Assert.Contains("class Other", sources["b"]);
    }

    [Fact]
    public void A_file_whose_only_layer_is_a_duplicate_adds_no_source()
    {
        var a = new SmxFile(ProjectDir + "a.smx", "namespace N;\nlayer Shared : 4 -> 4 = dense;");
        var b = new SmxFile(ProjectDir + "b.smx", "namespace N;\nlayer Shared : 4 -> 4 = dense;");
        var (driver, output, diagnostics) = Gen.Run(new[] { a, b }, new Dictionary<string, string> { ["build_property.ProjectDir"] = ProjectDir });
        Assert.Equal("SMX0102", Assert.Single(diagnostics).Id);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
        Assert.StartsWith("a.smx", Assert.Single(driver.GetRunResult().Results[0].GeneratedSources).HintName);
    }

    [Fact]
    public void The_same_layer_name_in_different_namespaces_is_fine()
    {
        var a = new SmxFile(ProjectDir + "a.smx", "namespace N1;\nlayer Shared : 4 -> 4 = dense;");
        var b = new SmxFile(ProjectDir + "b.smx", "namespace N2;\nlayer Shared : 4 -> 4 = dense;");
        var (_, _, diagnostics) = Gen.Run(new[] { a, b }, new Dictionary<string, string> { ["build_property.ProjectDir"] = ProjectDir });
        Assert.DoesNotContain(diagnostics, d => d.Id.StartsWith("SMX"));
    }
}
