using System;
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace StructMat.Runtime.Kernels;

/// <summary>
/// Grouped products whose groups are interleaved in memory (group stride 1 — the strided layout that a folded
/// Monarch or butterfly permutation produces) run with the groups as the vector lanes: one vector holds the same
/// <c>(m, k)</c> element of 16 consecutive groups, so every load and store is a whole vector and no element is
/// scattered. A 4 × 4 tile of such vectors stays in registers while <c>K</c> streams past it.
/// </summary>
/// <remarks>
/// Each element is summed as <see cref="Gemm"/> sums it, but with its own depth: fused multiply-adds in <c>k</c> order,
/// restarted every <see cref="Depth"/> and folded into <c>C</c> with one fused multiply-add. Which products run here is
/// <see cref="BlockProductPlanner"/>'s choice: for forward and transposed products it depends on their layouts and
/// group count only, never on the batch, so a row's result never depends on the batch it came with. (A weight
/// gradient, which sums over the batch, takes this engine once the batch reaches
/// <see cref="BlockProductPlanner.LanesGradientMinimumDepth"/>.)
/// </remarks>
internal static unsafe class GroupLanes
{
    private const int Tile = 4;

    /// <summary>Depth of one pass over <c>K</c>; fixes this engine's summation order (see remarks).</summary>
    public const int Depth = 64;

    /// <summary>Column tiles whose B panels share L1 while a row tile of A passes them.</summary>
    private const int TilesPerGroup = 4;

    /// <summary>Rows whose A slice (one cache line per (row, k) and lane block) stays in L2 while every column passes.</summary>
    private const int RowsPerCacheTile = 32;

    private static readonly bool Wide = Vector512.IsHardwareAccelerated;

    /// <summary>Groups per vector.</summary>
    public static readonly int Lanes = VectorSupport.Current.Lanes;

    /// <summary>
    /// Runs a non-empty grouped product that suits the lanes (see <see cref="BlockProductPlanner.ForGroupedProduct"/>):
    /// groups a multiple of <see cref="Lanes"/>, A interleaving them, no group XOR.
    /// </summary>
    public static void Run(in GroupedProduct product)
    {
        var p = product;
        int lanes = Lanes;
        int blocks = p.Groups / lanes;
        float[]? packedB = null, laneC = null;
        bool ownsB = true;
        try
        {
            // B is packed as [block][column tile][k][column][lane] (zero past N) so each tile's panel streams
            // sequentially; read in place, a power-of-two stride would map every k to the same L1 sets.
            int tiles = (p.N + Tile - 1) / Tile;
            packedB = PackCache.BufferForB(p, engine: 1, checked(p.Groups * p.K * tiles * Tile), out bool fresh, out ownsB);
            bool gatherC = p.CGroupStride != 1;
            if (gatherC) laneC = ArrayPool<float>.Shared.Rent(checked(p.Groups * p.M * p.N));
            fixed (float* pb = packedB, pc = laneC)
            {
                if (fresh) PackB(p, pb);
                if (gatherC && p.Accumulate) MoveC(p, pc, toLanes: true);
                var job = new LaneJob(p, pb, pc);
                long work = (long)p.Groups * p.M * p.N * p.K;
                if (p.M >= 64)
                {
                    int rowTiles = (p.M + Tile - 1) / Tile;
                    KernelThreading.Split(work, rowTiles, KernelThreading.BalancingChunks,
                        (start, end) => job.Execute(0, blocks, start * Tile, Math.Min(job.Product.M, end * Tile)));
                }
                else
                {
                    // Few rows: one lane block per chunk.
                    KernelThreading.Split(work, blocks, blocks, (b0, b1) => job.Execute(b0, b1, 0, job.Product.M));
                }
                if (gatherC) MoveC(p, pc, toLanes: false);
            }
        }
        finally
        {
            if (packedB is not null && ownsB) ArrayPool<float>.Shared.Return(packedB);
            if (laneC is not null) ArrayPool<float>.Shared.Return(laneC);
        }
    }

    private static void PackB(in GroupedProduct p, float* target)
    {
        int lanes = Lanes;
        int tiles = (p.N + Tile - 1) / Tile;
        long tileSize = (long)p.K * Tile * lanes;
        if (p.BGroupStride == 1)
        {
            // The groups already interleave: whole lane vectors are copied, in B's memory order (k outermost) so
            // that B — activations, in a weight gradient — streams through once instead of page by page.
            int blocks = p.Groups / lanes;
            for (int k = 0; k < p.K; k++)
                for (int n = 0; n < tiles * Tile; n++)
                {
                    float* from = p.B.Data + k * p.B.RowStride + n * p.B.ColStride;
                    float* to = target + ((long)(n / Tile) * p.K + k) * Tile * lanes + (n % Tile) * lanes;
                    for (int block = 0; block < blocks; block++, from += lanes, to += tiles * tileSize)
                    {
                        if (n >= p.N) new Span<float>(to, lanes).Clear();
                        else if (Wide) Vector512.Load(from).Store(to);
                        else Vector256.Load(from).Store(to);
                    }
                }
            return;
        }
        for (int g = 0; g < p.Groups; g++)
        {
            float* source = p.B.Data + g * p.BGroupStride;
            float* block = target + (g / lanes) * tiles * tileSize + g % lanes;
            for (int t = 0; t < tiles; t++)
            {
                float* panel = block + t * tileSize;
                for (int k = 0; k < p.K; k++)
                    for (int j = 0; j < Tile; j++)
                    {
                        int n = t * Tile + j;
                        panel[((long)k * Tile + j) * lanes] = n < p.N ? source[k * p.B.RowStride + n * p.B.ColStride] : 0f;
                    }
            }
        }
    }

