using System;
using System.Linq;
using StructMat.Compiler.Analysis;
using StructMat.Compiler.Autodiff;
using StructMat.Compiler.IR;
using StructMat.Compiler.Lowering;
using StructMat.Compiler.Passes;
using StructMat.Compiler.Semantics;
using StructMat.Compiler.Structures;
using StructMat.Compiler.Syntax;
using Xunit;

namespace StructMat.Compiler.Tests;

/// <summary>One test per pass: IR in, the op list the pass's definition says must come out.</summary>
public class PassTests
{
    private static IrLayer Lower(string smx)
    {
        var (unit, syntax) = SmxParser.Parse(smx);
        Assert.Empty(syntax);
        var (file, diagnostics) = Binder.Bind(unit);
        Assert.Empty(diagnostics);
        return LowerLayer.Run(file.Layers.Single());
    }

    private static string[] Ops(IrLayer layer, IrProgram program) => program.Ops.Select(op => IrText.Op(layer, op)).ToArray();

    [Fact]
    public void Lowering_monarch_gives_fly_order_blockdiag_transpose_blockdiag_transpose()
    {
        var layer = Lower("layer M : 12 -> 20 = monarch(blocks: 4);");
        Assert.Equal(new[]
        {
            "%1 = matmul %0, blkdiag1 groups=4 block=3x3 in=Contiguous out=Contiguous",
            "%2 = transpose %1 rows=3 cols=4",
            "%3 = matmul %2, blkdiag2 groups=4 block=5x3 in=Contiguous out=Contiguous",
            "%4 = transpose %3 rows=4 cols=5",
        }, Ops(layer, layer.Forward));
    }

    [Fact]
    public void FoldPermutations_turns_both_monarch_transposes_into_strided_layouts()
    {
        var layer = Lower("layer M : 12 -> 20 = monarch(blocks: 4);");
        var folded = FoldPermutations.Run(layer.Forward);
        // transpose(3, 4) feeds 4 groups of 3 inputs: read strided. transpose(4, 5) follows 4 groups of 5 outputs: write strided.
        Assert.Equal(new[]
        {
            "%1 = matmul %0, blkdiag1 groups=4 block=3x3 in=Contiguous out=Contiguous",
            "%4 = matmul %1, blkdiag2 groups=4 block=5x3 in=Strided out=Strided",
        }, Ops(layer, folded));
        IrVerifier.Verify(layer, folded, "test", new[] { folded.Input });
    }

    [Fact]
    public void FoldPermutations_keeps_a_transpose_whose_shape_does_not_match_the_blocks()
    {
        // Rows/cols that match neither neighbour's groups x block: the transpose must stay.
        var values = new[] { new IrValue(0, 6, "x"), new IrValue(1, 6, "t1"), new IrValue(2, 6, "t2") }.ToEquatableArray();
        var parameters = new[] { new IrParameter(0, "weight", new[] { 6, 6 }.ToEquatableArray(), true, InitKind.MuP, 6, 6, "") }.ToEquatableArray();
        var program = new IrProgram(values, new IrOp[]
        {
            new PermuteOp(0, 1, 2, 3, false, ""),
            new MatMulOp(1, 2, 0, 1, 6, 6, Layout.Contiguous, Layout.Contiguous, 1f, false, ""),
        }.ToEquatableArray(), 0, 2);
        Assert.Equal(program, FoldPermutations.Run(program));
    }

    [Fact]
    public void FoldPermutations_folds_each_block_swap_of_the_flat_butterfly_into_its_matmul()
    {
        var layer = Lower("layer F : 16 -> 16 = blocksparse(block: 4, pattern: butterfly);");
        var folded = FoldPermutations.Run(layer.Forward);
        // Lowering swaps blocks (gather i XOR d) before each diagonal's matmul; folded, each diagonal reads x directly.
        Assert.Contains(layer.Forward.Ops, op => op is GatherOp);
        Assert.DoesNotContain(folded.Ops, op => op is GatherOp);
        var xors = folded.Ops.OfType<MatMulOp>().Select(m => (m.Input, m.InGroupXor)).ToArray();
        Assert.Equal(new[] { (0, 0), (0, 1), (0, 2) }, xors);
        IrVerifier.Verify(layer, folded, "test", new[] { folded.Input });
    }

