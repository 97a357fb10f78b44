using System.Collections.Generic;
using System.IO;
using System.Linq;
using StructMat.Compiler.IR;
using StructMat.Compiler.Lowering;
using StructMat.Compiler.Passes;
using StructMat.Compiler.Semantics;
using StructMat.Compiler.Syntax;
using Xunit;

namespace StructMat.Compiler.Tests;

/// <summary>The IR's text form parses back: pass tests are written in it.</summary>
public class IrTextTests
{
    public static IEnumerable<object[]> Cases => SnapshotTests.Cases;

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_stage_of_every_case_parses_back_to_the_same_text(string name)
    {
        var (unit, _) = SmxParser.Parse(File.ReadAllText(Path.Combine(Snapshot.CasesDirectory(), name + ".smx")));
        var (file, _) = Binder.Bind(unit);
        var stages = 0;
        foreach (var layer in file.Layers)
        {
            PassPipeline.Run(LowerLayer.Run(layer), (stage, text) =>
            {
                if (stage == "schedule") return; // not IR
                var (parsedLayer, program) = IrText.Parse(text);
                Assert.Equal(text, IrText.Dump(parsedLayer, program));
                stages++;
            });
        }
        Assert.True(stages > 0);
    }

    [Fact]
    public void Parsing_keeps_what_the_text_says_of_each_op()
    {
        var (layer, program) = IrText.Parse("""
            param w [4, 2, 3] init=MuP lr×0.5
            param d [6] frozen init=Ones
            value %0 x [batch, 6]
            value %1 t1 [batch, 8]
            value %2 y [batch, 6]
            input %0, output %2
            %1 += matmul %0, w groups=2 block=4x3 in=Strided xor=1 out=Contiguous alpha=2 subrows=1
            %2 = gather %0 blockxor block=3 distance=1 inverse
            %2 += diag %0, d
            """);
        Assert.Equal(new MatMulOp(0, 1, 0, 2, 4, 3, Layout.Strided, Layout.Contiguous, 2f, true, "") { InGroupXor = 1 }, program.Ops[0]);
        Assert.Equal(new GatherOp(0, 2, new IndexMap(IndexMapKind.BlockXor, 6) { Block = 3, Distance = 1 }, true, false, ""), program.Ops[1]);
        Assert.Equal(new DiagonalOp(0, 2, 1, true, ""), program.Ops[2]);
        Assert.False(layer.Parameter(1).Trainable);
        Assert.Equal(0.5f, layer.Parameter(0).LearningRateMultiplier);
        Assert.Equal((6, 6), (layer.InFeatures, layer.OutFeatures));
    }

    [Theory]
    [InlineData("%1 = frobnicate %0", "unknown op 'frobnicate'")]
    [InlineData("%1 = matmul %0, nowhere groups=1 block=6x6 in=Contiguous out=Contiguous", "unknown parameter 'nowhere'")]
    [InlineData("%1 = transpose %0 rows=2", "missing 'cols='")]
    [InlineData("%1 := scale %0", "expected '=' or '+='")]
    public void A_malformed_line_is_a_format_error_naming_the_line(string line, string message)
    {
        var error = Assert.Throws<System.FormatException>(() => IrText.Parse($"value %0 x [batch, 6]\nvalue %1 y [batch, 6]\ninput %0, output %1\n{line}"));
        Assert.Contains("line 4", error.Message);
        Assert.Contains(message, error.Message);
    }
}