    /// <summary>Copies C between its own layout and lanes <c>[block][m][n][lane]</c>.</summary>
    private static void MoveC(in GroupedProduct p, float* laneC, bool toLanes)
    {
        int lanes = Lanes;
        for (int g = 0; g < p.Groups; g++)
        {
            float* c = p.C.Data + g * p.CGroupStride;
            float* block = laneC + (long)(g / lanes) * p.M * p.N * lanes + g % lanes;
            for (int m = 0; m < p.M; m++)
                for (int n = 0; n < p.N; n++)
                {
                    ref float own = ref c[m * p.C.RowStride + n * p.C.ColStride];
                    ref float lane = ref block[((long)m * p.N + n) * lanes];
                    if (toLanes) lane = own;
                    else own = lane;
                }
        }
    }

    private sealed class LaneJob
    {
        private readonly float* _packedB;
        private readonly float* _laneC;

        public LaneJob(GroupedProduct product, float* packedB, float* laneC)
        {
            Product = product;
            _packedB = packedB;
            _laneC = laneC;
        }

        public GroupedProduct Product { get; }

        /// <summary>Lane blocks [b0, b1) over rows [r0, r1).</summary>
        public void Execute(int b0, int b1, int r0, int r1)
        {
            var p = Product;
            int lanes = Lanes;
            // Strides in elements; a lane vector starts at the group block's first group.
            nint ars = p.A.RowStride, acs = p.A.ColStride;
            // Packed B: a column tile's panel is [k][column][lane].
            nint brs = Tile * lanes, bcs = lanes;
            int tiles = (p.N + Tile - 1) / Tile;
            nint crs, ccs;
            if (_laneC != null)
            {
                crs = (nint)p.N * lanes;
                ccs = lanes;
            }
            else
            {
                crs = p.C.RowStride;
                ccs = p.C.ColStride;
            }

            // A is copied, one cache tile and depth slice at a time, into [row tile][k][row][lane] so that the
            // micro-kernel streams it too: read in place, rows 2^k floats apart alias in L1.
            float[] rented = ArrayPool<float>.Shared.Rent(RowsPerCacheTile * Depth * lanes);
            try
            {
                fixed (float* aPack = rented)
                {
                    // Rows outermost: the lane blocks of a row tile share its cache lines, so x and y stream once.
                    for (int i0 = r0; i0 < r1; i0 += RowsPerCacheTile)
                    {
                        for (int block = b0; block < b1; block++)
                        {
                            float* a = p.A.Data + block * lanes;
                            float* b = _packedB + (long)block * tiles * p.K * Tile * lanes;
                            float* c = _laneC != null ? _laneC + (long)block * p.M * p.N * lanes : p.C.Data + block * lanes;
                            int i1 = Math.Min(r1, i0 + RowsPerCacheTile);
                            for (int pc = 0; pc < p.K; pc += Depth)
                            {
                                int kc = Math.Min(Depth, p.K - pc);
                                bool accumulate = p.Accumulate || pc > 0;
                                PackA(a + i0 * ars + pc * acs, ars, acs, i1 - i0, kc, aPack);
                                // Column tiles in groups whose panels fit L1 together; each A row tile then serves
                                // the whole group from L1.
                                for (int ng = 0; ng < p.N; ng += Tile * TilesPerGroup)
                                for (int m0 = i0; m0 < i1; m0 += Tile)
                                {
                                    int rows = Math.Min(Tile, i1 - m0);
                                    float* aTile = aPack + (long)(m0 - i0) * kc * lanes;
                                    for (int n0 = ng; n0 < Math.Min(p.N, ng + Tile * TilesPerGroup); n0 += Tile)
                                    {
                                        int cols = Math.Min(Tile, p.N - n0);
                                        float* bTile = b + (long)(n0 / Tile) * p.K * Tile * lanes + pc * brs;
                                        float* cTile = c + m0 * crs + n0 * ccs;
                                        if (Wide)
                                            Micro512(aTile, lanes, Tile * lanes, bTile, brs, bcs, kc, cTile, crs, ccs, rows, cols, p.Alpha, accumulate);
                                        else
                                            Micro256(aTile, lanes, Tile * lanes, bTile, brs, bcs, kc, cTile, crs, ccs, rows, cols, p.Alpha, accumulate);
                                    }
                                }
                            }
                        }
                    }
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(rented);
            }
        }

        /// <summary>Copies <paramref name="rows"/> × <paramref name="depth"/> lane vectors into row tiles of <c>[k][row][lane]</c>.</summary>
        private static void PackA(float* a, nint ars, nint acs, int rows, int depth, float* target)
        {
            int lanes = Lanes;
            for (int m = 0; m < rows; m++)
            {
                float* source = a + m * ars;
                float* tile = target + (long)(m / Tile) * depth * Tile * lanes + (m % Tile) * lanes;
                for (int k = 0; k < depth; k++)
                {
                    float* from = source + k * acs;
                    float* to = tile + (long)k * Tile * lanes;
                    if (Wide) Vector512.Load(from).Store(to);
                    else Vector256.Load(from).Store(to);
                }
            }
        }
    }