    [Fact]
    public void FoldPermutations_keeps_a_block_swap_whose_blocks_are_not_the_matmul_blocks()
    {
        // Blocks of 2 swapped at distance 1, read by a matmul of 2 groups of 4: a group of 4 is two swapped blocks of 2,
        // which no group XOR expresses. The gather must stay.
        var values = new[] { new IrValue(0, 8, "x"), new IrValue(1, 8, "t1"), new IrValue(2, 8, "t2") }.ToEquatableArray();
        var program = new IrProgram(values, new IrOp[]
        {
            new GatherOp(0, 1, new IndexMap(IndexMapKind.BlockXor, 8) { Block = 2, Distance = 1 }, Inverse: false, Accumulate: false, ""),
            new MatMulOp(1, 2, 0, 2, 4, 4, Layout.Contiguous, Layout.Contiguous, 1f, false, ""),
        }.ToEquatableArray(), 0, 2);
        Assert.Equal(program, FoldPermutations.Run(program));
    }

    [Fact]
    public void Verifier_rejects_an_input_group_xor_that_leaves_the_groups_or_meets_a_strided_layout()
    {
        var values = new[] { new IrValue(0, 12, "x"), new IrValue(1, 12, "y") }.ToEquatableArray();
        var parameters = new[] { new IrParameter(0, "weight", new[] { 2, 6, 6 }.ToEquatableArray(), true, InitKind.MuP, 6, 6, "") }.ToEquatableArray();
        IrLayer With(MatMulOp op) => new("L", 12, 12, parameters, new IrProgram(values, new IrOp[] { op }.ToEquatableArray(), 0, 1), null);
        var matmul = new MatMulOp(0, 1, 0, 3, 4, 4, Layout.Contiguous, Layout.Contiguous, 1f, false, "");
        var leaves = With(matmul with { InGroupXor = 1 });
        Assert.Contains("leaves the 3 groups", Assert.Throws<InvalidOperationException>(() => IrVerifier.Verify(leaves, leaves.Forward, "test", new[] { 0 })).Message);
        var strided = With(matmul with { Groups = 2, BlockIn = 6, BlockOut = 6, InLayout = Layout.Strided, InGroupXor = 1 });
        Assert.Contains("strided layout", Assert.Throws<InvalidOperationException>(() => IrVerifier.Verify(strided, strided.Forward, "test", new[] { 0 })).Message);
    }

    [Fact]
    public void FoldScales_moves_the_factor_into_the_producing_matmul()
    {
        var layer = Lower("layer S : 4 -> 4 = 0.5 * dense;");
        Assert.Equal(new[] { "%2 = matmul %0, weight groups=1 block=4x4 in=Contiguous out=Contiguous alpha=0.5" },
            Ops(layer, FoldScales.Run(layer.Forward)));
    }

    [Fact]
    public void FuseAccumulation_makes_sum_terms_write_the_result_directly()
    {
        var layer = Lower("layer S : 4 -> 4 = dense + dense + dense;");
        Assert.Equal(new[]
        {
            "%5 = matmul %0, terms.0.weight groups=1 block=4x4 in=Contiguous out=Contiguous",
            "%5 += matmul %0, terms.1.weight groups=1 block=4x4 in=Contiguous out=Contiguous",
            "%5 += matmul %0, terms.2.weight groups=1 block=4x4 in=Contiguous out=Contiguous",
        }, Ops(layer, FuseAccumulation.Run(layer.Forward)));
    }

