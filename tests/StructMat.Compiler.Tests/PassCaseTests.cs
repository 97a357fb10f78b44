using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using StructMat.Compiler.Analysis;
using StructMat.Compiler.Autodiff;
using StructMat.Compiler.IR;
using StructMat.Compiler.Passes;
using StructMat.Compiler.Schedule;
using Xunit;

namespace StructMat.Compiler.Tests;

/// <summary>
/// One small text file per case and pass, as Triton and MLIR test their passes: <c>PassCases/&lt;Pass&gt;/&lt;case&gt;.txt</c>
/// holds the IR in (<c>--- in</c>; the schedule stage takes <c>--- forward</c> and <c>--- backward</c>) and what must come
/// out (<c>--- out</c>), in the IR's text form. The expected outputs are written by hand from each pass's definition,
/// never copied from its output, so there is no mode that accepts new output: a mismatch is a bug in the pass or in
/// the case. Both sides are verified; externals are the input, the output and a value named dy.
/// </summary>
public class PassCaseTests
{
    private static string Root([System.Runtime.CompilerServices.CallerFilePath] string thisFile = "") =>
        Path.Combine(Path.GetDirectoryName(thisFile)!, "PassCases");

    public static IEnumerable<object[]> Cases =>
        Directory.GetFiles(Root(), "*.txt", SearchOption.AllDirectories)
            .Select(f => new object[] { Path.GetFileName(Path.GetDirectoryName(f))!, Path.GetFileNameWithoutExtension(f) })
            .OrderBy(c => (string)c[0], StringComparer.Ordinal).ThenBy(c => (string)c[1], StringComparer.Ordinal);

    [Fact]
    public void Every_pass_and_the_schedule_have_cases()
    {
        var passes = Cases.Select(c => (string)c[0]).Distinct().ToList();
        Assert.Equal(new[] { "Differentiate", "EliminateCopies", "EliminateDeadValues", "FoldPermutations", "FoldScales", "FuseAccumulation", "Schedule" }, passes);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Pass_output_matches_the_case(string pass, string name)
    {
        var sections = Sections(File.ReadAllText(Path.Combine(Root(), pass, name + ".txt")));
        var expected = sections["out"];
        var actual = pass == "Schedule" ? Schedule(sections) : RunPass(pass, sections["in"]);
        Assert.Equal(expected, actual);
    }

    private static string RunPass(string pass, string input)
    {
        var (layer, program) = IrText.Parse(input);
        var externals = Externals(program);
        IrVerifier.Verify(layer, program, "the case's input", externals.Where(v => v != program.Output));
        if (pass == "Differentiate")
        {
            var backward = Differentiate.Run(layer);
            IrVerifier.Verify(layer with { Backward = backward }, backward, pass, Externals(backward).Where(v => v != backward.Output));
            return IrText.Dump(layer, backward);
        }
        var output = pass switch
        {
            "FoldPermutations" => FoldPermutations.Run(program),
            "FoldScales" => FoldScales.Run(program),
            "FuseAccumulation" => FuseAccumulation.Run(program),
            "EliminateDeadValues" => EliminateDeadValues.Run(program, externals),
            "EliminateCopies" => EliminateCopies.Run(program, externals),
            _ => throw new InvalidOperationException($"No pass '{pass}'"),
        };
        IrVerifier.Verify(layer, output, pass, externals.Where(v => v != output.Output));
        return IrText.Dump(layer, output);
    }

    private static string Schedule(Dictionary<string, string> sections)
    {
        var (layer, forward) = IrText.Parse(sections["forward"]);
        var (_, backward) = IrText.Parse(sections["backward"]);
        layer = layer with { Forward = forward, Backward = backward };
        var schedule = CpuSchedule.Create(layer, BufferPlan.Create(forward, Externals(forward)), BufferPlan.Create(backward, Externals(backward)));
        return ScheduleText.Dump(layer, schedule);
    }

    private static int[] Externals(IrProgram program) =>
        new[] { program.Input, program.Output }.Concat(program.Values.Where(v => v.Name == BackwardValues.OutputGradient).Select(v => v.Id)).Distinct().ToArray();

    /// <summary>The text after each <c>--- name</c> line; lines starting with <c>#</c> before the first section describe the case.</summary>
    private static Dictionary<string, string> Sections(string text)
    {
        var sections = new Dictionary<string, string>(StringComparer.Ordinal);
        string? current = null;
        var lines = new List<string>();
        foreach (var line in text.Replace("\r\n", "\n").Split('\n'))
        {
            if (line.StartsWith("--- ", StringComparison.Ordinal))
            {
                if (current is not null) sections[current] = Join(lines);
                current = line.Substring(4).Trim();
                lines.Clear();
            }
            else if (current is not null)
            {
                lines.Add(line);
            }
        }
        if (current is not null) sections[current] = Join(lines);
        return sections;
    }

    private static string Join(List<string> lines) => string.Join("\n", lines.Where(l => l.Length > 0 && !l.StartsWith("#", StringComparison.Ordinal))) + "\n";
}
