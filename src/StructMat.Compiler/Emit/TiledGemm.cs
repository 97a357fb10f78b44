using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace StructMat.Compiler.Emit;

/// <summary>
/// Element (g, x, y) of a buffer seen as a 3-index array: <c>Name[(g XOR GroupXor)·GroupStride + x·XStride + y·YStride]</c>.
/// Block layouts (a folded Monarch permutation is a strided layout) are only different strides, and a folded block
/// swap (the flat block butterfly's diagonals) only a different group, so the tile loads and stores read and write
/// the permuted positions directly and no permute or gather kernel runs. Must be immutable and structurally equatable.
/// </summary>
internal sealed record AffineView(string Name, int GroupStride, int XStride, int YStride, int GroupXor = 0);

/// <summary>
/// A grouped matrix product <c>C[g, r, c] (+)= Alpha · Σ_k A[g, r, k] · B[g, k, c]</c> over <see cref="Groups"/> blocks,
/// emitted as a shared-memory tiled ILGPU kernel (<see cref="Body"/>). A null extent is the runtime row count
/// (the kernel's <c>rows</c> parameter): the batch rows for matmuls, the reduction for weight gradients.
/// Must be immutable and structurally equatable.
/// </summary>
internal sealed record TiledGemm(AffineView A, AffineView B, AffineView C, int? Rows, int Cols, int? K, int Groups,
    float Alpha, bool Accumulate, string RowsMeaning, string ColsMeaning, string KMeaning)
{
    private const string RuntimeRows = "rows";

    /// <summary>The split-K kernel's output parameter: one plane of C per slice, summed by the runtime's SplitPartials.</summary>
    public const string Partials = "partials";

    /// <summary>The tiling, or null when a tile does not fit this product (tiny blocks).</summary>
    public GemmTiling? Tiling => GemmTiling.Choose(Rows, Cols, K, Groups,
        reductionFastInA: A.YStride <= A.XStride, reductionFastInB: B.XStride <= B.YStride);

    /// <summary>Column tiles per block; the grid's y extent is <see cref="Groups"/> times this.</summary>
    public static int ColumnTiles(GemmTiling tiling, int cols) => (cols + tiling.TileCols - 1) / tiling.TileCols;

    /// <summary>The comment lines that describe the tiling, after the kernel's one-line description.</summary>
    public string[] Notes(GemmTiling t) => new[]
    {
        $"Tiled grouped GEMM: a group of threads computes a {t.TileRows} x {t.TileCols} tile of {C.Name} (rows: {RowsMeaning}; columns: {ColsMeaning}).",
        $"The reduction runs over {KMeaning}, {t.TileK} per step and in order (so sums are deterministic), with both operand",
        $"tiles staged in shared memory ({t.SharedBytes.ToString("N0", CultureInfo.InvariantCulture)} bytes). Each thread accumulates a {GemmTiling.MicroRows} x {GemmTiling.MicroCols} micro-tile in registers.",
        $"{t.MicroTiles} threads per group; a smaller group (ILGPU's CPU accelerator has 16) takes the micro-tiles in passes.",
    }.Concat(t.IsSplit ? new[]
    {
        $"Split-K: the reduction is cut into {t.Splits} slices{(t.SliceK is int slice ? $" of {slice}" : " of whole steps")} (grid z), each written to its own plane of partials;",
        $"SplitPartials then sums the planes in slice order into {C.Name}{(Alpha != 1f ? ", scaling" : "")}{(Accumulate ? ", accumulating" : "")}.",
    } : System.Array.Empty<string>()).ToArray();

    public string[] Body(GemmTiling t)
    {
        var rowsExtent = Rows?.ToString(CultureInfo.InvariantCulture) ?? RuntimeRows;
        var kExtent = K?.ToString(CultureInfo.InvariantCulture) ?? RuntimeRows;
        var guardRows = Rows is not int rows || rows % t.TileRows != 0;
        var guardCols = Cols % t.TileCols != 0;
        var guardK = K is not int k || k % (t.SliceK ?? t.TileK) != 0;
        var (kBegin, kEnd) = t.IsSplit ? ("kBegin", "kEnd") : ("0", kExtent);
        var columnTiles = ColumnTiles(t, Cols);
        var hasGroup = Groups > 1;
        var hasCol0 = columnTiles > 1;
        string Col0(string offset) => hasCol0 ? $"col0 + {offset}" : offset;
        string At(AffineView view, string x, string y) => $"{view.Name}[{Offset(view, hasGroup, x, y)}]";

        var lines = new List<string>
        {
            $"const int TileRows = {t.TileRows}, TileCols = {t.TileCols}, TileK = {t.TileK}; // C tile ({RowsMeaning} x {ColsMeaning}) and reduction step",
            $"const int MicroRows = {GemmTiling.MicroRows}, ThreadCols = {t.ThreadCols}, MicroTiles = {t.MicroTiles}; // thread t: rows MicroRows·(t / ThreadCols) + 0..3, columns t % ThreadCols + ThreadCols·(0..3)",
            $"const int PitchA = {t.PitchA}, PitchB = {t.PitchB}; // shared row pitches{(t.PadA || t.PadB ? " (padded where the staging stores transpose)" : "")}",
            $"var tileA = {TypeNames.SharedMemory}.Allocate<float>(TileK * PitchA); // tileA[kk * PitchA + rr] = {A.Name} at tile row rr, reduction index k0 + kk",
            $"var tileB = {TypeNames.SharedMemory}.Allocate<float>(TileK * PitchB); // tileB[kk * PitchB + cc] = {B.Name} at reduction index k0 + kk, tile column cc",
            $"int row0 = {TypeNames.Grid}.IdxX * TileRows;",
        };
        if (hasGroup && hasCol0) lines.Add($"int g = {TypeNames.Grid}.IdxY / {columnTiles}, col0 = {TypeNames.Grid}.IdxY % {columnTiles} * TileCols; // block, first column of the tile");
        else if (hasGroup) lines.Add($"int g = {TypeNames.Grid}.IdxY; // block");
        else if (hasCol0) lines.Add($"int col0 = {TypeNames.Grid}.IdxY * TileCols; // first column of the tile");
        if (t.IsSplit)
        {
            // Split-K: grid z picks this group's slice of the reduction and its plane of partial sums.
            if (t.SliceK is int slice)
            {
                lines.Add($"const int SliceK = {slice}; // split-K: the reduction is cut into {t.Splits} slices, grid z picks one");
                lines.Add(guardK ? $"int kBegin = {TypeNames.Grid}.IdxZ * SliceK, kEnd = {TypeNames.Math}.Min(kBegin + SliceK, {kExtent});" : $"int kBegin = {TypeNames.Grid}.IdxZ * SliceK, kEnd = kBegin + SliceK;");
            }
            else
            {
                lines.Add($"const int Splits = {t.Splits}; // split-K: the batch rows are cut into {t.Splits} slices of whole steps, grid z picks one");
                lines.Add($"int slice = ({kExtent} + Splits * TileK - 1) / (Splits * TileK) * TileK;");
                lines.Add($"int kBegin = {TypeNames.Grid}.IdxZ * slice, kEnd = {TypeNames.Math}.Min(kBegin + slice, {kExtent});");
            }
            var plane = Rows is int outputs ? $"{(long)Groups * outputs * Cols}L" : $"((long){rowsExtent} * {C.XStride})";
            lines.Add($"long plane = {TypeNames.Grid}.IdxZ * {plane}; // where this slice's partial sums of {C.Name} start in partials");
        }
        lines.Add($"for (int pass = 0; pass < MicroTiles; pass += {TypeNames.Group}.DimX)");
        lines.Add("{");
        if (guardRows)
        {
            lines.Add($"    if (row0 + pass / ThreadCols * MicroRows >= {rowsExtent}) break; // the pass's rows are past the end (the same for the whole group)");
        }
        lines.Add($"    int t = pass + {TypeNames.Group}.IdxX;");
        lines.Add("    int row = t / ThreadCols * MicroRows, col = t % ThreadCols;");
        for (var i = 0; i < GemmTiling.MicroRows; i++)
        {
            lines.Add("    float " + string.Join(", ", Enumerable.Range(0, GemmTiling.MicroCols).Select(j => $"{Acc(i, j)} = 0.0f")) + ";");
        }
        lines.Add($"    for (int k0 = {kBegin}; k0 < {kEnd}; k0 += TileK)");
        lines.Add("    {");

        // Stage tile A; consecutive threads walk the index that is consecutive in global memory.
        var guardsA = new List<string>();
        if (guardRows) guardsA.Add($"row0 + rr < {rowsExtent}");
        if (guardK) guardsA.Add($"k0 + kk < {kEnd}");
        lines.Add($"        // Stage {A.Name}: {t.TileRows} x {t.TileK}{(guardsA.Count > 0 ? ", zero past the end" : "")}.");
        lines.Add($"        for (int e = {TypeNames.Group}.IdxX; e < TileRows * TileK; e += {TypeNames.Group}.DimX)");
        lines.Add("        {");
        lines.Add(t.PadA ? "            int rr = e / TileK, kk = e % TileK;" : "            int kk = e / TileRows, rr = e % TileRows;");
        lines.Add($"            tileA[kk * PitchA + rr] = {Guarded(guardsA, At(A, "row0 + rr", "k0 + kk"))};");
        lines.Add("        }");

        var guardsB = new List<string>();
        if (guardK) guardsB.Add($"k0 + kk < {kEnd}");
        if (guardCols) guardsB.Add($"{Col0("cc")} < {Cols}");
        lines.Add($"        // Stage {B.Name}: {t.TileK} x {t.TileCols}{(guardsB.Count > 0 ? ", zero past the end" : "")}.");
        lines.Add($"        for (int e = {TypeNames.Group}.IdxX; e < TileK * TileCols; e += {TypeNames.Group}.DimX)");
        lines.Add("        {");
        lines.Add(t.PadB ? "            int cc = e / TileK, kk = e % TileK;" : "            int kk = e / TileCols, cc = e % TileCols;");
        lines.Add($"            tileB[kk * PitchB + cc] = {Guarded(guardsB, At(B, "k0 + kk", Col0("cc")))};");
        lines.Add("        }");
        lines.Add($"        {TypeNames.Group}.Barrier();");

        lines.Add("        // Multiply the staged tiles into this thread's micro-tile.");
        lines.Add("        for (int kk = 0; kk < TileK; kk++)");
        lines.Add("        {");
        lines.Add("            float " + string.Join(", ", Enumerable.Range(0, GemmTiling.MicroRows).Select(i => $"a{i} = tileA[kk * PitchA + row{Plus(i)}]")) + ";");
        lines.Add("            float " + string.Join(", ", Enumerable.Range(0, GemmTiling.MicroCols).Select(j => $"b{j} = tileB[kk * PitchB + col{(j == 0 ? "" : j == 1 ? " + ThreadCols" : $" + {j} * ThreadCols")}]")) + ";");
        for (var i = 0; i < GemmTiling.MicroRows; i++)
        {
            lines.Add("            " + string.Join(" ", Enumerable.Range(0, GemmTiling.MicroCols).Select(j => $"{Acc(i, j)} += a{i} * b{j};")));
        }
        lines.Add("        }");
        lines.Add($"        {TypeNames.Group}.Barrier();");
        lines.Add("    }");

        // Epilogue: scale, store or accumulate, skipping rows and columns past the end.
        lines.Add($"    // Write the micro-tile{(t.IsSplit ? " to this slice's plane" : "")}{(guardRows || guardCols ? ", skipping rows and columns past the end" : "")}.");
        lines.Add($"    int at = {Offset(C, hasGroup, "row0 + row", Col0("col"))};");
        for (var i = 0; i < GemmTiling.MicroRows; i++)
        {
            var stores = new List<string>();
            for (var j = 0; j < GemmTiling.MicroCols; j++)
            {
                var offset = i * C.XStride + j * t.ThreadCols * C.YStride;
                var store = t.IsSplit
                    ? $"{Partials}[plane + at{Plus(offset)}] = {Acc(i, j)};"
                    : GpuKernelBuilder.Store(C.Name, "at" + Plus(offset), Alpha, Accumulate, Acc(i, j));
                stores.Add(guardCols && j > 0 ? $"if ({Col0("col")} + {j * t.ThreadCols} < {Cols}) {store}"
                         : guardCols ? $"if ({Col0("col")} < {Cols}) {store}" : store);
            }
            if (guardRows)
            {
                lines.Add($"    if (row0 + row{Plus(i)} < {rowsExtent})");
                lines.Add("    {");
                lines.AddRange(stores.Select(s => "        " + s));
                lines.Add("    }");
            }
            else
            {
                lines.AddRange(stores.Select(s => "    " + s));
            }
        }
        lines.Add("}");
        return lines.ToArray();
    }

    private static string Acc(int i, int j) => $"acc{i}{j}";

    private static string Plus(int offset) => offset == 0 ? "" : $" + {offset.ToString(CultureInfo.InvariantCulture)}";

    private static string Guarded(List<string> guards, string value) =>
        guards.Count == 0 ? value : $"{string.Join(" && ", guards)} ? {value} : 0.0f";

    /// <summary>The offset of element (g, x, y), its terms ordered by stride, largest first (row-major reading order).</summary>
    private static string Offset(AffineView view, bool hasGroup, string x, string y)
    {
        // Atomic terms need no parentheses: a name, or the block-swap group already parenthesised.
        var terms = new List<(string Expression, int Stride, bool Atomic)> { (x, view.XStride, !x.Contains(" ")), (y, view.YStride, !y.Contains(" ")) };
        if (hasGroup) terms.Add(view.GroupXor == 0 ? ("g", view.GroupStride, true) : ($"(g ^ {view.GroupXor.ToString(CultureInfo.InvariantCulture)})", view.GroupStride, true));
        var text = string.Join(" + ", terms.Where(term => term.Stride != 0).OrderByDescending(term => term.Stride).Select(term =>
            term.Stride == 1 ? term.Expression
            : term.Atomic ? $"{term.Expression} * {term.Stride}" : $"({term.Expression}) * {term.Stride}"));
        return text.Length == 0 ? "0" : text;
    }
}
