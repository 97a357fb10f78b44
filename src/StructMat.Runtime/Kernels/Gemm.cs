using System;
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Threading.Tasks;

namespace StructMat.Runtime.Kernels;

/// <summary>A matrix view on raw memory: element <c>(r, c)</c> lives at <c>Data + r·RowStride + c·ColStride</c>.</summary>
internal readonly unsafe struct StridedMatrix
{
    public StridedMatrix(float* data, nint rowStride, nint colStride)
    {
        Data = data;
        RowStride = rowStride;
        ColStride = colStride;
    }

    public float* Data { get; }

    public nint RowStride { get; }

    public nint ColStride { get; }

    /// <summary>The same memory read as the transpose: no data moves.</summary>
    public StridedMatrix Transposed => new(Data, ColStride, RowStride);

    public float* At(nint row, nint col) => Data + row * RowStride + col * ColStride;
}

/// <summary>
/// A batch of independent products <c>C_g = (accumulate ? C_g : 0) + alpha · A_g · B_g</c> for <c>g &lt; Groups</c>,
/// <c>A_g</c> <c>[M, K]</c>, <c>B_g</c> <c>[K, N]</c>, <c>C_g</c> <c>[M, N]</c>, where group <c>g</c>'s view is its matrix's
/// view moved by <c>g · GroupStride</c> elements (by <c>(g ⊕ AGroupXor) · AGroupStride</c> for A, likewise B). Every block
/// product, its transpose and its weight gradient is one of these with suitable strides, which is how a folded
/// permutation or block swap costs nothing but indexing.
/// </summary>
internal readonly unsafe struct GroupedProduct
{
    public GroupedProduct(int groups, int m, int n, int k, StridedMatrix a, nint aGroupStride, StridedMatrix b, nint bGroupStride, StridedMatrix c, nint cGroupStride, float alpha, bool accumulate, bool bIsParameter = false)
    {
        BIsParameter = bIsParameter;
        Groups = groups;
        M = m;
        N = n;
        K = k;
        A = a;
        AGroupStride = aGroupStride;
        B = b;
        BGroupStride = bGroupStride;
        C = c;
        CGroupStride = cGroupStride;
        Alpha = alpha;
        Accumulate = accumulate;
    }

    public int Groups { get; }

    public int M { get; }

    public int N { get; }

    public int K { get; }

    public StridedMatrix A { get; }

    public nint AGroupStride { get; }

    public StridedMatrix B { get; }

    public nint BGroupStride { get; }

    public StridedMatrix C { get; }

    public nint CGroupStride { get; }

    public float Alpha { get; }

    public bool Accumulate { get; }

    /// <summary>B is a layer's weight, which a <see cref="PackCache"/> scope may keep packed across calls.</summary>
    public bool BIsParameter { get; }

    /// <summary>Group <c>g</c> reads A's group <c>g ⊕ AGroupXor</c> (a flat block butterfly's diagonal); 0 by default.</summary>
    public int AGroupXor { get; init; }

    /// <summary>Group <c>g</c> reads B's group <c>g ⊕ BGroupXor</c>; 0 by default.</summary>
    public int BGroupXor { get; init; }

    /// <summary>Where group <c>g</c>'s A starts.</summary>
    public float* AOf(int g) => A.Data + (g ^ AGroupXor) * AGroupStride;

    /// <summary>Where group <c>g</c>'s B starts.</summary>
    public float* BOf(int g) => B.Data + (g ^ BGroupXor) * BGroupStride;

    /// <summary>The key of B's packed form in <paramref name="engine"/>'s layout.</summary>
    public PackKey PackKeyOfB(int engine) => new((nint)B.Data, B.RowStride, B.ColStride, BGroupStride, BGroupXor, Groups, K, N, engine);

    /// <summary><c>C_gᵀ = B_gᵀ · A_gᵀ</c>: the same products with the roles of rows and columns swapped.</summary>
    public GroupedProduct Transposed() =>
        new(Groups, N, M, K, B.Transposed, BGroupStride, A.Transposed, AGroupStride, C.Transposed, CGroupStride, Alpha, Accumulate)
        {
            AGroupXor = BGroupXor,
            BGroupXor = AGroupXor,
        };
}

