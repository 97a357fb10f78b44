using System.Collections.Generic;
using System.IO;
using System.Linq;
using Xunit;

namespace StructMat.Compiler.Tests;

/// <summary>
/// Goldens for every tests/Cases/*.smx, laid out so a person reviews a change once (<see cref="GoldenView"/>): the
/// generated C# (<c>.verified.cs</c>, long GPU kernel bodies named by class), every distinct GPU kernel class once
/// (<c>gpu-kernels.verified.txt</c>), and the IR and CPU schedule (<c>.ir.verified.txt</c>: bound tree, forward as
/// lowered and optimised, optimised backward, schedule).
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
    public void Every_distinct_gpu_kernel_matches_the_kernel_classes_file()
    {
        var kernels = Cases.Select(c => (string)c[0]).SelectMany(name => GoldenView.Kernels(name, Compile(name).Source!)).ToList();
        Assert.NotEmpty(kernels);
        Snapshot.Verify(GoldenView.KernelClasses(kernels), Path.Combine(Snapshot.CasesDirectory(), "gpu-kernels.verified.txt"));
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
    public void Golden_kernel_bodies_put_back_give_the_generated_code_up_to_numbers()
    {
        // The case goldens lose nothing but numbers: each named class's body, put back, restores the code.
        foreach (var name in new[] { "monarch", "kron", "blocksparse" })
        {
            var result = Compile(name);
            var kernels = GoldenView.Kernels(name, result.Source!);
            Assert.NotEmpty(kernels);
            var golden = GoldenView.CaseCode(name, result.Source!);
            foreach (var kernel in kernels) Assert.Contains($"        // body: kernel class \"{GoldenView.ClassName(kernel)}\"", golden);
            var inline = golden.Split('\n').Length + kernels.Sum(k => k.End - k.Start - 1);
            Assert.Equal(result.Source!.Split('\n').Length, inline);
        }
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
