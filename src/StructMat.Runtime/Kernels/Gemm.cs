using System;
using System.Buffers;
using static StructMat.Runtime.Kernels.MicroKernels;

namespace StructMat.Runtime.Kernels;

/// <summary>
/// The register-blocked SIMD engine behind the block kernels, in the manner of Goto's GEMM: a micro-kernel keeps an
/// <see cref="MicroKernels.MR"/> × <see cref="MicroKernels.NR"/> tile of <c>C</c> in vector registers (16 accumulators) and streams a
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

    /// <summary>
    /// Runs a non-empty grouped product as given (the orientation is <see cref="BlockProductPlanner"/>'s choice, see
    /// <see cref="BlockEngine.GemmTransposed"/>), packing B and splitting the rows or groups over threads.
    /// </summary>
    public static void Run(in GroupedProduct product)
    {
        var p = product;
        if (p.M <= MR)
        {
            // One register tile of rows (a layer at batch ≤ 8, a GEMV): each panel of B is read by one tile only, so
            // it is packed a KC slice at a time into a small per-thread buffer right before the tile reads it — B is
            // read once and its packed form never leaves the cache — and the (group, panel) pairs are split over the
            // threads. The tiles and their sums are the ones below: the bits do not change.
            var streaming = new StreamingJob(p);
            long macs = (long)p.Groups * p.M * p.N * p.K;
            int items = checked(p.Groups * ((p.N + NR - 1) / NR));
            KernelThreading.Split(macs, items, KernelThreading.ChunksForWork(macs), (start, end) => streaming.Execute(start, end));
            return;
        }
        // B is always packed, panel by panel, so that the micro-kernel reads it sequentially whatever its strides
        // (a row stride of a power of two would otherwise map every k to the same L1 sets).
        float[]? packed = null;
        bool owned = true;
        try
        {
            long packedPerGroup = GemmPacking.PackedFloatsPerGroup(p);
            packed = PackCache.BufferForB(p, engine: 0, checked((int)(packedPerGroup * p.Groups)), out bool fresh, out owned);

            fixed (float* pack = packed)
            {
                var job = new Job(p, pack, packedPerGroup);
                if (fresh) GemmPacking.PackB(p, (nint)pack, packedPerGroup);
                long work = (long)p.Groups * p.M * p.N * p.K;
                if (p.M >= 2 * MC || p.Groups == 1)
                {
                    // Split the rows: each thread sweeps every group over its own rows, so the rows it reads stay
                    // in its cache. Chunks hold whole register tiles, at least one per core even when the rows make
                    // a single cache tile, and no more than the cache tiles otherwise.
                    int registerTiles = (p.M + MR - 1) / MR;
                    int maxChunks = Math.Min(KernelThreading.ChunksForWork(work), Math.Max(Environment.ProcessorCount, (p.M + MC - 1) / MC));
                    KernelThreading.Split(work, registerTiles, maxChunks,
                        (start, end) => job.Execute(0, job.Product.Groups, start * MR, Math.Min(job.Product.M, end * MR)));
                }
                else
                {
                    KernelThreading.Split(work, p.Groups, KernelThreading.ChunksForWork(work),
                        (start, end) => job.Execute(start, end, 0, job.Product.M));
                }
            }
        }
        finally
        {
            if (packed is not null && owned) ArrayPool<float>.Shared.Return(packed);
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
                            GemmPacking.PackA(aBlock, ars, acs, i1 - i0, kc, aPack);
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
                                MicroKernels.Tile(aTile, tileRowStride, tileColStride, panel, nr, kc, cTile, p.C.RowStride, p.C.ColStride, rows, cols, p.Alpha, accumulate);
                            }
                        }
                    }
                }
            }
        }
    }
    /// <summary>A product of at most <see cref="MicroKernels.MR"/> rows, B packed slice by slice as its tile reads it.</summary>
    private sealed class StreamingJob
    {
        private readonly GroupedProduct _p;

        public StreamingJob(in GroupedProduct product) => _p = product;

        /// <summary>(group, column panel) pairs [first, end), group-major.</summary>
        public void Execute(int first, int end)
        {
            var p = _p;
            int nr = NR;
            int panels = (p.N + nr - 1) / nr;
            // A strided along k is packed ([k][row], MR wide) once per group, as the cache tiles above pack it per slice.
            bool packA = p.A.ColStride != 1;
            var slice = ArrayPool<float>.Shared.Rent(KC * nr);
            var aRented = packA ? ArrayPool<float>.Shared.Rent(MR * p.K) : null;
            try
            {
                fixed (float* b = slice, aPack = aRented)
                {
                    int packedGroup = -1;
                    for (int item = first; item < end; item++)
                    {
                        int g = item / panels, panel = item % panels;
                        float* a = p.AOf(g);
                        if (packA && packedGroup != g)
                        {
                            GemmPacking.PackA(a, p.A.RowStride, p.A.ColStride, p.M, p.K, aPack);
                            packedGroup = g;
                        }
                        int j0 = panel * nr;
                        int cols = Math.Min(nr, p.N - j0);
                        float* c = p.C.Data + g * p.CGroupStride + j0 * p.C.ColStride;
                        for (int pc = 0; pc < p.K; pc += KC)
                        {
                            int kc = Math.Min(KC, p.K - pc);
                            GemmPacking.PackPanel(p, g, panel, pc, pc + kc, b);
                            bool accumulate = p.Accumulate || pc > 0;
                            if (packA)
                                MicroKernels.Tile(aPack + (long)pc * MR, 1, MR, b, nr, kc, c, p.C.RowStride, p.C.ColStride, p.M, cols, p.Alpha, accumulate);
                            else
                                MicroKernels.Tile(a + pc * p.A.ColStride, p.A.RowStride, p.A.ColStride, b, nr, kc, c, p.C.RowStride, p.C.ColStride, p.M, cols, p.Alpha, accumulate);
                        }
                    }
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(slice);
                if (aRented is not null) ArrayPool<float>.Shared.Return(aRented);
            }
        }
    }
}
