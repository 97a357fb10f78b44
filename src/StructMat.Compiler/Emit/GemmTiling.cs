namespace StructMat.Compiler.Emit;

/// <summary>
/// The tile shape of a shared-memory tiled block product, chosen from the op's shape at code generation:
/// a group of threads computes a <see cref="TileRows"/> × <see cref="TileCols"/> tile of C (within one block),
/// stepping through the reduction <see cref="TileK"/> elements at a time with both operand tiles staged in
/// shared memory; each thread keeps a <see cref="MicroRows"/> × <see cref="MicroCols"/> micro-tile of C in registers.
/// Must be immutable and structurally equatable.
/// </summary>
/// <param name="PadA">Whether tile A's shared rows are padded by one float: when the reduction index varies fastest
/// in global memory, the staging loop stores transposed, and an unpadded pitch (a multiple of 32) would put every
/// thread of a warp on one shared-memory bank.</param>
/// <param name="Splits">Split-K: how many slices the reduction is cut into, each computed by its own groups into a
/// partial-sum plane and summed in slice order afterwards (deterministic). 1: no split.</param>
/// <param name="SliceK">The reduction length of a slice when the reduction has a compile-time length (a multiple of
/// <see cref="TileK"/>); null when it is the runtime batch (the kernel divides it by <see cref="Splits"/>).</param>
internal sealed record GemmTiling(int TileRows, int TileCols, int TileK, bool PadA, bool PadB, int Splits = 1, int? SliceK = null)
{
    /// <summary>Rows (and columns) of C each thread accumulates.</summary>
    public const int MicroRows = 4;

    public const int MicroCols = 4;

    /// <summary>The largest tile edge: a 64 × 64 tile of 4 × 4 micro-tiles is 256 threads.</summary>
    public const int MaxTile = 64;

    /// <summary>The reduction step: 16 keeps a 64 × 64 tile's operands at 8 KB of shared memory.</summary>
    public const int MaxTileK = 16;

    /// <summary>CUDA's limit on a grid's y extent, which counts the column tiles of all blocks.</summary>
    public const int MaxColumnTiles = 65535;

    /// <summary>
    /// Split-K aims at this many groups per 64 batch rows (a batch of 1024 then launches ≥ 256 groups, about two
    /// per multiprocessor of a large GPU) when the output alone gives fewer: a low-rank factor's 64 outputs with a
    /// 4096-long reduction would otherwise be one group per 64 rows.
    /// </summary>
    public const int TargetGroupsPerRowTile = 16;

    /// <summary>The same target for weight gradients, whose tiles do not grow with the batch.</summary>
    public const int TargetGradientGroups = 256;

    /// <summary>A slice of a compile-time reduction is at least this long, so partial sums stay small beside the work.</summary>
    public const int MinSliceK = 256;

    /// <summary>At most this many slices: partial-sum planes cost memory (a weight gradient's plane is the weight's size).</summary>
    public const int MaxSplits = 16;

    /// <summary>Weight gradients smaller than this (elements) are not split: too little work to matter on a GPU.</summary>
    public const int MinSplitGradient = 16384;

    public int ThreadCols => TileCols / MicroCols;

    /// <summary>Micro-tiles per tile: the threads per group that compute the tile in one pass.</summary>
    public int MicroTiles => TileRows / MicroRows * ThreadCols;

    public int PitchA => TileRows + (PadA ? 1 : 0);

    public int PitchB => TileCols + (PadB ? 1 : 0);

    public int SharedBytes => sizeof(float) * TileK * (PitchA + PitchB);

    public bool IsSplit => Splits > 1;

    /// <summary>
    /// The tiling for C = [rows, cols] per block with reduction length k (null: the runtime batch rows).
    /// Null when a tile does not fit: blocks with fewer than <see cref="MicroCols"/> columns or rows (butterfly's
    /// 2 × 2) use the simple one-thread-per-output kernel, as do ops whose column tiles exceed a grid's y extent.
    /// </summary>
    public static GemmTiling? Choose(int? rows, int cols, int? k, int groups, bool reductionFastInA, bool reductionFastInB)
    {
        if (cols < MicroCols || rows < MicroRows) return null;
        var tileCols = Edge(cols);
        var tileRows = rows is int r ? Edge(r) : MaxTile;
        var columnTiles = (long)groups * ((cols + tileCols - 1) / tileCols);
        if (columnTiles > MaxColumnTiles) return null;
        var tileK = k is int n && n < MaxTileK ? n : MaxTileK;
        var tiling = new GemmTiling(tileRows, tileCols, tileK, reductionFastInA, reductionFastInB);
        if (rows is null && k is int length)
        {
            // Batch-row tiles: split a long reduction when the output has few column tiles.
            var splits = (int)System.Math.Min(System.Math.Min(length / MinSliceK, MaxSplits), (TargetGroupsPerRowTile + columnTiles - 1) / columnTiles);
            if (splits < 2) return tiling;
            var slice = (length + splits - 1) / splits;
            slice = (slice + tileK - 1) / tileK * tileK;
            return tiling with { Splits = (length + slice - 1) / slice, SliceK = slice };
        }
        if (rows is int outputs && k is null)
        {
            // Weight gradient: a fixed number of tiles, each reducing over the whole batch.
            var tiles = columnTiles * ((outputs + tileRows - 1) / tileRows);
            var splits = (int)System.Math.Min(MaxSplits, (TargetGradientGroups + tiles - 1) / tiles);
            return splits < 2 || (long)groups * outputs * cols < MinSplitGradient ? tiling : tiling with { Splits = splits };
        }
        return tiling;
    }

    /// <summary>A tile edge for an extent: the next power of two, at most <see cref="MaxTile"/>.</summary>
    private static int Edge(int extent)
    {
        var edge = MicroCols;
        while (edge < extent && edge < MaxTile) edge *= 2;
        return edge;
    }
}
