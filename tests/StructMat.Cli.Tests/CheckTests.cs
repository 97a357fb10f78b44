using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using StructMat.Cli.Tests.Infrastructure;
using Xunit;

namespace StructMat.Cli.Tests;

/// <summary><c>smx check</c> reports what a build reports: the generator's own diagnostics are the reference.</summary>
public class CheckTests
{
    public static IEnumerable<object[]> Mistakes =>
        Directory.GetFiles(Repo.Mistakes, "*.smx").OrderBy(f => f, StringComparer.Ordinal).Select(f => new object[] { Path.GetFileName(f) });

    private static IReadOnlyList<string> DiagnosticLines(SmxResult result) =>
        result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.Contains(": error SMX") || l.Contains(": warning SMX")).ToList();

    [Theory]
    [MemberData(nameof(Mistakes))]
    public void Check_prints_the_generator_s_diagnostics_for_each_mistake(string file)
    {
        var path = Path.Combine(Repo.Mistakes, file);
        var expected = GeneratorRun.Lines(new[] { path });
        Assert.NotEmpty(expected);

        var result = Smx.Run("check", path);

        Assert.Equal(expected, DiagnosticLines(result));
        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.False(result.HasStackTrace, result.Describe());
        // And the id the file's own "// expect: SMXnnnn" comment promises.
        var promised = System.Text.RegularExpressions.Regex.Match(File.ReadAllText(path), @"// expect: (SMX\d{4})").Groups[1].Value;
        Assert.Contains(DiagnosticLines(result), l => l.Contains($": error {promised}: "));
    }

    [Fact]
    public void Check_of_every_case_file_is_clean_and_exits_0()
    {
        var cases = Directory.GetFiles(Repo.Cases, "*.smx").OrderBy(f => f, StringComparer.Ordinal).ToArray();
        Assert.Empty(GeneratorRun.Lines(cases));

        var result = Smx.Run(new[] { "check" }.Concat(cases).ToArray());

        Assert.True(result.ExitCode == ExitCodes.Ok, result.Describe());
        Assert.Equal("No errors.", result.Out.Trim());
    }

    [Fact]
    public void Check_ends_with_a_summary_counting_errors_and_files()
    {
        var result = Smx.Run("check", Path.Combine(Repo.Mistakes, "30-rank-too-large.smx"), Path.Combine(Repo.Mistakes, "31-blocks-do-not-divide.smx"),
            Path.Combine(Repo.Cases, "monarch.smx"));

        Assert.Equal("2 errors, 0 warnings in 2 files.", result.Out.Trim().Split('\n').Last());
        Assert.Equal(ExitCodes.Failed, result.ExitCode);
    }

    [Fact]
    public void Check_reports_a_layer_declared_again_in_another_file_as_the_generator_does()
    {
        using var temp = new TempFolder("dup");
        var a = temp.Write("a.smx", "namespace Dup;\nlayer Shared : 8 -> 8 = dense;\n");
        var b = temp.Write("b.smx", "namespace Dup;\n\nlayer Other : 8 -> 8 = dense;\nlayer Shared : 8 -> 8 = lowrank(rank: 2);\n");
        var expected = GeneratorRun.Lines(new[] { a, b });
        Assert.Contains(expected, l => l.Contains("SMX0102"));

        var result = Smx.Run("check", b, a);

        Assert.Equal(expected.OrderBy(l => l), DiagnosticLines(result).OrderBy(l => l));
        Assert.Equal(ExitCodes.Failed, result.ExitCode);
    }

    [Fact]
    public void Check_json_lists_each_diagnostic_with_the_generator_s_positions()
    {
        var path = Path.Combine(Repo.Mistakes, "05-unshaped-middle-next-to-diag.smx");
        var expected = GeneratorRun.Diagnostics(new[] { path }).Single();
        var span = expected.Location.GetLineSpan();

        var result = Smx.Run("check", path, "--format", "json");

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        using var json = JsonDocument.Parse(result.Out);
        var item = Assert.Single(json.RootElement.EnumerateArray());
        Assert.Equal(path, item.GetProperty("file").GetString());
        Assert.Equal(span.StartLinePosition.Line + 1, item.GetProperty("line").GetInt32());
        Assert.Equal(span.StartLinePosition.Character + 1, item.GetProperty("column").GetInt32());
        Assert.Equal(span.EndLinePosition.Line + 1, item.GetProperty("endLine").GetInt32());
        Assert.Equal(span.EndLinePosition.Character + 1, item.GetProperty("endColumn").GetInt32());
        Assert.Equal("error", item.GetProperty("severity").GetString());
        Assert.Equal(expected.Id, item.GetProperty("id").GetString());
        Assert.Equal(expected.GetMessage(System.Globalization.CultureInfo.InvariantCulture), item.GetProperty("message").GetString());
    }

    [Theory]
    [MemberData(nameof(Mistakes))]
    public void Check_json_holds_the_generator_s_ids_messages_and_positions(string file)
    {
        var path = Path.Combine(Repo.Mistakes, file);
        var expected = GeneratorRun.Diagnostics(new[] { path })
            .Select(d => (d.Id, Message: d.GetMessage(System.Globalization.CultureInfo.InvariantCulture), Line: d.Location.GetLineSpan().StartLinePosition.Line + 1,
                Column: d.Location.GetLineSpan().StartLinePosition.Character + 1));

        var result = Smx.Run("check", path, "--format", "json");

        using var json = JsonDocument.Parse(result.Out);
        var actual = json.RootElement.EnumerateArray()
            .Select(e => (e.GetProperty("id").GetString()!, e.GetProperty("message").GetString()!, e.GetProperty("line").GetInt32(), e.GetProperty("column").GetInt32()));
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Check_json_of_a_clean_file_is_an_empty_array_and_nothing_else()
    {
        var result = Smx.Run("check", Path.Combine(Repo.Cases, "lowrank.smx"), "--format", "json");

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        using var json = JsonDocument.Parse(result.Out);
        Assert.Equal(0, json.RootElement.GetArrayLength());
    }

    [Fact]
    public void Binary_garbage_is_an_smx_error_not_a_crash()
    {
        using var temp = new TempFolder("garbage");
        var path = temp.Combine("garbage.smx");
        var random = new Random(7);
        var bytes = new byte[4096];
        random.NextBytes(bytes);
        File.WriteAllBytes(path, bytes);

        var result = Smx.Run("check", path);

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Contains(": error SMX000", result.Out);
        Assert.False(result.HasStackTrace, result.Describe());
    }
}
