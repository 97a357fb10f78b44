using System.Collections.Generic;
using System.IO;
using System.Linq;
using Xunit;

namespace StructMat.Compiler.Tests;

/// <summary>
/// Goldens for every tests/Cases/*.smx (<see cref="GoldenView"/>): the generated C# (<c>.verified.cs</c>) and the IR
/// and CPU schedule (<c>.ir.verified.txt</c>: bound tree, forward as lowered and optimised, optimised backward, schedule).
/// </summary>
public class SnapshotTests
{
    public static IEnumerable<object[]> Cases =>
        Directory.GetFiles(Snapshot.CasesDirectory(), "*.smx").Select(f => new object[] { Path.GetFileNameWithoutExtension(f) }).OrderBy(c => (string)c[0]);

    // No static caches: each test compiles what it checks, so a mutation test (Stryker) sees every mutant's effect.

    [Theory]
    [MemberData(nameof(Cases))]
    public void Generated_code_matches_verified_file(string name)
    {
        var result = Compile(name);
        Assert.Empty(result.Diagnostics);
        Assert.NotNull(result.Source);
        Snapshot.Verify(GoldenView.CaseCode(name, result.Source!), Path.Combine(Snapshot.CasesDirectory(), name + ".verified.cs"));
    }

    [Fact]
    public void No_case_carries_a_tiled_gpu_kernel_of_its_own()
    {
        // Block products run on the runtime's TiledGemmDevice, specialised per GemmShape: a layer declares shapes, and
        // its generated kernels (elementwise ops, blocks too narrow for a tile) are short, without shared memory.
        var shapes = 0;
        foreach (var name in Cases.Select(c => (string)c[0]))
        {
            var source = Compile(name).Source!;
            Assert.DoesNotContain("SharedMemory", source, System.StringComparison.Ordinal);
            Assert.DoesNotContain("Group.Barrier", source, System.StringComparison.Ordinal);
            shapes += source.Split('\n').Count(line => line.Contains("private static readonly global::StructMat.Runtime.Gpu.GemmShape ", System.StringComparison.Ordinal));
        }
        Assert.True(shapes > 100, $"Only {shapes} GemmShape declarations in tests/Cases: the tiled products are not reaching the runtime kernel.");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Ir_and_schedule_match_verified_file(string name)
    {
        var result = Compile(name);
        Assert.NotNull(result.Dump);
        Snapshot.Verify(GoldenView.IrAndSchedule(result.Dump!), Path.Combine(Snapshot.CasesDirectory(), name + ".ir.verified.txt"));
    }

    [Fact]
    public void The_stage_dump_holds_every_stage_in_pipeline_order()
    {
        var dump = Compile("monarch").Dump!;
        var stages = dump.Split('\n').Where(l => l.StartsWith("=== ", System.StringComparison.Ordinal)).ToList();
        Assert.Equal("=== ast ===", stages[0]);
        Assert.Equal("=== bound ===", stages[1]);
        var first = stages.Skip(2).TakeWhile(s => !s.EndsWith(": schedule ===", System.StringComparison.Ordinal)).Append(stages.First(s => s.EndsWith(": schedule ===", System.StringComparison.Ordinal))).ToList();
        var layer = first[0].Substring(4, first[0].IndexOf(':') - 4);
        Assert.Equal(new[]
        {
            "forward after lowering", "forward after FoldPermutations", "forward after FoldScales", "forward after FuseAccumulation",
            "forward after EliminateDeadValues", "backward after Differentiate", "backward after EliminateCopies", "backward after EliminateDeadValues", "schedule",
        }.Select(s => $"=== {layer}: {s} ==="), first);
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