    [Fact]
    public void FuseAccumulation_leaves_an_add_whose_term_is_the_layer_input()
    {
        var values = new[] { new IrValue(0, 4, "x"), new IrValue(1, 4, "t1"), new IrValue(2, 4, "sum") }.ToEquatableArray();
        var program = new IrProgram(values, new IrOp[]
        {
            new ScaleOp(0, 1, 2f, false, ""),
            new AddOp(0, 1, 2, ""),
        }.ToEquatableArray(), 0, 2);
        Assert.Equal(program, FuseAccumulation.Run(program));
    }

    [Fact]
    public void EliminateCopies_reads_the_source_instead_of_a_unit_scale_copy()
    {
        var values = new[] { new IrValue(0, 4, "x"), new IrValue(1, 4, "dy"), new IrValue(2, 4, "copy"), new IrValue(3, 4, "dx") }.ToEquatableArray();
        var program = new IrProgram(values, new IrOp[]
        {
            new ScaleOp(1, 2, 1f, false, "copy"),
            new ScaleOp(2, 3, 3f, false, "use"),
        }.ToEquatableArray(), 0, 3);
        var result = EliminateCopies.Run(program, new[] { 0, 1, 3 });
        Assert.Equal(new IrOp[] { new ScaleOp(1, 3, 3f, false, "use") }, result.Ops);
    }

    [Fact]
    public void BufferPlan_shares_a_slot_only_between_values_never_live_together()
    {
        // t1 dies at op 1 (which writes t2), so t3 (written at op 2) may reuse t1's slot; t2 may not.
        var values = Enumerable.Range(0, 5).Select(i => new IrValue(i, 8 - i, "v" + i)).ToEquatableArray();
        var program = new IrProgram(values, new IrOp[]
        {
            new ScaleOp(0, 1, 1f, false, ""),
            new ScaleOp(1, 2, 1f, false, ""),
            new ScaleOp(2, 3, 1f, false, ""),
            new ScaleOp(3, 4, 1f, false, ""),
        }.ToEquatableArray(), 0, 4);
        var plan = BufferPlan.Create(program, new[] { 0, 4 });
        Assert.Equal(0, plan.Slot(1));
        Assert.Equal(1, plan.Slot(2));
        Assert.Equal(0, plan.Slot(3));
        Assert.Equal(new[] { 7, 6 }, plan.SlotWidths); // slot 0 holds widths 7 and 5; slot 1 holds 6
    }

    [Fact]
    public void Differentiate_gives_no_weight_gradient_to_frozen_parameters_and_overwrites_dx_first()
    {
        var layer = Lower("layer L : 8 -> 8 = frozen dense + lowrank(rank: 2);");
        var backward = Differentiate.Run(layer with { Forward = FuseAccumulation.Run(layer.Forward) });
        var ops = Ops(layer, backward);
        Assert.DoesNotContain(ops, op => op.StartsWith("grad(terms.0.weight)", StringComparison.Ordinal));
        Assert.Contains(ops, op => op.StartsWith("grad(terms.1.lora_A)", StringComparison.Ordinal));
        Assert.Contains(ops, op => op.StartsWith("grad(terms.1.lora_B)", StringComparison.Ordinal));
        var dxWrites = backward.Ops.Where(op => op.Writes == backward.Output).Select(op => IrText.Op(layer, op)).ToList();
        Assert.Equal(2, dxWrites.Count);
        Assert.Contains(" = ", dxWrites[0]);
        Assert.Contains(" += ", dxWrites[1]);
    }

    [Fact]
    public void Verifier_rejects_a_read_before_any_write()
    {
        var values = new[] { new IrValue(0, 4, "x"), new IrValue(1, 4, "t"), new IrValue(2, 4, "y") }.ToEquatableArray();
        var layer = new IrLayer("L", 4, 4, EquatableArray<IrParameter>.Empty,
            new IrProgram(values, new IrOp[] { new ScaleOp(1, 2, 1f, false, "") }.ToEquatableArray(), 0, 2), null);
        var error = Assert.Throws<InvalidOperationException>(() => IrVerifier.Verify(layer, layer.Forward, "test", new[] { 0 }));
        Assert.Contains("reads %1 before it is written", error.Message);
    }

