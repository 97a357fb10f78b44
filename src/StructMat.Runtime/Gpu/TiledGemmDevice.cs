using System;
using ILGPU;
using ILGPU.Runtime;

namespace StructMat.Runtime.Gpu;

/// <summary>
/// Element (g, x, y) of a buffer seen as a 3-index array: <c>[(g XOR GroupXor)·GroupStride + x·XStride + y·YStride]</c>.
/// A block layout (a folded Monarch permutation) is only different strides, a folded block swap (the flat block
/// butterfly's diagonals) only a different group, so a tile reads and writes the permuted positions directly.
/// </summary>
public readonly record struct GemmView(int GroupStride, int XStride, int YStride, int GroupXor = 0)
{
    /// <summary>The offset of element (<paramref name="g"/>, <paramref name="x"/>, <paramref name="y"/>).</summary>
    public int At(int g, int x, int y) => (g ^ GroupXor) * GroupStride + x * XStride + y * YStride;
}

/// <summary>How a <see cref="GemmShape"/> is tiled: a group of threads computes a <see cref="Rows"/> × <see cref="Cols"/>
/// tile of C within one block, stepping through the reduction <see cref="K"/> elements at a time; split-K cuts the
/// reduction into <see cref="Splits"/> slices (of <see cref="SliceK"/> elements when the reduction has a fixed length,
/// 0: the runtime rows divided evenly in whole steps).</summary>
public readonly record struct GemmTile(int Rows, int Cols, int K, int Splits = 1, int SliceK = 0);

/// <summary>Options of a <see cref="GemmShape"/>.</summary>
[Flags]
public enum GemmFlags
{
    None = 0,

    /// <summary>C += (not =) the product.</summary>
    Accumulate = 1,

    /// <summary>Tile A's shared rows are padded by one float (its staging stores transpose: the reduction index is the
    /// fast one of A in global memory), so a warp's stores do not all hit one shared-memory bank.</summary>
    PadA = 2,

    /// <summary>Tile B's shared rows are padded by one float (the same for B).</summary>
    PadB = 4,
}

/// <summary>
/// A grouped matrix product <c>C[g, r, c] (+)= Alpha · Σ_k A[g, r, k] · B[g, k, c]</c> over <see cref="Groups"/> blocks,
/// every extent and stride fixed by the compiler. <see cref="Rows"/> or <see cref="K"/> is 0 where it is the launch's
/// row count (the batch rows of a block product, the reduction of a weight gradient). The value is an ILGPU
/// <see cref="SpecializedValue{T}"/>: the kernel is compiled once per distinct shape with all of it as constants
/// (constant loop bounds, strides and guards, the shared tiles sized statically), as if each were written out by hand.
/// </summary>
public readonly record struct GemmShape(GemmView A, GemmView B, GemmView C, int Rows, int Cols, int K, int Groups, GemmTile Tile, float Alpha, GemmFlags Flags)
{
    /// <summary>The shape with its options spelled out (what generated layers write): α defaults to 1, every flag to off.</summary>
    public GemmShape(GemmView A, GemmView B, GemmView C, int Rows, int Cols, int K, int Groups, GemmTile Tile,
        float Alpha = 1.0f, bool Accumulate = false, bool PadA = false, bool PadB = false)
        : this(A, B, C, Rows, Cols, K, Groups, Tile, Alpha,
            (Accumulate ? GemmFlags.Accumulate : 0) | (PadA ? GemmFlags.PadA : 0) | (PadB ? GemmFlags.PadB : 0))
    {
    }

    /// <summary>Rows and columns of C each thread accumulates in registers.</summary>
    public const int MicroRows = 4, MicroCols = 4;

    /// <summary>Threads per tile row: the tile's columns over a micro-tile's.</summary>
    public int ThreadCols => Tile.Cols / MicroCols;

    /// <summary>Micro-tiles per tile: the threads per group that compute a tile in one pass.</summary>
    public int MicroTiles => Tile.Rows / MicroRows * ThreadCols;

    /// <summary>Column tiles per block.</summary>
    public int ColumnTiles => (Cols + Tile.Cols - 1) / Tile.Cols;

    /// <summary>Shared memory per group, in bytes.</summary>
    public int SharedBytes => sizeof(float) * Tile.K * (Tile.Rows + Pad(GemmFlags.PadA) + Tile.Cols + Pad(GemmFlags.PadB));

    /// <summary>The length of one plane of C (what one split-K slice writes) for <paramref name="rows"/> launch rows.</summary>
    public long PlaneLength(int rows) => Rows != 0 ? (long)Groups * Rows * Cols : (long)rows * C.XStride;

    private int Pad(GemmFlags flag) => (Flags & flag) != 0 ? 1 : 0;
}

