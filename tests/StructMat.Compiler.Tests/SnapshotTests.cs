using System.Collections.Generic;
using System.IO;
using System.Linq;
using Xunit;

namespace StructMat.Compiler.Tests;

/// <summary>
/// Whole-output baselines for every tests/Cases/*.smx: the generated C# (<c>.verified.cs</c>) and the
/// stage dumps (<c>.dump.verified.txt</c>: AST, bound tree, IR after each pass), so any change to what
/// the compiler emits shows up as a reviewed diff.
/// </summary>
public class SnapshotTests
{
    public static IEnumerable<object[]> Cases =>
        Directory.GetFiles(Snapshot.CasesDirectory(), "*.smx").Select(f => new object[] { Path.GetFileNameWithoutExtension(f) }).OrderBy(c => (string)c[0]);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Generated_code_matches_verified_file(string name)
    {
        var result = Compile(name);
        Assert.Empty(result.Diagnostics);
        Assert.NotNull(result.Source);
        Snapshot.Verify(result.Source!, Path.Combine(Snapshot.CasesDirectory(), name + ".verified.cs"));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Stage_dumps_match_verified_file(string name)
    {
        var result = Compile(name);
        Assert.NotNull(result.Dump);
        Snapshot.Verify(result.Dump!, Path.Combine(Snapshot.CasesDirectory(), name + ".dump.verified.txt"));
    }

    [Fact]
    public void Compiling_twice_gives_identical_results()
    {
        var text = File.ReadAllText(Path.Combine(Snapshot.CasesDirectory(), "compositions.smx"));
        Assert.Equal(SmxCompiler.Compile(text, "a.smx", dump: true), SmxCompiler.Compile(text, "a.smx", dump: true));
    }

    private static CompilationResult Compile(string name) =>
        SmxCompiler.Compile(File.ReadAllText(Path.Combine(Snapshot.CasesDirectory(), name + ".smx")), "Cases/" + name + ".smx", dump: true);
}
