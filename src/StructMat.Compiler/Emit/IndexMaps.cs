using System.Collections.Generic;
using System.Linq;
using StructMat.Compiler.IR;
using StructMat.Compiler.Semantics;

namespace StructMat.Compiler.Emit;

/// <summary>
/// Permutations become index maps computed once per layer type: a static <c>int[]</c> field per distinct
/// map (and its inverse, for backward), built by the runtime's <c>Permutations</c> definitions.
/// </summary>
internal static class IndexMaps
{
    public static string Field(GatherOp op) => op.Permutation switch
    {
        PermutationKind.Random => $"RandomMap{op.Width}Seed{op.Seed}",
        PermutationKind.BlockXor => $"BlockXorMap{op.Width}Block{op.Block}Distance{op.Seed}",
        _ => $"{op.Permutation}Map{op.Width}",
    } + (op.Inverse ? "Inverse" : "");

    public static IEnumerable<GatherOp> Distinct(LayerModel model) =>
        model.Optimized.Forward.Ops.Concat(model.Optimized.Backward.Ops).OfType<GatherOp>()
            .GroupBy(Field).Select(g => g.First()).OrderBy(op => op.Inverse).ThenBy(Field);

    public static void EmitFields(SourceWriter w, LayerModel model)
    {
        foreach (var op in Distinct(model))
        {
            var definition = op.Inverse
                ? $"{TypeNames.Permutations}.Inverse({Field(op with { Inverse = false })})"
                : op.Permutation switch
                {
                    PermutationKind.Reverse => $"{TypeNames.Permutations}.Reverse({op.Width})",
                    PermutationKind.BitReversal => $"{TypeNames.Permutations}.BitReversal({op.Width})",
                    PermutationKind.Shuffle => $"{TypeNames.Permutations}.PerfectShuffle({op.Width})",
                    PermutationKind.BlockXor => $"{TypeNames.Permutations}.BlockXor({op.Width}, block: {op.Block}, distance: {op.Seed})",
                    _ => $"{TypeNames.Permutations}.Random({op.Width}, seed: {op.Seed})",
                };
            w.Line($"private static readonly int[] {Field(op)} = {definition};");
        }
    }
}
