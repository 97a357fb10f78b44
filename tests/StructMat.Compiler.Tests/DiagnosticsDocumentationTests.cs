using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using StructMat.Compiler.Diagnostics;
using Xunit;

namespace StructMat.Compiler.Tests;

/// <summary>
/// docs/diagnostics.md's catalogue table: every catalogued id has a row, and each row's one-line example, compiled,
/// reports that id with the row's message (<c>…</c> in the documented message stands for the part it leaves out).
/// </summary>
public class DiagnosticsDocumentationTests
{
    // The rows whose example is a description (sizes, counts, an internal error): DiagnosticTests covers each.
    private static readonly string[] Described = { "SMX0004", "SMX0005", "SMX0006", "SMX0305", "SMX0901" };

    private static readonly Regex Row = new(@"^\| (SMX\d{4})(?: \(warning\))? \| (.*?) \| (.*?) \| (.*?) \|$", RegexOptions.Multiline);

    private static string Document =>
        File.ReadAllText(Path.GetFullPath(Path.Combine(Snapshot.CasesDirectory(), "..", "..", "docs", "diagnostics.md"))).Replace("\r\n", "\n");

    private static List<(string Id, string Example, string Message)> Rows() =>
        Row.Matches(Document).Select(m => (m.Groups[1].Value, m.Groups[2].Value, m.Groups[3].Value.Replace("\\|", "|"))).ToList();

    public static IEnumerable<object[]> Examples =>
        Rows().Where(r => !Described.Contains(r.Id)).Select(r => new object[] { r.Id, r.Example, r.Message });

    [Fact]
    public void Every_catalogued_diagnostic_has_one_row()
    {
        var documented = Rows().Select(r => r.Id).ToList();
        Assert.Equal(documented.Distinct().Count(), documented.Count);
        Assert.Equal(DiagnosticDescriptors.All.Select(d => d.Id).OrderBy(id => id, StringComparer.Ordinal), documented.OrderBy(id => id, StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void The_example_reports_its_id_with_the_documented_message(string id, string example, string message)
    {
        var code = Regex.Match(example, "^`([^`]+)`").Groups[1].Value;
        Assert.True(code.StartsWith("layer ", StringComparison.Ordinal) || code.StartsWith("const ", StringComparison.Ordinal),
            $"{id}: the example should be a whole declaration in backticks, but it is: {example}");

        var result = SmxCompiler.Compile(code, "example.smx");
        var listing = string.Join("\n", result.Diagnostics.Select(d => d.Format("example.smx")));
        var matching = result.Diagnostics.Where(d => d.Id == id).ToList();
        Assert.True(matching.Count > 0, $"{id}: `{code}` does not report it:\n{listing}");

        var pattern = "^" + string.Join(".*", message.Split('…').Select(Regex.Escape)) + "$";
        Assert.True(matching.Any(d => Regex.IsMatch(d.Message.Replace("\n", " "), pattern, RegexOptions.Singleline)),
            $"{id}: the documented message\n  {message}\ndoes not match what `{code}` reports:\n{listing}");
    }
}
