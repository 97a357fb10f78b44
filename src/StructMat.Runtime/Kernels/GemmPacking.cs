using System;
using System.Runtime.Intrinsics;
using static StructMat.Runtime.Kernels.MicroKernels;

namespace StructMat.Runtime.Kernels;

/// <summary>
/// How <see cref="Gemm"/> lays out its operands for the register tiles: B once per call as panels of
/// <see cref="MicroKernels.NR"/> columns that stream sequentially whatever B's strides (a row stride of a power of two
/// would otherwise map every k to the same L1 sets), and A, when its k is strided, one cache tile at a time as panels of
/// <see cref="MicroKernels.MR"/> rows. Packing only copies: it changes no bits.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>Elements of B below which packing stays on the calling thread (a copy costs less than a product's multiply-add).</summary>
    private const long ParallelElements = 1 << 16;

    /// <summary>
    /// Floats of one group's packed B: every panel of <see cref="MicroKernels.NR"/> columns, <c>K</c> deep, and one
    /// cache line of padding, since group regions a power of two apart would alias in cache when B is packed across
    /// groups (see <see cref="PackInterleaved"/>).
    /// </summary>
    public static long PackedFloatsPerGroup(in GroupedProduct p) => (long)((p.N + NR - 1) / NR) * p.K * NR + 16;

    /// <summary>
    /// Packs every group's B as <c>[panel][k][NR]</c> at <paramref name="pack"/>, groups <paramref name="packedPerGroup"/>
    /// floats apart, zero beyond <c>N</c>; groups in parallel when large.
    /// </summary>
    public static void PackB(GroupedProduct p, nint pack, long packedPerGroup)
    {
        long elements = (long)p.Groups * p.K * p.N;
        int panels = (p.N + NR - 1) / NR;
        if (p.BGroupStride == 1 && p.B.ColStride != 1)
        {
            // Interleaved groups (a strided layout): group g's columns share cache lines with every other group's,
            // so B is read once in memory order, k by k, and each element dealt to its group's panel.
            KernelThreading.Split(elements, p.K, KernelThreading.BalancingChunks,
                (k0, k1) => PackInterleaved(p, pack, packedPerGroup, k0, k1), ParallelElements);
            return;
        }
        if (p.Groups >= 2 * Environment.ProcessorCount)
        {
            // Enough groups to go round: a group's panels at a time.
            KernelThreading.Split(elements, p.Groups, p.Groups, (g0, g1) =>
            {
                for (int g = g0; g < g1; g++) PackGroup(p, pack, packedPerGroup, g, 0, panels);
            }, ParallelElements);
            return;
        }
        // Few groups (one, in a dense product): one panel at a time, so that a single group's panels split too.
        KernelThreading.Split(elements, checked(p.Groups * panels), checked(p.Groups * panels), (i0, i1) =>
        {
            for (int i = i0; i < i1; i++) PackGroup(p, pack, packedPerGroup, i / panels, i % panels, i % panels + 1);
        }, ParallelElements);
    }

    /// <summary>Packs rows [k0, k1) of every group's B when the groups interleave (group stride 1).</summary>
    private static void PackInterleaved(in GroupedProduct p, nint pack, long packedPerGroup, int k0, int k1)
    {
        int nr = NR;
        int panels = (p.N + nr - 1) / nr;
        for (int k = k0; k < k1; k++)
        {
            float* row = p.B.Data + k * p.B.RowStride;
            for (int j = 0; j < panels * nr; j++)
            {
                float* target = (float*)pack + ((long)(j / nr) * p.K + k) * nr + j % nr;
                if (j >= p.N)
                {
                    for (int g = 0; g < p.Groups; g++) target[g * packedPerGroup] = 0f;
                    continue;
                }
                float* source = row + j * p.B.ColStride;
                for (int g = 0; g < p.Groups; g++) target[g * packedPerGroup] = source[g ^ p.BGroupXor];
            }
        }
    }

    private static void PackGroup(in GroupedProduct p, nint pack, long packedPerGroup, int g, int firstPanel, int endPanel)
    {
        for (int panel = firstPanel; panel < endPanel; panel++)
            PackPanel(p, g, panel, 0, p.K, (float*)pack + g * packedPerGroup + (long)panel * p.K * NR);
    }

    /// <summary>Rows [k0, k1) of group g's panel <paramref name="panel"/> as <c>[k − k0][NR]</c> at <paramref name="target"/>, zero beyond <c>N</c>.</summary>
    public static void PackPanel(in GroupedProduct p, int g, int panel, int k0, int k1, float* target)
    {
        int nr = NR;
        float* source = p.BOf(g);
        int j0 = panel * nr;
        int cols = Math.Min(nr, p.N - j0);
        target -= (long)k0 * nr; // row k at target + k·nr
        if (p.B.ColStride == 1)
        {
            for (int k = k0; k < k1; k++)
            {
                float* row = source + k * p.B.RowStride + j0;
                float* dst = target + (long)k * nr;
                new ReadOnlySpan<float>(row, cols).CopyTo(new Span<float>(dst, cols));
                if (cols < nr) new Span<float>(dst + cols, nr - cols).Clear();
            }
            return;
        }
        // Column by column: each source column is contiguous (or at least sequential) along K. When it is
        // contiguous (a weight read transposed), whole 8 × 8 blocks are transposed in registers.
        if (cols < nr)
            for (int k = k0; k < k1; k++) new Span<float>(target + (long)k * nr + cols, nr - cols).Clear();
        int blockedCols = 0, blockedEnd = k0;
        if (p.B.RowStride == 1 && CpuKernels.CanTranspose8x8 && p.B.ColStride <= int.MaxValue)
        {
            blockedCols = cols / 8 * 8;
            blockedEnd = k0 + (k1 - k0) / 8 * 8;
            for (int j = 0; j < blockedCols; j += 8)
                for (int k = k0; k < blockedEnd; k += 8)
                    CpuKernels.Transpose8x8(source + (j0 + j) * p.B.ColStride + k, (int)p.B.ColStride, target + (long)k * nr + j, nr, accumulate: false);
        }
        for (int j = 0; j < cols; j++)
        {
            float* column = source + (j0 + j) * p.B.ColStride;
            nint rowStride = p.B.RowStride;
            for (int k = j < blockedCols ? blockedEnd : k0; k < k1; k++) target[(long)k * nr + j] = column[k * rowStride];
        }
    }

    /// <summary>Copies <paramref name="rows"/> × <paramref name="depth"/> of A into panels of <see cref="MR"/> rows, <c>[k][row]</c> within a panel.</summary>
    public static void PackA(float* a, nint ars, nint acs, int rows, int depth, float* target)
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
