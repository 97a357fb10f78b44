using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace StructMat.Runtime.Kernels;

/// <summary>
/// The register tiles that every block product ends in: an <see cref="MR"/> × <see cref="NR"/> tile of <c>C</c> held in
/// vector registers (16 accumulators) while a slice of <c>A</c> is broadcast, row by row, against rows of <c>B</c> read
/// <see cref="NR"/> wide. One kernel per case: 512-bit vectors with more than 16 columns (<see cref="Micro512"/>), 512-bit
/// with at most 16 (<see cref="Micro512Half"/>, one vector a row), and 256-bit vectors (<see cref="Micro256"/>: no
/// AVX-512, or <c>DOTNET_EnableAVX512=0</c>; with <c>DOTNET_EnableAVX=0</c> it still runs, on software vectors).
/// </summary>
/// <remarks>
/// Every kernel sums <c>C[r, j]</c> the same way: fused multiply-adds in <c>p</c> order from zero, then one fused
/// multiply-add (or a multiply) with <c>alpha</c> into <c>C</c>. Which kernel runs, and how its tile is stored, changes
/// no bits.
/// </remarks>
internal static unsafe class MicroKernels
{
    /// <summary>Rows of the register tile.</summary>
    public const int MR = 8;

    private static readonly bool Wide = Vector512.IsHardwareAccelerated;

    /// <summary>Columns of the register tile: two vectors.</summary>
    public static readonly int NR = Wide ? 32 : 16;

    /// <summary>
    /// One register tile, <c>C[r, j] = (accumulate ? C : 0) ⊕ alpha · Σ_{p &lt; kc} a[r·ars + p·acs] · b[p·bs + j]</c> for
    /// <c>r &lt; rows ≤ </c><see cref="MR"/>, <c>j &lt; cols ≤ </c><see cref="NR"/>, on this machine's vector width; the
    /// engine's own loop and callers that lay out their own operands both call it. Each row of <paramref name="b"/> is read <see cref="NR"/> wide whatever <paramref name="cols"/> is.
    /// </summary>
    public static void Tile(float* a, nint ars, nint acs, float* b, nint bs, int kc, float* c, nint crs, nint ccs, int rows, int cols, float alpha, bool accumulate)
    {
        if (rows <= 2)
        {
            // A batch of one or two rows (a layer at batch 1, a GEMV): row by row, instead of the full tile's eight rows
            // repeating the last one. Each element's arithmetic is the full tile's.
            for (int r = 0; r < rows; r++)
            {
                if (Wide) Row512(a + r * ars, acs, b, bs, kc, c + r * crs, ccs, cols, alpha, accumulate);
                else Row256(a + r * ars, acs, b, bs, kc, c + r * crs, ccs, cols, alpha, accumulate);
            }
            return;
        }
        if (Wide && cols <= 16)
            Micro512Half(a, ars, acs, b, bs, kc, c, crs, ccs, rows, cols, alpha, accumulate);
        else if (Wide)
            Micro512(a, ars, acs, b, bs, kc, c, crs, ccs, rows, cols, alpha, accumulate);
        else
            Micro256(a, ars, acs, b, bs, kc, c, crs, ccs, rows, cols, alpha, accumulate);
    }

    /// <summary>
    /// <c>C[r, j] = (accumulate ? C : 0) ⊕ alpha · Σ_p a[r, p]·b[p, j]</c> for an 8 × 32 tile (rows ≤ 8 and
    /// 16 &lt; cols ≤ 32 of it stored; <see cref="Tile"/> sends 16 columns or fewer to <see cref="Micro512Half"/>). Rows past
    /// <paramref name="rows"/> repeat the last row so the loop stays branch-free.
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

    /// <summary>One row of a <see cref="Micro512"/> (or, for 16 columns or fewer, <see cref="Micro512Half"/>) tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row512(float* a, nint acs, float* b, nint bs, int kc, float* c, nint ccs, int cols, float alpha, bool accumulate)
    {
        var alphaV = Vector512.Create(alpha);
        nint off = 0;
        if (cols <= 16)
        {
            Vector512<float> c0 = default;
            for (int p = 0; p < kc; p++)
            {
                c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[off]), Vector512.Load(b), c0);
                off += acs;
                b += bs;
            }
            if (cols == 16 && ccs == 1)
            {
                Store512Half(c, alphaV, c0, accumulate);
                return;
            }
            float* half = stackalloc float[16];
            c0.Store(half);
            Scatter(half, 16, c, 0, ccs, 1, cols, alpha, accumulate);
            return;
        }
        Vector512<float> lo = default, hi = default;
        for (int p = 0; p < kc; p++)
        {
            var x = Vector512.Create(a[off]);
            lo = Vector512.FusedMultiplyAdd(x, Vector512.Load(b), lo);
            hi = Vector512.FusedMultiplyAdd(x, Vector512.Load(b + 16), hi);
            off += acs;
            b += bs;
        }
        if (cols == 32 && ccs == 1)
        {
            Store512(c, alphaV, lo, hi, accumulate);
            return;
        }
        float* tile = stackalloc float[32];
        lo.Store(tile);
        hi.Store(tile + 16);
        Scatter(tile, 32, c, 0, ccs, 1, cols, alpha, accumulate);
    }

    /// <summary>One row of a <see cref="Micro256"/> tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row256(float* a, nint acs, float* b, nint bs, int kc, float* c, nint ccs, int cols, float alpha, bool accumulate)
    {
        Vector256<float> lo = default, hi = default;
        nint off = 0;
        for (int p = 0; p < kc; p++)
        {
            var x = Vector256.Create(a[off]);
            lo = Vector256.FusedMultiplyAdd(x, Vector256.Load(b), lo);
            hi = Vector256.FusedMultiplyAdd(x, Vector256.Load(b + 8), hi);
            off += acs;
            b += bs;
        }
        if (cols == 16 && ccs == 1)
        {
            Store256(c, Vector256.Create(alpha), lo, hi, accumulate);
            return;
        }
        float* tile = stackalloc float[16];
        lo.Store(tile);
        hi.Store(tile + 8);
        Scatter(tile, 16, c, 0, ccs, 1, cols, alpha, accumulate);
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