/// <summary>
/// The register-blocked SIMD engine behind the block kernels, in the manner of Goto's GEMM: a micro-kernel keeps an
/// <see cref="MR"/> × <see cref="NR"/> tile of <c>C</c> in vector registers (16 accumulators) and streams a
/// <see cref="KC"/>-deep slice of <c>A</c> (broadcast, any strides) against a panel of <c>B</c>, packed once per call
/// so that it streams sequentially. Rows of <c>C</c> are processed
/// in cache tiles of <see cref="MC"/> so that a tile's slice of <c>A</c> stays in L2 while every group and panel
/// streams past it.
/// </summary>
/// <remarks>
/// Determinism: element <c>C[m, n]</c> is always <c>Σ_k A[m,k]·B[k,n]</c> accumulated by fused multiply-adds in
/// <c>k</c> order, restarted at every <see cref="KC"/> boundary and folded into <c>C</c> with one more fused
/// multiply-add per slice. That sequence depends only on <c>K</c>: not on threading, on which rows share a call, on
/// the batch size, or on whether the product ran transposed (<c>fma(a, b, s) = fma(b, a, s)</c>). Products whose groups
/// interleave in memory run on <see cref="GroupLanes"/> instead, which has its own fixed depth.
/// </remarks>
internal static unsafe class Gemm
{
    /// <summary>Rows of the register tile.</summary>
    public const int MR = 8;

    /// <summary>Depth of one pass over <c>K</c>; also fixes the summation order (see remarks).</summary>
    public const int KC = 384;

    /// <summary>Rows of one cache tile.</summary>
    public const int MC = 256;

    /// <summary>Bytes of cache lines a cache tile of strided A rows may hold (half of a 1 MB L2).</summary>
    private const long StridedTileBytes = 512 * 1024;

    /// <summary>
    /// Packed B (every group) up to which rows run outermost, one register tile of rows through every group and panel
    /// (see <see cref="Job"/>). Measured at batch 1024, CPU time of one core: 64 blocks of 64 × 64 went 4.1 → 3.0 ms,
    /// 128 blocks of 32 × 32 4.6 → 1.7 ms, BTT's 64 blocks of 128 × 64 (2 MB packed) 8.9 → 6.4 ms.
    /// </summary>
    private const long RowOuterPackedBytes = 2 * 1024 * 1024;

    /// <summary>Products with fewer rows than this run transposed when B would need packing (see <see cref="Run"/>).</summary>
    private const int TransposeBelow = 64;

    private static readonly bool Wide = Vector512.IsHardwareAccelerated;

    /// <summary>Columns of the register tile: two vectors.</summary>
    public static readonly int NR = Wide ? 32 : 16;

    /// <summary>Runs the grouped product, choosing the orientation, the packing and the split over threads.</summary>
    public static void Run(in GroupedProduct product) => Run(product, mayTranspose: true);

