using System;
using System.IO;
using System.Linq;
using System.Xml.Linq;
using StructMat.Cli.Tests.Infrastructure;
using Xunit;

namespace StructMat.Cli.Tests;

public class ExplainTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    [Fact]
    public void Explain_reports_counts_worked_out_by_hand()
    {
        // monarch(blocks: 4) on 16 -> 16: two [4, 4, 4] block-diagonal factors = 128 weights and 128 multiply-adds
        // per row, plus a 16-bias; dense: 256 weights (+ 16) and 256 multiply-adds. The transpose between the factors
        // is a 16-float intermediate.
        var result = Smx.Run("explain", Path.Combine(Repo.Cases, "monarch.smx"), "--layer", "MonarchSquare");

        Assert.True(result.ExitCode == ExitCodes.Ok, result.Describe());
        var lines = result.Out.Split('\n');
        Assert.Contains(lines, l => l.Contains("│ parameters ") && l.Contains("144 (144 trainable)") && l.Contains("272") && l.Contains("52.94 %"));
        Assert.Contains(lines, l => l.Contains("│ forward multiply-adds ") && l.Contains("128") && l.Contains("256") && l.Contains("50 %"));
        Assert.Contains(lines, l => l.Contains("│ blkdiag1 ") && l.Contains("[4, 4, 4]") && l.Contains("64") && l.Contains("trainable") && l.Contains("MuP"));
        Assert.Contains(lines, l => l.Contains("│ bias ") && l.Contains("[16]") && l.Contains("Zero"));
        Assert.Contains(lines, l => l.Contains("│ monarch 16 -> 16") && l.Contains("│ monarch "));
        Assert.DoesNotContain("MonarchUp", result.Out);
    }

    [Fact]
    public void Explain_prints_the_explanation_the_generated_class_carries()
    {
        var path = Path.Combine(Repo.Cases, "compositions.smx");
        var source = StructMat.Compiler.SmxCompiler.Compile(File.ReadAllText(path), "compositions.smx").Source!;
        // The comment block at the top of the generated file, for the Lora layer.
        var header = source.Split('\n').SkipWhile(l => !l.StartsWith("// Lora : ")).TakeWhile(l => l != "// ").Select(l => l[3..]).ToList();
        Assert.NotEmpty(header);

        var result = Smx.Run("explain", path, "--layer", "Lora");

        var printed = result.Out.Split('\n').SkipWhile(l => l != "Structure").Skip(1).TakeWhile(l => l.Length > 0).Select(l => l[2..]).ToList();
        Assert.Equal(header, printed);
        Assert.Contains(result.Out.Split('\n'), l => l.Contains("terms.0.weight") && l.Contains("frozen"));
    }

    [Fact]
    public void Explain_shows_the_shape_of_every_node()
    {
        var result = Smx.Run("explain", Path.Combine(Repo.Cases, "compositions.smx"), "--layer", "Chain");

        // dense * lowrank(12 -> 6, rank: 2) on 12 -> 8: the product 12 -> 8, dense 6 -> 8, lowrank 12 -> 6.
        var rows = result.Out.Split('\n').Where(l => l.StartsWith('│')).Select(l => l.Split('│', StringSplitOptions.TrimEntries)).ToList();
        Assert.Contains(rows, r => r[2] == "product" && r[3] == "12" && r[4] == "8");
        Assert.Contains(rows, r => r[2] == "dense" && r[3] == "6" && r[4] == "8");
        Assert.Contains(rows, r => r[2] == "lowrank" && r[3] == "12" && r[4] == "6");
    }

    [Fact]
    public void An_unknown_layer_is_a_usage_error_naming_the_layers()
    {
        var result = Smx.Run("explain", Path.Combine(Repo.Cases, "monarch.smx"), "--layer", "Nope");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("no layer 'Nope'; it declares MonarchSquare, MonarchTwoBlocks, MonarchUp, MonarchDown", result.Error);
    }

    [Fact]
    public void A_file_with_errors_exits_1_with_its_diagnostics()
    {
        var path = Path.Combine(Repo.Mistakes, "30-rank-too-large.smx");
        var result = Smx.Run("explain", path);

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Contains(path + "(3,28): error SMX0104", result.Error);
        Assert.Empty(result.Out);
    }

    [Fact]
    public void Svg_of_a_blockdiag_draws_exactly_the_diagonal_blocks()
    {
        using var temp = new TempFolder("svg");
        var smx = temp.Write("blocks.smx", "namespace Pictures;\nlayer Blocks : 16 -> 12 = blockdiag(blocks: 4);\n");
        var svg = temp.Combine("blocks.svg");

        var result = Smx.Run("explain", smx, "--svg", svg);

        Assert.True(result.ExitCode == ExitCodes.Ok, result.Describe());
        var document = XDocument.Load(svg);
        Assert.Equal(Svg + "svg", document.Root!.Name);
        var cells = document.Descendants(Svg + "rect").Where(r => (string?)r.Attribute("class") == "nz")
            .Select(r => (Row: (int)r.Attribute("data-row")!, Col: (int)r.Attribute("data-col")!)).ToHashSet();
        // 4 blocks of 3x4: entry (i, j) is nonzero exactly when i / 3 == j / 4 (the parameters are drawn at random).
        var expected = (from i in Enumerable.Range(0, 12) from j in Enumerable.Range(0, 16) where i / 3 == j / 4 select (i, j)).ToHashSet();
        Assert.Equal(expected, cells);
        var factor = Assert.Single(document.Descendants(Svg + "rect"), r => (string?)r.Attribute("class") == "factor");
        Assert.Equal("blockdiag", (string?)factor.Attribute("data-kind"));
    }

    [Fact]
    public void Svg_of_a_lora_shows_the_adapter_s_support_and_every_factor()
    {
        using var temp = new TempFolder("svg-lora");
        var svg = temp.Combine("lora.svg");

        var result = Smx.Run("explain", Path.Combine(Repo.Cases, "compositions.smx"), "--layer", "Lora", "--svg", svg);

        Assert.True(result.ExitCode == ExitCodes.Ok, result.Describe());
        var document = XDocument.Load(svg);
        var kinds = document.Descendants(Svg + "rect").Where(r => (string?)r.Attribute("class") == "factor").Select(r => (string?)r.Attribute("data-kind"));
        Assert.Equal(new[] { "dense", "lowrank" }, kinds);
        // Frozen dense + low-rank: every entry is nonzero.
        Assert.Equal(16 * 16, document.Descendants(Svg + "rect").Count(r => (string?)r.Attribute("class") == "nz"));
    }

    [Fact]
    public void Svg_of_a_large_layer_is_downsampled()
    {
        using var temp = new TempFolder("svg-big");
        var smx = temp.Write("big.smx", "namespace Pictures;\nlayer Big : 1024 -> 512 = blockdiag(blocks: 8);\n");
        var svg = temp.Combine("big.svg");

        var result = Smx.Run("explain", smx, "--svg", svg);

        Assert.True(result.ExitCode == ExitCodes.Ok, result.Describe());
        var pattern = XDocument.Load(svg).Descendants(Svg + "g").Single(g => (string?)g.Attribute("id") == "pattern");
        Assert.Equal("128", (string?)pattern.Attribute("data-rows"));
        Assert.Equal("128", (string?)pattern.Attribute("data-cols"));
        // 8 diagonal blocks of 16x16 cells.
        Assert.Equal(8 * 16 * 16, pattern.Elements(Svg + "rect").Count(r => (string?)r.Attribute("class") == "nz"));
    }

    [Fact]
    public void Svg_of_several_layers_writes_one_file_each()
    {
        using var temp = new TempFolder("svg-many");
        var svg = temp.Combine("layers.svg");

        var result = Smx.Run("explain", Path.Combine(Repo.Cases, "monarch.smx"), "--svg", svg);

        Assert.True(result.ExitCode == ExitCodes.Ok, result.Describe());
        foreach (var name in new[] { "MonarchSquare", "MonarchTwoBlocks", "MonarchUp", "MonarchDown" })
        {
            var document = XDocument.Load(temp.Combine($"layers-{name}.svg"));
            Assert.Contains(document.Descendants(Svg + "text"), t => t.Value.StartsWith(name + " : "));
        }
        Assert.False(File.Exists(svg));
    }

    public static System.Collections.Generic.IEnumerable<object[]> CaseFiles =>
        Directory.GetFiles(Repo.Cases, "*.smx").OrderBy(f => f, StringComparer.Ordinal).Select(f => new object[] { Path.GetFileName(f) });

    [Theory]
    [MemberData(nameof(CaseFiles))]
    public void Every_case_file_explains_and_draws(string file)
    {
        using var temp = new TempFolder("svg-case");
        var svg = temp.Combine("case.svg");
        var path = Path.Combine(Repo.Cases, file);
        var layers = StructMat.Compiler.SmxCompiler.Compile(File.ReadAllText(path), file).Classes.Select(c => c.Name).ToList();

        var result = Smx.Run("explain", path, "--svg", svg);

        Assert.True(result.ExitCode == ExitCodes.Ok, result.Describe());
        foreach (var layer in layers)
        {
            Assert.Contains(layer + " : ", result.Out);
            var picture = layers.Count == 1 ? svg : temp.Combine($"case-{layer}.svg");
            var cells = XDocument.Load(picture).Descendants(Svg + "rect").Count(r => (string?)r.Attribute("class") == "nz");
            Assert.True(cells > 0, $"{layer}: no nonzero cell drawn");
        }
    }
}
