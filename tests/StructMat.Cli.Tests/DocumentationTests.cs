using System;
using System.IO;
using System.Linq;
using StructMat.Cli.Tests.Infrastructure;
using Xunit;

namespace StructMat.Cli.Tests;

/// <summary>docs/cli.md shows real output: its example file still checks clean, and its explain output (no timings in it) is still what smx prints.</summary>
public class DocumentationTests
{
    private static string Doc => File.ReadAllText(Path.Combine(Repo.Root, "docs", "cli.md")).Replace("\r\n", "\n");

    /// <summary>The body of the first fenced block that opens with <paramref name="fence"/>, or after the line <paramref name="after"/>.</summary>
    private static string Block(string fence, string? after = null)
    {
        var doc = Doc;
        var start = after is null ? doc.IndexOf(fence + "\n", StringComparison.Ordinal) + fence.Length + 1 : doc.IndexOf(after + "\n", StringComparison.Ordinal) + after.Length + 1;
        Assert.True(start > fence.Length, $"docs/cli.md has no block {fence} {after}");
        return doc[start..doc.IndexOf("```", start, StringComparison.Ordinal)];
    }

    [Fact]
    public void The_example_layers_check_clean()
    {
        using var temp = new TempFolder("doc");
        var path = temp.Write("layers.smx", Block("```smx"));

        var result = Smx.Run("check", path);

        Assert.True(result.ExitCode == ExitCodes.Ok, result.Describe());
    }

    [Fact]
    public void The_explain_output_shown_is_what_smx_prints()
    {
        using var temp = new TempFolder("doc-explain");
        var path = temp.Write("layers.smx", Block("```smx"));
        var shown = Block("```", "$ smx explain layers.smx --layer Sparse --svg sparse.svg");
        var expected = shown[..shown.IndexOf("wrote sparse.svg", StringComparison.Ordinal)];

        var result = Smx.Run("explain", path, "--layer", "Sparse");

        // Spectre pads table titles and rows to the table's width; compare without trailing blanks.
        static string Trim(string text) => string.Join("\n", text.Split('\n').Select(l => l.TrimEnd())).Trim();
        Assert.Equal(Trim(expected), Trim(result.Out));
    }
}