/// <summary>
/// The tiled grouped GEMM of every block product on an ILGPU accelerator, shared by all generated layers: one kernel,
/// specialised per <see cref="GemmShape"/> (ILGPU compiles and caches a version per distinct shape), launched over
/// row tiles × column tiles of every block (× split-K slices). Both operand tiles are staged in shared memory, each
/// thread keeps a 4 × 4 micro-tile in registers, and the reduction runs in order, so sums are deterministic; a device
/// with fewer threads per group than micro-tiles (ILGPU's CPU accelerator: 16) takes them in passes. Split-K slices
/// write planes of partial sums that <see cref="SplitPartials"/> adds in slice order (no atomics).
/// One per layer twin (its partial-sum buffer is the twin's); not for concurrent use.
/// </summary>
public sealed class TiledGemmDevice : IDisposable
{
    private readonly Accelerator _accelerator;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, SpecializedValue<GemmShape>> _kernel;
    private SplitPartials? _partials;

    public TiledGemmDevice(Accelerator accelerator)
    {
        _accelerator = accelerator ?? throw new ArgumentNullException(nameof(accelerator));
        _kernel = KernelCache.GetOrLoad(accelerator, "StructMat.Runtime.Gpu.TiledGemm",
            a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, SpecializedValue<GemmShape>>(Kernel));
    }

