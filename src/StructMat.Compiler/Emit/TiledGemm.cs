using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace StructMat.Compiler.Emit;

/// <summary>
/// Element (g, x, y) of a buffer seen as a 3-index array: <c>Name[(g XOR GroupXor)·GroupStride + x·XStride + y·YStride]</c>
/// (the runtime's <c>GemmView</c>). Block layouts (a folded Monarch permutation is a strided layout) are only different
/// strides, and a folded block swap (the flat block butterfly's diagonals) only a different group, so the tile loads and
/// stores read and write the permuted positions directly and no permute or gather kernel runs. Must be immutable and
/// structurally equatable.
/// </summary>
internal sealed record AffineView(string Name, int GroupStride, int XStride, int YStride, int GroupXor = 0);

/// <summary>
/// A grouped matrix product <c>C[g, r, c] (+)= Alpha · Σ_k A[g, r, k] · B[g, k, c]</c> over <see cref="Groups"/> blocks,
/// run by the runtime's shared tiled kernel (<c>TiledGemmDevice</c>), which ILGPU specialises on the
/// <c>GemmShape</c> literal written here (<see cref="ShapeLiteral"/>): every extent, stride and tile size is a
/// constant of the compiled kernel, as when each layer carried its own copy. A null extent is the runtime row count
/// (the launch's <c>rows</c>): the batch rows for matmuls, the reduction for weight gradients.
/// Must be immutable and structurally equatable.
/// </summary>
internal sealed record TiledGemm(AffineView A, AffineView B, AffineView C, int? Rows, int Cols, int? K, int Groups,
    float Alpha, bool Accumulate)
{
    /// <summary>The tiling, or null when a tile does not fit this product (tiny blocks).</summary>
    public GemmTiling? Tiling => GemmTiling.Choose(Rows, Cols, K, Groups,
        reductionFastInA: A.YStride <= A.XStride, reductionFastInB: B.XStride <= B.YStride);

    /// <summary>The <c>GemmShape</c> constructor call that describes this product to the runtime kernel (α 1 and off flags left out).</summary>
    public string ShapeLiteral(GemmTiling t)
    {
        var options = new List<string>();
        if (Alpha != 1f) options.Add($"Alpha: {CSharp.Float(Alpha)}");
        if (Accumulate) options.Add("Accumulate: true");
        if (t.PadA) options.Add("PadA: true");
        if (t.PadB) options.Add("PadB: true");
        var tile = string.Join(", ", new[] { t.TileRows, t.TileCols, t.TileK }.Select(Int))
            + (t.IsSplit ? $", Splits: {Int(t.Splits)}" : "") + (t.SliceK is int slice ? $", SliceK: {Int(slice)}" : "");
        return $"new(A: {View(A)}, B: {View(B)}, C: {View(C)}, Rows: {Int(Rows ?? 0)}, Cols: {Int(Cols)}, K: {Int(K ?? 0)}, Groups: {Int(Groups)}, " +
               $"Tile: new({tile}){string.Concat(options.Select(o => ", " + o))})";
    }

    private static string View(AffineView view) =>
        $"new({Int(view.GroupStride)}, {Int(view.XStride)}, {Int(view.YStride)}{(view.GroupXor != 0 ? $", GroupXor: {Int(view.GroupXor)}" : "")})";

    private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);
}