    /// <summary>A 4 × 4 tile of 16-group vectors: <c>C[r, j] ⊕= alpha · Σ_p A[r, p] ⊙ B[p, j]</c>; tails repeat the last row or column.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Micro512(float* a, nint ars, nint acs, float* b, nint brs, nint bcs, int kc, float* c, nint crs, nint ccs, int rows, int cols, float alpha, bool accumulate)
    {
        float* a0 = a;
        float* a1 = rows > 1 ? a0 + ars : a0;
        float* a2 = rows > 2 ? a1 + ars : a1;
        float* a3 = rows > 3 ? a2 + ars : a2;
        nint j1 = cols > 1 ? bcs : 0;
        nint j2 = cols > 2 ? 2 * bcs : j1;
        nint j3 = cols > 3 ? 3 * bcs : j2;
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        nint off = 0;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + j1);
            var b2 = Vector512.Load(b + j2);
            var b3 = Vector512.Load(b + j3);
            var x = Vector512.Load(a0 + off);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            c02 = Vector512.FusedMultiplyAdd(x, b2, c02);
            c03 = Vector512.FusedMultiplyAdd(x, b3, c03);
            x = Vector512.Load(a1 + off);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            c12 = Vector512.FusedMultiplyAdd(x, b2, c12);
            c13 = Vector512.FusedMultiplyAdd(x, b3, c13);
            x = Vector512.Load(a2 + off);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            c22 = Vector512.FusedMultiplyAdd(x, b2, c22);
            c23 = Vector512.FusedMultiplyAdd(x, b3, c23);
            x = Vector512.Load(a3 + off);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            c32 = Vector512.FusedMultiplyAdd(x, b2, c32);
            c33 = Vector512.FusedMultiplyAdd(x, b3, c33);
            off += acs;
            b += brs;
        }

        var alphaV = Vector512.Create(alpha);
        Store(c, alphaV, c00, accumulate);
        if (cols > 1) Store(c + ccs, alphaV, c01, accumulate);
        if (cols > 2) Store(c + 2 * ccs, alphaV, c02, accumulate);
        if (cols > 3) Store(c + 3 * ccs, alphaV, c03, accumulate);
        if (rows < 2) return;
        c += crs;
        Store(c, alphaV, c10, accumulate);
        if (cols > 1) Store(c + ccs, alphaV, c11, accumulate);
        if (cols > 2) Store(c + 2 * ccs, alphaV, c12, accumulate);
        if (cols > 3) Store(c + 3 * ccs, alphaV, c13, accumulate);
        if (rows < 3) return;
        c += crs;
        Store(c, alphaV, c20, accumulate);
        if (cols > 1) Store(c + ccs, alphaV, c21, accumulate);
        if (cols > 2) Store(c + 2 * ccs, alphaV, c22, accumulate);
        if (cols > 3) Store(c + 3 * ccs, alphaV, c23, accumulate);
        if (rows < 4) return;
        c += crs;
        Store(c, alphaV, c30, accumulate);
        if (cols > 1) Store(c + ccs, alphaV, c31, accumulate);
        if (cols > 2) Store(c + 2 * ccs, alphaV, c32, accumulate);
        if (cols > 3) Store(c + 3 * ccs, alphaV, c33, accumulate);
    }

    /// <summary>The <see cref="Micro512"/> tile for 8-group vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Micro256(float* a, nint ars, nint acs, float* b, nint brs, nint bcs, int kc, float* c, nint crs, nint ccs, int rows, int cols, float alpha, bool accumulate)
    {
        // One row at a time: 256-bit machines are the fallback, so this favours brevity over the last cycle.
        for (int r = 0; r < rows; r++)
        {
            float* ar = a + r * ars;
            for (int j = 0; j < cols; j++)
            {
                var acc = Vector256<float>.Zero;
                float* bj = b + j * bcs;
                nint off = 0;
                for (int p = 0; p < kc; p++)
                {
                    acc = Vector256.FusedMultiplyAdd(Vector256.Load(ar + off), Vector256.Load(bj + p * brs), acc);
                    off += acs;
                }
                float* target = c + r * crs + j * ccs;
                var alphaV = Vector256.Create(alpha);
                (accumulate ? Vector256.FusedMultiplyAdd(alphaV, acc, Vector256.Load(target)) : alphaV * acc).Store(target);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector512<float> alpha, Vector512<float> value, bool accumulate) =>
        (accumulate ? Vector512.FusedMultiplyAdd(alpha, value, Vector512.Load(c)) : alpha * value).Store(c);
}