    /// <summary>
    /// <see cref="Run(in GroupedProduct)"/>; with <paramref name="mayTranspose"/> false a product with few rows still runs
    /// as given, for callers whose B is a parameter kept packed across calls (then packing costs nothing).
    /// </summary>
    public static void Run(in GroupedProduct product, bool mayTranspose)
    {
        var p = product;
        if (p.Groups == 0 || p.M == 0 || p.N == 0) return;
        if (p.K == 0)
        {
            // An empty sum: C = 0, or C unchanged when accumulating.
            if (!p.Accumulate) ClearOutput(p);
            return;
        }
        if (GroupLanes.Suits(p))
        {
            GroupLanes.Run(p);
            return;
        }

        // B is always packed, panel by panel, so that the micro-kernel reads it sequentially whatever its strides
        // (a row stride of a power of two would otherwise map every k to the same L1 sets). Packing costs K·N per
        // group once per call; when M is small that is as much as the product itself, so the product runs
        // transposed instead, which packs the (small) A. Both orientations give the same bits.
        if (mayTranspose && p.M < TransposeBelow && p.M < p.N) p = p.Transposed();

        float[]? packed = null;
        bool owned = true;
        try
        {
            long panelsPerGroup = (p.N + NR - 1) / NR;
            // One cache line of padding per group: group regions a power of two apart would alias in cache when
            // B is packed across groups (see PackInterleaved).
            long packedPerGroup = panelsPerGroup * p.K * NR + 16;
            packed = PackCache.BufferForB(p, engine: 0, checked((int)(packedPerGroup * p.Groups)), out bool fresh, out owned);

            fixed (float* pack = packed)
            {
                var job = new Job(p, pack, packedPerGroup);
                if (fresh) PackAll(job);
                long work = (long)p.Groups * p.M * p.N * p.K;
                if (!KernelThreading.MaySplit(work))
                {
                    job.Execute(0, p.Groups, 0, p.M);
                }
                else if (p.M >= 2 * MC || p.Groups == 1)
                {
                    // Split the rows: each thread sweeps every group over its own rows, so the rows it reads stay
                    // in its cache. Chunks hold whole register tiles, at least one per core even when the rows make
                    // a single cache tile, and no more than the cache tiles otherwise.
                    int units = (p.M + MR - 1) / MR;
                    int chunks = Math.Min(units, Math.Min(ChunkCount(work), Math.Max(Environment.ProcessorCount, (p.M + MC - 1) / MC)));
                    Parallel.For(0, chunks, c =>
                    {
                        int start = (int)((long)units * c / chunks) * MR;
                        int end = Math.Min(p.M, (int)((long)units * (c + 1) / chunks) * MR);
                        job.Execute(0, job.Product.Groups, start, end);
                    });
                }
                else
                {
                    int chunks = Math.Min(p.Groups, ChunkCount(work));
                    Parallel.For(0, chunks, c =>
                    {
                        int start = (int)((long)job.Product.Groups * c / chunks);
                        int end = (int)((long)job.Product.Groups * (c + 1) / chunks);
                        job.Execute(start, end, 0, job.Product.M);
                    });
                }
            }
        }
        finally
        {
            if (packed is not null && owned) ArrayPool<float>.Shared.Return(packed);
        }
    }

    private static void ClearOutput(in GroupedProduct p)
    {
        for (int g = 0; g < p.Groups; g++)
            for (int i = 0; i < p.M; i++)
                for (int j = 0; j < p.N; j++)
                    *(p.C.At(i, j) + g * p.CGroupStride) = 0f;
    }

    private static int ChunkCount(long work)
    {
        long byWork = Math.Max(1, work / (KernelThreading.ParallelWork / 2));
        return (int)Math.Min(byWork, 4L * Environment.ProcessorCount);
    }

    /// <summary>Packs every group's B as <c>[panel][k][NR]</c>, zero beyond <c>N</c>; groups in parallel when large.</summary>
    private static void PackAll(Job job)
    {
        var p = job.Product;
        long elements = (long)p.Groups * p.K * p.N;
        bool serial = !KernelThreading.MaySplit(elements, minimum: 1 << 16);
        int panels = (p.N + NR - 1) / NR;
        if (p.BGroupStride == 1 && p.B.ColStride != 1)
        {
            // Interleaved groups (a strided layout): group g's columns share cache lines with every other group's,
            // so B is read once in memory order, k by k, and each element dealt to its group's panel.
            if (serial)
            {
                PackInterleaved(job, 0, p.K);
                return;
            }
            int kChunks = Math.Min(p.K, 4 * Environment.ProcessorCount);
            Parallel.For(0, kChunks, c => PackInterleaved(job, (int)((long)p.K * c / kChunks), (int)((long)p.K * (c + 1) / kChunks)));
            return;
        }
        if (serial || p.Groups == 1 && p.N <= NR)
        {
            for (int g = 0; g < p.Groups; g++) PackGroup(job, g, 0, panels);
            return;
        }
        if (p.Groups >= 2 * Environment.ProcessorCount)
            Parallel.For(0, p.Groups, g => PackGroup(job, g, 0, panels));
        else
            Parallel.For(0, (long)p.Groups * panels, i => PackGroup(job, (int)(i / panels), (int)(i % panels), (int)(i % panels) + 1));
    }

    /// <summary>Packs rows [k0, k1) of every group's B when the groups interleave (group stride 1).</summary>
    private static void PackInterleaved(Job job, int k0, int k1)
    {
        var p = job.Product;
        int nr = NR;
        int panels = (p.N + nr - 1) / nr;
        for (int k = k0; k < k1; k++)
        {
            float* row = p.B.Data + k * p.B.RowStride;
            for (int j = 0; j < panels * nr; j++)
            {
                float* target = job.Pack + ((long)(j / nr) * p.K + k) * nr + j % nr;
                if (j >= p.N)
                {
                    for (int g = 0; g < p.Groups; g++) target[g * job.PackedPerGroup] = 0f;
                    continue;
                }
                float* source = row + j * p.B.ColStride;
                for (int g = 0; g < p.Groups; g++) target[g * job.PackedPerGroup] = source[g ^ p.BGroupXor];
            }
        }
    }