    [Fact]
    public void Verifier_rejects_accumulating_into_an_unwritten_value()
    {
        var values = new[] { new IrValue(0, 4, "x"), new IrValue(1, 4, "y") }.ToEquatableArray();
        var layer = new IrLayer("L", 4, 4, EquatableArray<IrParameter>.Empty,
            new IrProgram(values, new IrOp[] { new ScaleOp(0, 1, 1f, true, "") }.ToEquatableArray(), 0, 1), null);
        var error = Assert.Throws<InvalidOperationException>(() => IrVerifier.Verify(layer, layer.Forward, "test", new[] { 0 }));
        Assert.Contains("%1 before it is written", error.Message);
    }

    [Fact]
    public void Btt_factorisation_follows_compute_better_spent()
    {
        // factorize(n, 2): primes ascending, each multiplies the smaller number (ties: the first), then sorted.
        Assert.Equal((16, 48), Btt.Factorize(768));
        Assert.Equal((2, 6), Btt.Factorize(12));
        Assert.Equal((2, 10), Btt.Factorize(20));
        Assert.Equal((1, 7), Btt.Factorize(7));
        // A prime left over after the loop multiplies the smaller number: 18 = 2·3·3 gives [2, 3], then 3 → [6, 3].
        Assert.Equal((3, 6), Btt.Factorize(18));
    }

    [Fact]
    public void Btt_lowers_to_two_block_matmuls_the_second_reading_strided()
    {
        var layer = Lower("layer B : 12 -> 20 = btt(rank: 2);");
        Assert.Equal(new[]
        {
            "%1 = matmul %0, cores.0 groups=6 block=4x2 in=Contiguous out=Contiguous",
            "%2 = matmul %1, cores.1 groups=2 block=10x12 in=Strided out=Contiguous",
        }, Ops(layer, layer.Forward));
    }

    [Fact]
    public void Lowering_comments_say_what_each_op_does_where_it_stands()
    {
        // Comments go into the generated code wherever an op survives the passes (a transpose inside kron, for one).
        var monarch = Lower("layer M : 12 -> 20 = monarch(blocks: 4);");
        Assert.Equal(new[]
        {
            "monarch: first factor blockdiag(blkdiag1), 4 blocks of 3x3",
            "monarch: view as (3, 4) and transpose",
            "monarch: second factor blockdiag(blkdiag2), 4 blocks of 5x3",
            "monarch: view as (4, 5) and transpose",
        }, monarch.Forward.Ops.Select(op => op.Comment));
        var sparse = Lower("layer F : 8 -> 8 = blocksparse(block: 4, pattern: butterfly) + dense;");
        Assert.Equal(new[]
        {
            "terms.0 (blocksparse): block diagonal XOR 0, 2 blocks of 4x4",
            "terms.0 (blocksparse): block i reads block i XOR 1",
            "terms.0 (blocksparse): block diagonal XOR 1, 2 blocks of 4x4",
            "terms.0 (blocksparse): add block diagonal XOR 1",
            "terms.1 (dense): W [8, 8]",
            "sum: add term 1",
        }, sparse.Forward.Ops.Select(op => op.Comment));
        var backward = Differentiate.Run(Lower("layer S : 4 -> 4 = dense + diag();"));
        Assert.Contains(backward.Ops, op => op.Comment == "gradient of sum: add term 1, left");
        Assert.Contains(backward.Ops, op => op.Comment == "gradient of sum: add term 1, right");
    }

    [Fact]
    public void CostModel_counts_multiply_adds_of_the_block_matmuls()
    {
        // monarch 12 -> 20, 4 blocks: blkdiag1 4·3·3 = 36, blkdiag2 4·5·3 = 60.
        var layer = Lower("layer M : 12 -> 20 = monarch(blocks: 4);");
        Assert.Equal(96, CostModel.FlopsPerRow(layer.Forward));
    }
}
