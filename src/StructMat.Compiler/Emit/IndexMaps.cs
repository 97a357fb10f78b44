using System.Collections.Generic;
using System.Linq;
using StructMat.Compiler.IR;

namespace StructMat.Compiler.Emit;

/// <summary>
/// Permutations become index maps computed once per layer type: a static <c>int[]</c> field per distinct
/// map (and its inverse, for backward), built by the runtime's <c>Permutations</c> definitions.
/// </summary>
internal static class IndexMaps
{
    public static string Field(GatherOp op) => op.Map.Kind switch
    {
        IndexMapKind.Random => $"RandomMap{op.Width}Seed{op.Map.Seed}",
        IndexMapKind.BlockXor => $"BlockXorMap{op.Width}Block{op.Map.Block}Distance{op.Map.Distance}",
        IndexMapKind.BlockButterfly => $"BlockButterflyMap{op.Width}Group{op.Map.Group}Block{op.Map.Block}",
        _ => $"{op.Map.Kind}Map{op.Width}",
    } + (op.Inverse ? "Inverse" : "");

    public static IEnumerable<GatherOp> Distinct(LayerModel model) =>
        model.Optimized.Forward.Ops.Concat(model.Optimized.Backward.Ops).OfType<GatherOp>()
            .GroupBy(Field).Select(g => g.First()).OrderBy(op => op.Inverse).ThenBy(Field);

    /// <summary>The runtime call that builds a map.</summary>
    public static string Definition(IndexMap map) => map.Kind switch
    {
        IndexMapKind.Reverse => $"{TypeNames.Permutations}.Reverse({map.Width})",
        IndexMapKind.BitReversal => $"{TypeNames.Permutations}.BitReversal({map.Width})",
        IndexMapKind.Shuffle => $"{TypeNames.Permutations}.PerfectShuffle({map.Width})",
        IndexMapKind.BlockXor => $"{TypeNames.Permutations}.BlockXor({map.Width}, block: {map.Block}, distance: {map.Distance})",
        IndexMapKind.BlockButterfly => $"{TypeNames.Permutations}.BlockButterfly({map.Width}, group: {map.Group}, block: {map.Block})",
        _ => $"{TypeNames.Permutations}.Random({map.Width}, seed: {map.Seed})",
    };

    public static void EmitFields(SourceWriter w, LayerModel model)
    {
        foreach (var op in Distinct(model))
        {
            var definition = op.Inverse ? $"{TypeNames.Permutations}.Inverse({Field(op with { Inverse = false })})" : Definition(op.Map);
            w.Line($"private static readonly int[] {Field(op)} = {definition};");
        }
    }
}