    private static void PackGroup(Job job, int g, int firstPanel, int endPanel)
    {
        var p = job.Product;
        int nr = NR;
        float* source = p.BOf(g);
        for (int panel = firstPanel; panel < endPanel; panel++)
        {
            float* target = job.Pack + g * job.PackedPerGroup + (long)panel * p.K * nr;
            int j0 = panel * nr;
            int cols = Math.Min(nr, p.N - j0);
            if (p.B.ColStride == 1)
            {
                for (int k = 0; k < p.K; k++)
                {
                    float* row = source + k * p.B.RowStride + j0;
                    float* dst = target + (long)k * nr;
                    new ReadOnlySpan<float>(row, cols).CopyTo(new Span<float>(dst, cols));
                    if (cols < nr) new Span<float>(dst + cols, nr - cols).Clear();
                }
            }
            else
            {
                // Column by column: each source column is contiguous (or at least sequential) along K. When it is
                // contiguous (a weight read transposed), whole 8 × 8 blocks are transposed in registers.
                if (cols < nr)
                    for (int k = 0; k < p.K; k++) new Span<float>(target + (long)k * nr + cols, nr - cols).Clear();
                int blockedCols = 0, blockedK = 0;
                if (p.B.RowStride == 1 && CpuKernels.CanTranspose8x8 && p.B.ColStride <= int.MaxValue)
                {
                    blockedCols = cols / 8 * 8;
                    blockedK = p.K / 8 * 8;
                    for (int j = 0; j < blockedCols; j += 8)
                        for (int k = 0; k < blockedK; k += 8)
                            CpuKernels.Transpose8x8(source + (j0 + j) * p.B.ColStride + k, (int)p.B.ColStride, target + (long)k * nr + j, nr, accumulate: false);
                }
                for (int j = 0; j < cols; j++)
                {
                    float* column = source + (j0 + j) * p.B.ColStride;
                    nint rowStride = p.B.RowStride;
                    for (int k = j < blockedCols ? blockedK : 0; k < p.K; k++) target[(long)k * nr + j] = column[k * rowStride];
                }
            }
        }
    }

    /// <summary>One call's product with its packed B; a class so the parallel lambdas can share it.</summary>
    private sealed class Job
    {
        public Job(GroupedProduct product, float* pack, long packedPerGroup)
        {
            Product = product;
            Pack = pack;
            PackedPerGroup = packedPerGroup;
        }

        public GroupedProduct Product { get; }

        public float* Pack { get; }

        public long PackedPerGroup { get; }

        /// <summary>Groups [g0, g1) over rows [r0, r1) of C.</summary>
        public void Execute(int g0, int g1, int r0, int r1)
        {
            // A is read in place when its rows run along k. Otherwise (a strided layout, or the transposed
            // activations of a weight gradient) each k would touch a new cache line, and lines a power of two
            // apart alias in L1, so each cache tile's slice is first copied into [row panel][k][row].
            bool packA = Product.A.ColStride != 1;
            float[]? rented = packA ? ArrayPool<float>.Shared.Rent(MC * KC) : null;
            try
            {
                fixed (float* aPack = rented)
                {
                    Execute(g0, g1, r0, r1, aPack);
                }
            }
            finally
            {
                if (rented is not null) ArrayPool<float>.Shared.Return(rented);
            }
        }

