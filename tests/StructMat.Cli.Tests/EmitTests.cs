using System.IO;
using StructMat.Cli.Tests.Infrastructure;
using StructMat.Compiler;
using Xunit;

namespace StructMat.Cli.Tests;

public class EmitTests
{
    [Fact]
    public void Emit_prints_exactly_the_compiler_s_source()
    {
        var path = Path.Combine(Repo.Cases, "lowrank.smx");
        var expected = SmxCompiler.Compile(File.ReadAllText(path), "lowrank.smx").Source;

        var result = Smx.Run("emit", path);

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Equal(expected, result.Out);
    }

    [Fact]
    public void Emit_with_dump_and_a_folder_writes_the_source_and_the_stage_dumps()
    {
        using var temp = new TempFolder("emit");
        var path = Path.Combine(Repo.Cases, "monarch.smx");
        var expected = SmxCompiler.Compile(File.ReadAllText(path), "monarch.smx", dump: true);

        var result = Smx.Run("emit", path, "--dump", "-o", temp.Path);

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Equal(expected.Source, File.ReadAllText(temp.Combine("monarch.g.cs")));
        var dump = File.ReadAllText(temp.Combine("monarch.dump.txt"));
        Assert.Equal(expected.Dump, dump);
        Assert.Contains("=== ast ===", dump);
        Assert.Contains("=== MonarchSquare: forward after FoldPermutations ===", dump);
    }

    [Fact]
    public void Emit_of_a_file_with_errors_exits_1_with_the_diagnostics_on_stderr()
    {
        var result = Smx.Run("emit", Path.Combine(Repo.Mistakes, "31-blocks-do-not-divide.smx"));

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Contains("error SMX0103", result.Error);
    }
}
