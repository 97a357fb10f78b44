using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace StructMat.Compiler.Tests;

/// <summary>Every ```smx example in the README and the docs compiles without errors (warnings are allowed).</summary>
public class DocumentationTests
{
    private static string Root => Path.GetFullPath(Path.Combine(Snapshot.CasesDirectory(), "..", ".."));

    public static IEnumerable<object[]> Examples =>
        new[] { "README.md", "docs/language.md", "src/StructMat.Runtime/PACKAGE.md" }.SelectMany(file =>
            Regex.Matches(File.ReadAllText(Path.Combine(Root, file)), "```smx\\n(.*?)```", RegexOptions.Singleline)
                .Select((m, k) => new object[] { $"{file} #{k + 1}", m.Groups[1].Value }));

    [Fact]
    public void The_docs_have_examples() => Assert.True(Examples.Count() >= 12);

    [Theory]
    [MemberData(nameof(Examples))]
    public void Example_compiles_without_errors(string where, string smx)
    {
        var result = SmxCompiler.Compile(smx, "example.smx");
        Assert.True(!result.HasErrors, $"{where}:\n{smx}\n" + string.Join("\n", result.Diagnostics.Select(d => d.Format("example.smx"))));
        Assert.NotNull(result.Source);
    }
}
