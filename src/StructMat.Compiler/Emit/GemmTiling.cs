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
internal sealed record GemmTiling(int TileRows, int TileCols, int TileK, bool PadA, bool PadB)
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

    public int ThreadCols => TileCols / MicroCols;

    /// <summary>Micro-tiles per tile: the threads per group that compute the tile in one pass.</summary>
    public int MicroTiles => TileRows / MicroRows * ThreadCols;

    public int PitchA => TileRows + (PadA ? 1 : 0);

    public int PitchB => TileCols + (PadB ? 1 : 0);

    public int SharedBytes => sizeof(float) * TileK * (PitchA + PitchB);

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
        if ((long)groups * ((cols + tileCols - 1) / tileCols) > MaxColumnTiles) return null;
        var tileK = k is int n && n < MaxTileK ? n : MaxTileK;
        return new GemmTiling(tileRows, tileCols, tileK, reductionFastInA, reductionFastInB);
    }

    /// <summary>A tile edge for an extent: the next power of two, at most <see cref="MaxTile"/>.</summary>
    private static int Edge(int extent)
    {
        var edge = MicroCols;
        while (edge < extent && edge < MaxTile) edge *= 2;
        return edge;
    }
}