        private void Execute(int g0, int g1, int r0, int r1, float* aPack)
        {
            var p = Product;
            int nr = NR;
            // Strided rows of A share their cache lines with the other groups' rows, which read them next: the cache
            // tile is cut so that the lines of its rows (one per (row, k)) stay in L2 until every group has read them.
            // Rows read in place, one pass deep, with all of B small enough to stay in cache, run one register tile
            // at a time through every group: each row is then read once, front to back, and C written the same way,
            // instead of one short run per (group, row) that the prefetchers cannot follow.
            int mc = MC;
            if (aPack != null && p.A.RowStride != 1)
                mc = (int)Math.Clamp(StridedTileBytes / (64L * Math.Min(p.K, KC)) / MR * MR, MR, MC);
            else if (aPack == null && p.K <= KC && (long)p.Groups * PackedPerGroup * sizeof(float) <= RowOuterPackedBytes)
                mc = MR;
            for (int i0 = r0; i0 < r1; i0 += mc)
            {
                int i1 = Math.Min(r1, i0 + mc);
                for (int g = g0; g < g1; g++)
                {
                    float* a = p.AOf(g);
                    float* c = p.C.Data + g * p.CGroupStride;
                    float* packedGroup = Pack + g * PackedPerGroup;
                    for (int pc = 0; pc < p.K; pc += KC)
                    {
                        int kc = Math.Min(KC, p.K - pc);
                        bool accumulate = p.Accumulate || pc > 0;
                        float* aBlock = a + i0 * p.A.RowStride + pc * p.A.ColStride;
                        nint ars = p.A.RowStride, acs = p.A.ColStride;
                        if (aPack != null)
                        {
                            PackA(aBlock, ars, acs, i1 - i0, kc, aPack);
                            aBlock = aPack;
                        }
                        for (int j0 = 0; j0 < p.N; j0 += nr)
                        {
                            int cols = Math.Min(nr, p.N - j0);
                            float* panel = packedGroup + ((long)(j0 / nr) * p.K + pc) * nr;
                            for (int i = i0; i < i1; i += MR)
                            {
                                int rows = Math.Min(MR, i1 - i);
                                float* aTile;
                                nint tileRowStride, tileColStride;
                                if (aPack != null)
                                {
                                    aTile = aPack + (long)(i - i0) * kc;
                                    tileRowStride = 1;
                                    tileColStride = MR;
                                }
                                else
                                {
                                    aTile = aBlock + (i - i0) * ars;
                                    tileRowStride = ars;
                                    tileColStride = acs;
                                }
                                float* cTile = c + i * p.C.RowStride + j0 * p.C.ColStride;
                                Tile(aTile, tileRowStride, tileColStride, panel, nr, kc, cTile, p.C.RowStride, p.C.ColStride, rows, cols, p.Alpha, accumulate);
                            }
                        }
                    }
                }
            }
        }

        /// <summary>Copies <paramref name="rows"/> × <paramref name="depth"/> of A into panels of <see cref="MR"/> rows, <c>[k][row]</c> within a panel.</summary>
        private static void PackA(float* a, nint ars, nint acs, int rows, int depth, float* target)
        {
            for (int r0 = 0; r0 < rows; r0 += MR)
            {
                float* panel = target + (long)r0 * depth;
                int panelRows = Math.Min(MR, rows - r0);
                float* source = a + r0 * ars;
                if (ars == 1 && panelRows == MR)
                {
                    // The panel's rows are adjacent: one 8-wide copy per k.
                    for (int k = 0; k < depth; k++)
                        Vector256.Load(source + k * acs).Store(panel + k * MR);
                    continue;
                }
                for (int k = 0; k < depth; k++)
                {
                    float* column = source + k * acs;
                    float* to = panel + k * MR;
                    for (int r = 0; r < panelRows; r++) to[r] = column[r * ars];
                }
            }
        }
    }

    /// <summary>
    /// One register tile, <c>C[r, j] = (accumulate ? C : 0) ⊕ alpha · Σ_{p &lt; kc} a[r·ars + p·acs] · b[p·bs + j]</c> for
    /// <c>r &lt; rows ≤ </c><see cref="MR"/>, <c>j &lt; cols ≤ </c><see cref="NR"/>, on this machine's vector width; the
    /// engine's own loop and callers that lay out their own operands both call it. Each row of <paramref name="b"/> is read <see cref="NR"/> wide whatever <paramref name="cols"/> is.
    /// </summary>
    public static void Tile(float* a, nint ars, nint acs, float* b, nint bs, int kc, float* c, nint crs, nint ccs, int rows, int cols, float alpha, bool accumulate)
    {
        if (Wide && cols <= 16)
            Micro512Half(a, ars, acs, b, bs, kc, c, crs, ccs, rows, cols, alpha, accumulate);
        else if (Wide)
            Micro512(a, ars, acs, b, bs, kc, c, crs, ccs, rows, cols, alpha, accumulate);
        else
            Micro256(a, ars, acs, b, bs, kc, c, crs, ccs, rows, cols, alpha, accumulate);
    }

