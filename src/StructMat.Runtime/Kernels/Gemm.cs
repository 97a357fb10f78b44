using System;
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
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
                        if (Direct(p))
                        {
                            for (int j = panel * nr; j < Math.Min(p.N, (panel + 1) * nr); j += 8) DirectColumns(p, g, a, j);
                            continue;
                        }
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

        /// <summary>
        /// Whether one or two rows read B straight from memory (<see cref="DirectColumns"/>): B contiguous along k (a
        /// weight read transposed, as every forward product reads it) and AVX2 with FMA for the 8 × 8 register transposes.
        /// </summary>
        private static bool Direct(in GroupedProduct p) => p.M <= 2 && p.B.RowStride == 1 && Avx2.IsSupported && Fma.IsSupported;

        /// <summary>
        /// Columns [j0, j0 + 8) of C for one or two rows, B read in place: eight columns of B (contiguous along k) are
        /// loaded eight k at a time and transposed in registers, so each vector holds the eight columns at one k, and
        /// multiplied into the accumulators in k order — per element exactly the register tiles' sequence (fused
        /// multiply-adds in k order, restarted and folded into C at every <see cref="KC"/> slice), so the same bits,
        /// without packing B at all.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void DirectColumns(in GroupedProduct p, int g, float* a, int j0)
        {
            int cols = Math.Min(8, p.N - j0);
            float* b = p.BOf(g);
            nint cs = p.B.ColStride;
            // Columns past N repeat the last one (computed, not stored), so the loop stays branch-free.
            float* w0 = b + (long)j0 * cs;
            float* w1 = cols > 1 ? w0 + cs : w0;
            float* w2 = cols > 2 ? w1 + cs : w1;
            float* w3 = cols > 3 ? w2 + cs : w2;
            float* w4 = cols > 4 ? w3 + cs : w3;
            float* w5 = cols > 5 ? w4 + cs : w4;
            float* w6 = cols > 6 ? w5 + cs : w5;
            float* w7 = cols > 7 ? w6 + cs : w6;
            float* a0 = a;
            float* a1 = p.M > 1 ? a + p.A.RowStride : a;
            nint acs = p.A.ColStride;
            float* c = p.C.Data + g * p.CGroupStride + j0 * p.C.ColStride;
            for (int pc = 0; pc < p.K; pc += KC)
            {
                int end = Math.Min(p.K, pc + KC);
                Vector256<float> acc0 = default, acc1 = default;
                int k = pc;
                for (; k + 8 <= end; k += 8)
                {
                    // Transposed, r_q holds column c's element k + q in lane c.
                    var r0 = Avx.LoadVector256(w0 + k);
                    var r1 = Avx.LoadVector256(w1 + k);
                    var r2 = Avx.LoadVector256(w2 + k);
                    var r3 = Avx.LoadVector256(w3 + k);
                    var r4 = Avx.LoadVector256(w4 + k);
                    var r5 = Avx.LoadVector256(w5 + k);
                    var r6 = Avx.LoadVector256(w6 + k);
                    var r7 = Avx.LoadVector256(w7 + k);
                    CpuKernels.Transpose8x8(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
                    float* x0 = a0 + k * acs, x1 = a1 + k * acs;
                    acc0 = Fma.MultiplyAdd(Vector256.Create(x0[0]), r0, acc0);
                    acc1 = Fma.MultiplyAdd(Vector256.Create(x1[0]), r0, acc1);
                    acc0 = Fma.MultiplyAdd(Vector256.Create(x0[acs]), r1, acc0);
                    acc1 = Fma.MultiplyAdd(Vector256.Create(x1[acs]), r1, acc1);
                    acc0 = Fma.MultiplyAdd(Vector256.Create(x0[2 * acs]), r2, acc0);
                    acc1 = Fma.MultiplyAdd(Vector256.Create(x1[2 * acs]), r2, acc1);
                    acc0 = Fma.MultiplyAdd(Vector256.Create(x0[3 * acs]), r3, acc0);
                    acc1 = Fma.MultiplyAdd(Vector256.Create(x1[3 * acs]), r3, acc1);
                    acc0 = Fma.MultiplyAdd(Vector256.Create(x0[4 * acs]), r4, acc0);
                    acc1 = Fma.MultiplyAdd(Vector256.Create(x1[4 * acs]), r4, acc1);
                    acc0 = Fma.MultiplyAdd(Vector256.Create(x0[5 * acs]), r5, acc0);
                    acc1 = Fma.MultiplyAdd(Vector256.Create(x1[5 * acs]), r5, acc1);
                    acc0 = Fma.MultiplyAdd(Vector256.Create(x0[6 * acs]), r6, acc0);
                    acc1 = Fma.MultiplyAdd(Vector256.Create(x1[6 * acs]), r6, acc1);
                    acc0 = Fma.MultiplyAdd(Vector256.Create(x0[7 * acs]), r7, acc0);
                    acc1 = Fma.MultiplyAdd(Vector256.Create(x1[7 * acs]), r7, acc1);
                }
                for (; k < end; k++)
                {
                    var t = Vector256.Create(w0[k], w1[k], w2[k], w3[k], w4[k], w5[k], w6[k], w7[k]);
                    acc0 = Fma.MultiplyAdd(Vector256.Create(a0[k * acs]), t, acc0);
                    acc1 = Fma.MultiplyAdd(Vector256.Create(a1[k * acs]), t, acc1);
                }
                bool accumulate = p.Accumulate || pc > 0;
                StoreColumns(c, p.C.ColStride, cols, acc0, p.Alpha, accumulate);
                if (p.M > 1) StoreColumns(c + p.C.RowStride, p.C.ColStride, cols, acc1, p.Alpha, accumulate);
            }
        }

        /// <summary>C (+)= alpha · acc for the first <paramref name="cols"/> lanes, as the register tiles store: alpha·acc, or fma(alpha, acc, C).</summary>
        private static void StoreColumns(float* c, nint ccs, int cols, Vector256<float> acc, float alpha, bool accumulate)
        {
            if (cols == 8 && ccs == 1)
            {
                var alphaV = Vector256.Create(alpha);
                (accumulate ? Fma.MultiplyAdd(alphaV, acc, Avx.LoadVector256(c)) : alphaV * acc).Store(c);
                return;
            }
            for (int j = 0; j < cols; j++)
            {
                float v = acc.GetElement(j);
                c[j * ccs] = accumulate ? MathF.FusedMultiplyAdd(alpha, v, c[j * ccs]) : alpha * v;
            }
        }
    }
}