    /// <summary>
    /// <c>C (+)= Alpha · A·B</c> as <paramref name="shape"/> describes, for <paramref name="rows"/> launch rows (the batch).
    /// </summary>
    public void Run(in GemmShape shape, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int rows)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        if (shape.Tile.Rows % GemmShape.MicroRows != 0 || shape.Tile.Cols % GemmShape.MicroCols != 0 || shape.Tile.K < 1 || shape.Tile.Splits < 1 || shape.Groups < 1)
        {
            throw new ArgumentException($"Not a tiling: {shape.Tile} for {shape.Groups} groups.", nameof(shape));
        }
        var rowTiles = ((shape.Rows != 0 ? shape.Rows : rows) + shape.Tile.Rows - 1) / shape.Tile.Rows;
        if (rowTiles == 0) return;
        var config = TiledLaunch.Config(_accelerator, rowTiles, shape.Groups * shape.ColumnTiles, shape.MicroTiles, shape.Tile.Splits);
        if (shape.Tile.Splits == 1)
        {
            _kernel(config, a, b, c, rows, SpecializedValue.New(shape));
            return;
        }
        var plane = shape.PlaneLength(rows);
        _partials ??= new SplitPartials(_accelerator);
        _kernel(config, a, b, _partials.Get(shape.Tile.Splits, plane), rows, SpecializedValue.New(shape));
        _partials.SumInto(c, shape.Tile.Splits, plane, shape.Alpha, (shape.Flags & GemmFlags.Accumulate) != 0);
    }

    public void Dispose() => _partials?.Dispose();

    private static void Kernel(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int rows, SpecializedValue<GemmShape> shape) =>
        Tile(a, b, c, rows, shape.Value);

    /// <summary>
    /// One group's tile. Every branch on <paramref name="s"/> is on a constant once the kernel is specialised, so each
    /// shape compiles to the straight code its own text would (guards only where an extent is not a multiple of its tile).
    /// With split-K, <paramref name="c"/> is the partial-sum planes and the result is stored unscaled.
    /// </summary>
    internal static void Tile(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int rows, GemmShape s)
    {
        const int MicroRows = GemmShape.MicroRows;
        int tileRows = s.Tile.Rows, tileCols = s.Tile.Cols, tileK = s.Tile.K;
        int threadCols = s.ThreadCols, microTiles = s.MicroTiles;
        bool padA = (s.Flags & GemmFlags.PadA) != 0, padB = (s.Flags & GemmFlags.PadB) != 0;
        int pitchA = tileRows + (padA ? 1 : 0), pitchB = tileCols + (padB ? 1 : 0);
        var tileA = SharedMemory.Allocate<float>(tileK * pitchA); // tileA[kk * pitchA + rr] = A at tile row rr, reduction index k0 + kk
        var tileB = SharedMemory.Allocate<float>(tileK * pitchB); // tileB[kk * pitchB + cc] = B at reduction index k0 + kk, tile column cc

        int rowsExtent = s.Rows != 0 ? s.Rows : rows, kExtent = s.K != 0 ? s.K : rows;
        bool split = s.Tile.Splits > 1;
        bool guardRows = s.Rows == 0 || s.Rows % tileRows != 0;
        bool guardCols = s.Cols % tileCols != 0;
        bool guardK = s.K == 0 || s.K % (split && s.Tile.SliceK != 0 ? s.Tile.SliceK : tileK) != 0;
        int columnTiles = s.ColumnTiles;
        int row0 = Grid.IdxX * tileRows;
        int g = columnTiles > 1 ? Grid.IdxY / columnTiles : Grid.IdxY; // block
        int col0 = columnTiles > 1 ? Grid.IdxY % columnTiles * tileCols : 0; // first column of the tile
        int kBegin = 0, kEnd = kExtent;
        long plane = 0;
        if (split)
        {
            // Grid z picks this group's slice of the reduction and its plane of partial sums.
            int slice = s.Tile.SliceK != 0 ? s.Tile.SliceK : (kExtent + s.Tile.Splits * tileK - 1) / (s.Tile.Splits * tileK) * tileK;
            kBegin = Grid.IdxZ * slice;
            kEnd = guardK ? Math.Min(kBegin + slice, kExtent) : kBegin + slice;
            plane = Grid.IdxZ * s.PlaneLength(rows);
        }

        for (int pass = 0; pass < microTiles; pass += Group.DimX)
        {
            if (guardRows && row0 + pass / threadCols * MicroRows >= rowsExtent) break; // the pass's rows are past the end (the same for the whole group)
            int t = pass + Group.IdxX;
            int row = t / threadCols * MicroRows, col = t % threadCols;
            float acc00 = 0.0f, acc01 = 0.0f, acc02 = 0.0f, acc03 = 0.0f;
            float acc10 = 0.0f, acc11 = 0.0f, acc12 = 0.0f, acc13 = 0.0f;
            float acc20 = 0.0f, acc21 = 0.0f, acc22 = 0.0f, acc23 = 0.0f;
            float acc30 = 0.0f, acc31 = 0.0f, acc32 = 0.0f, acc33 = 0.0f;
            for (int k0 = kBegin; k0 < kEnd; k0 += tileK)
            {
                // Stage A (tile rows x reduction step), zero past the end; consecutive threads walk the index that is
                // consecutive in global memory.
                for (int e = Group.IdxX; e < tileRows * tileK; e += Group.DimX)
                {
                    int rr = padA ? e / tileK : e % tileRows, kk = padA ? e % tileK : e / tileRows;
                    tileA[kk * pitchA + rr] = (!guardRows || row0 + rr < rowsExtent) && (!guardK || k0 + kk < kEnd) ? a[s.A.At(g, row0 + rr, k0 + kk)] : 0.0f;
                }
                // Stage B (reduction step x tile columns), zero past the end.
                for (int e = Group.IdxX; e < tileK * tileCols; e += Group.DimX)
                {
                    int cc = padB ? e / tileK : e % tileCols, kk = padB ? e % tileK : e / tileCols;
                    tileB[kk * pitchB + cc] = (!guardK || k0 + kk < kEnd) && (!guardCols || col0 + cc < s.Cols) ? b[s.B.At(g, k0 + kk, col0 + cc)] : 0.0f;
                }
                Group.Barrier();
                // Multiply the staged tiles into this thread's micro-tile.
                for (int kk = 0; kk < tileK; kk++)
                {
                    float a0 = tileA[kk * pitchA + row], a1 = tileA[kk * pitchA + row + 1], a2 = tileA[kk * pitchA + row + 2], a3 = tileA[kk * pitchA + row + 3];
                    float b0 = tileB[kk * pitchB + col], b1 = tileB[kk * pitchB + col + threadCols], b2 = tileB[kk * pitchB + col + 2 * threadCols], b3 = tileB[kk * pitchB + col + 3 * threadCols];
                    acc00 += a0 * b0; acc01 += a0 * b1; acc02 += a0 * b2; acc03 += a0 * b3;
                    acc10 += a1 * b0; acc11 += a1 * b1; acc12 += a1 * b2; acc13 += a1 * b3;
                    acc20 += a2 * b0; acc21 += a2 * b1; acc22 += a2 * b2; acc23 += a2 * b3;
                    acc30 += a3 * b0; acc31 += a3 * b1; acc32 += a3 * b2; acc33 += a3 * b3;
                }
                Group.Barrier();
            }

            // Write the micro-tile (to this slice's plane when split), skipping rows and columns past the end.
            int at = s.C.At(g, row0 + row, col0 + col);
            int rowsLeft = guardRows ? rowsExtent - (row0 + row) : MicroRows;
            int colsLeft = guardCols ? s.Cols - (col0 + col) : int.MaxValue; // column j of the micro-tile is col + j·threadCols
            int dx = s.C.XStride, dy = threadCols * s.C.YStride;
            int mode = split ? StorePartial : (s.Flags & GemmFlags.Accumulate) != 0 ? StoreAdd : StoreSet;
            if (rowsLeft > 0)
            {
                Store(c, mode, s.Alpha, plane + at, acc00, colsLeft > 0); Store(c, mode, s.Alpha, plane + at + dy, acc01, colsLeft > threadCols);
                Store(c, mode, s.Alpha, plane + at + 2 * dy, acc02, colsLeft > 2 * threadCols); Store(c, mode, s.Alpha, plane + at + 3 * dy, acc03, colsLeft > 3 * threadCols);
            }
            if (rowsLeft > 1)
            {
                Store(c, mode, s.Alpha, plane + at + dx, acc10, colsLeft > 0); Store(c, mode, s.Alpha, plane + at + dx + dy, acc11, colsLeft > threadCols);
                Store(c, mode, s.Alpha, plane + at + dx + 2 * dy, acc12, colsLeft > 2 * threadCols); Store(c, mode, s.Alpha, plane + at + dx + 3 * dy, acc13, colsLeft > 3 * threadCols);
            }
            if (rowsLeft > 2)
            {
                Store(c, mode, s.Alpha, plane + at + 2 * dx, acc20, colsLeft > 0); Store(c, mode, s.Alpha, plane + at + 2 * dx + dy, acc21, colsLeft > threadCols);
                Store(c, mode, s.Alpha, plane + at + 2 * dx + 2 * dy, acc22, colsLeft > 2 * threadCols); Store(c, mode, s.Alpha, plane + at + 2 * dx + 3 * dy, acc23, colsLeft > 3 * threadCols);
            }
            if (rowsLeft > 3)
            {
                Store(c, mode, s.Alpha, plane + at + 3 * dx, acc30, colsLeft > 0); Store(c, mode, s.Alpha, plane + at + 3 * dx + dy, acc31, colsLeft > threadCols);
                Store(c, mode, s.Alpha, plane + at + 3 * dx + 2 * dy, acc32, colsLeft > 2 * threadCols); Store(c, mode, s.Alpha, plane + at + 3 * dx + 3 * dy, acc33, colsLeft > 3 * threadCols);
            }
        }
    }

    private const int StoreSet = 0, StoreAdd = 1, StorePartial = 2;

    /// <summary>One element of the micro-tile: C = Alpha · sum, C += Alpha · sum, or a partial sum as it is.</summary>
    private static void Store(ArrayView<float> c, int mode, float alpha, long at, float sum, bool inside)
    {
        if (!inside) return;
        var scaled = mode == StorePartial || alpha == 1.0f ? sum : alpha * sum;
        if (mode == StoreAdd) c[at] += scaled;
        else c[at] = scaled;
    }
}