    /// <summary>
    /// <c>C[r, j] = (accumulate ? C : 0) ⊕ alpha · Σ_p a[r, p]·b[p, j]</c> for an 8 × 32 tile (rows ≤ 8 and cols ≤ 32 of it
    /// stored). Rows past <paramref name="rows"/> repeat the last row so the loop stays branch-free.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Micro512(float* a, nint ars, nint acs, float* b, nint bs, int kc, float* c, nint crs, nint ccs, int rows, int cols, float alpha, bool accumulate)
    {
        float* a0 = a;
        float* a1 = rows > 1 ? a0 + ars : a0;
        float* a2 = rows > 2 ? a1 + ars : a1;
        float* a3 = rows > 3 ? a2 + ars : a2;
        float* a4 = rows > 4 ? a3 + ars : a3;
        float* a5 = rows > 5 ? a4 + ars : a4;
        float* a6 = rows > 6 ? a5 + ars : a5;
        float* a7 = rows > 7 ? a6 + ars : a6;
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        nint off = 0;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var x = Vector512.Create(a0[off]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a1[off]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a2[off]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a3[off]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a4[off]);
            c40 = Vector512.FusedMultiplyAdd(x, b0, c40);
            c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a5[off]);
            c50 = Vector512.FusedMultiplyAdd(x, b0, c50);
            c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a6[off]);
            c60 = Vector512.FusedMultiplyAdd(x, b0, c60);
            c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a7[off]);
            c70 = Vector512.FusedMultiplyAdd(x, b0, c70);
            c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
            off += acs;
            b += bs;
        }

        if (cols == 16 && ccs == 1)
        {
            // A 16-wide block (the second vector is the panel's zero padding): whole vectors, not element by element.
            var alphaV = Vector512.Create(alpha);
            Store512Half(c, alphaV, c00, accumulate);
            if (rows > 1) Store512Half(c + crs, alphaV, c10, accumulate);
            if (rows > 2) Store512Half(c + 2 * crs, alphaV, c20, accumulate);
            if (rows > 3) Store512Half(c + 3 * crs, alphaV, c30, accumulate);
            if (rows > 4) Store512Half(c + 4 * crs, alphaV, c40, accumulate);
            if (rows > 5) Store512Half(c + 5 * crs, alphaV, c50, accumulate);
            if (rows > 6) Store512Half(c + 6 * crs, alphaV, c60, accumulate);
            if (rows > 7) Store512Half(c + 7 * crs, alphaV, c70, accumulate);
            return;
        }

        if (cols == 32 && ccs == 1)
        {
            var alphaV = Vector512.Create(alpha);
            Store512(c, alphaV, c00, c01, accumulate);
            if (rows > 1) Store512(c + crs, alphaV, c10, c11, accumulate);
            if (rows > 2) Store512(c + 2 * crs, alphaV, c20, c21, accumulate);
            if (rows > 3) Store512(c + 3 * crs, alphaV, c30, c31, accumulate);
            if (rows > 4) Store512(c + 4 * crs, alphaV, c40, c41, accumulate);
            if (rows > 5) Store512(c + 5 * crs, alphaV, c50, c51, accumulate);
            if (rows > 6) Store512(c + 6 * crs, alphaV, c60, c61, accumulate);
            if (rows > 7) Store512(c + 7 * crs, alphaV, c70, c71, accumulate);
            return;
        }

        float* tile = stackalloc float[8 * 32];
        c00.Store(tile); c01.Store(tile + 16);
        c10.Store(tile + 32); c11.Store(tile + 48);
        c20.Store(tile + 64); c21.Store(tile + 80);
        c30.Store(tile + 96); c31.Store(tile + 112);
        c40.Store(tile + 128); c41.Store(tile + 144);
        c50.Store(tile + 160); c51.Store(tile + 176);
        c60.Store(tile + 192); c61.Store(tile + 208);
        c70.Store(tile + 224); c71.Store(tile + 240);
        Scatter(tile, 32, c, crs, ccs, rows, cols, alpha, accumulate);
    }

    /// <summary>
    /// <see cref="Micro512"/> for at most 16 columns (blocks of 16 or less, a panel's last 16): one vector a row, so the
    /// zero half of the panel costs no multiply-adds. Each element's arithmetic is the same as in the full tile.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Micro512Half(float* a, nint ars, nint acs, float* b, nint bs, int kc, float* c, nint crs, nint ccs, int rows, int cols, float alpha, bool accumulate)
    {
        float* a0 = a;
        float* a1 = rows > 1 ? a0 + ars : a0;
        float* a2 = rows > 2 ? a1 + ars : a1;
        float* a3 = rows > 3 ? a2 + ars : a2;
        float* a4 = rows > 4 ? a3 + ars : a3;
        float* a5 = rows > 5 ? a4 + ars : a4;
        float* a6 = rows > 6 ? a5 + ars : a5;
        float* a7 = rows > 7 ? a6 + ars : a6;
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        nint off = 0;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[off]), b0, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[off]), b0, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[off]), b0, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[off]), b0, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a4[off]), b0, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a5[off]), b0, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(a6[off]), b0, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(a7[off]), b0, c7);
            off += acs;
            b += bs;
        }

        var alphaV = Vector512.Create(alpha);
        if (cols == 16 && ccs == 1)
        {
            Store512Half(c, alphaV, c0, accumulate);
            if (rows > 1) Store512Half(c + crs, alphaV, c1, accumulate);
            if (rows > 2) Store512Half(c + 2 * crs, alphaV, c2, accumulate);
            if (rows > 3) Store512Half(c + 3 * crs, alphaV, c3, accumulate);
            if (rows > 4) Store512Half(c + 4 * crs, alphaV, c4, accumulate);
            if (rows > 5) Store512Half(c + 5 * crs, alphaV, c5, accumulate);
            if (rows > 6) Store512Half(c + 6 * crs, alphaV, c6, accumulate);
            if (rows > 7) Store512Half(c + 7 * crs, alphaV, c7, accumulate);
            return;
        }

        float* tile = stackalloc float[8 * 16];
        c0.Store(tile); c1.Store(tile + 16); c2.Store(tile + 32); c3.Store(tile + 48);
        c4.Store(tile + 64); c5.Store(tile + 80); c6.Store(tile + 96); c7.Store(tile + 112);
        Scatter(tile, 16, c, crs, ccs, rows, cols, alpha, accumulate);
    }

    /// <summary>The <see cref="Micro512"/> tile for 256-bit vectors: 8 × 16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Micro256(float* a, nint ars, nint acs, float* b, nint bs, int kc, float* c, nint crs, nint ccs, int rows, int cols, float alpha, bool accumulate)
    {
        float* a0 = a;
        float* a1 = rows > 1 ? a0 + ars : a0;
        float* a2 = rows > 2 ? a1 + ars : a1;
        float* a3 = rows > 3 ? a2 + ars : a2;
        float* a4 = rows > 4 ? a3 + ars : a3;
        float* a5 = rows > 5 ? a4 + ars : a4;
        float* a6 = rows > 6 ? a5 + ars : a5;
        float* a7 = rows > 7 ? a6 + ars : a6;
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector256<float> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        nint off = 0;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var x = Vector256.Create(a0[off]);
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(a1[off]);
            c10 = Vector256.FusedMultiplyAdd(x, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(a2[off]);
            c20 = Vector256.FusedMultiplyAdd(x, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(a3[off]);
            c30 = Vector256.FusedMultiplyAdd(x, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
            x = Vector256.Create(a4[off]);
            c40 = Vector256.FusedMultiplyAdd(x, b0, c40);
            c41 = Vector256.FusedMultiplyAdd(x, b1, c41);
            x = Vector256.Create(a5[off]);
            c50 = Vector256.FusedMultiplyAdd(x, b0, c50);
            c51 = Vector256.FusedMultiplyAdd(x, b1, c51);
            x = Vector256.Create(a6[off]);
            c60 = Vector256.FusedMultiplyAdd(x, b0, c60);
            c61 = Vector256.FusedMultiplyAdd(x, b1, c61);
            x = Vector256.Create(a7[off]);
            c70 = Vector256.FusedMultiplyAdd(x, b0, c70);
            c71 = Vector256.FusedMultiplyAdd(x, b1, c71);
            off += acs;
            b += bs;
        }

        if (cols == 16 && ccs == 1)
        {
            var alphaV = Vector256.Create(alpha);
            Store256(c, alphaV, c00, c01, accumulate);
            if (rows > 1) Store256(c + crs, alphaV, c10, c11, accumulate);
            if (rows > 2) Store256(c + 2 * crs, alphaV, c20, c21, accumulate);
            if (rows > 3) Store256(c + 3 * crs, alphaV, c30, c31, accumulate);
            if (rows > 4) Store256(c + 4 * crs, alphaV, c40, c41, accumulate);
            if (rows > 5) Store256(c + 5 * crs, alphaV, c50, c51, accumulate);
            if (rows > 6) Store256(c + 6 * crs, alphaV, c60, c61, accumulate);
            if (rows > 7) Store256(c + 7 * crs, alphaV, c70, c71, accumulate);
            return;
        }

        float* tile = stackalloc float[8 * 16];
        c00.Store(tile); c01.Store(tile + 8);
        c10.Store(tile + 16); c11.Store(tile + 24);
        c20.Store(tile + 32); c21.Store(tile + 40);
        c30.Store(tile + 48); c31.Store(tile + 56);
        c40.Store(tile + 64); c41.Store(tile + 72);
        c50.Store(tile + 80); c51.Store(tile + 88);
        c60.Store(tile + 96); c61.Store(tile + 104);
        c70.Store(tile + 112); c71.Store(tile + 120);
        Scatter(tile, 16, c, crs, ccs, rows, cols, alpha, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512(float* c, Vector512<float> alpha, Vector512<float> lo, Vector512<float> hi, bool accumulate)
    {
        if (accumulate)
        {
            Vector512.FusedMultiplyAdd(alpha, lo, Vector512.Load(c)).Store(c);
            Vector512.FusedMultiplyAdd(alpha, hi, Vector512.Load(c + 16)).Store(c + 16);
        }
        else
        {
            (alpha * lo).Store(c);
            (alpha * hi).Store(c + 16);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512Half(float* c, Vector512<float> alpha, Vector512<float> lo, bool accumulate)
    {
        if (accumulate)
            Vector512.FusedMultiplyAdd(alpha, lo, Vector512.Load(c)).Store(c);
        else
            (alpha * lo).Store(c);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store256(float* c, Vector256<float> alpha, Vector256<float> lo, Vector256<float> hi, bool accumulate)
    {
        if (accumulate)
        {
            Vector256.FusedMultiplyAdd(alpha, lo, Vector256.Load(c)).Store(c);
            Vector256.FusedMultiplyAdd(alpha, hi, Vector256.Load(c + 8)).Store(c + 8);
        }
        else
        {
            (alpha * lo).Store(c);
            (alpha * hi).Store(c + 8);
        }
    }

    /// <summary>Writes a register tile spilled to <paramref name="tile"/> (row length <paramref name="width"/>) element by element.</summary>
    private static void Scatter(float* tile, int width, float* c, nint crs, nint ccs, int rows, int cols, float alpha, bool accumulate)
    {
        if (crs == 1 && rows == MR && cols >= 8 && CpuKernels.CanTranspose8x8)
        {
            // A product running transposed: C's columns are contiguous in memory. Eight columns at a time are turned
            // into rows in registers and stored as whole vectors, instead of one cache line per element; the
            // arithmetic per element is the same as below.
            float* block = stackalloc float[8 * 8];
            var alphaV = Vector256.Create(alpha);
            int blocked = cols / 8 * 8;
            for (int j0 = 0; j0 < blocked; j0 += 8)
            {
                CpuKernels.Transpose8x8(tile + j0, width, block, 8, accumulate: false);
                for (int j = 0; j < 8; j++)
                {
                    float* target = c + (j0 + j) * ccs;
                    var value = Vector256.Load(block + j * 8);
                    (accumulate ? Vector256.FusedMultiplyAdd(alphaV, value, Vector256.Load(target)) : alphaV * value).Store(target);
                }
            }
            if (blocked == cols) return;
            tile += blocked;
            c += blocked * ccs;
            cols -= blocked;
        }
        for (int r = 0; r < rows; r++)
        {
            float* source = tile + r * width;
            float* row = c + r * crs;
            if (accumulate)
                for (int j = 0; j < cols; j++) row[j * ccs] = MathF.FusedMultiplyAdd(alpha, source[j], row[j * ccs]);
            else
                for (int j = 0; j < cols; j++) row[j * ccs] = alpha * source[j];
        }
    }
}
