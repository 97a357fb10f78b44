using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace StructMat.Runtime.Kernels;

/// <summary>
/// Dot products and axpy updates on raw pointers. Each result element is produced by one fixed sequence of
/// operations that depends only on the length, never on alignment, on which rows share a call or on
/// threading: that is what makes the block kernels bit-for-bit deterministic. The four-row variants
/// reuse one load of the shared operand and do exactly the per-row work of the one-row variants.
/// </summary>
internal static unsafe class SimdKernels
{
    private static readonly bool Use512 = Vector512.IsHardwareAccelerated;

    /// <summary><c>Σ_k a[k]·b[k]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(float* a, float* b, int n)
    {
        int k = 0;
        float sum = 0f;
        if (Use512)
        {
            if (n >= 16)
            {
                var acc = Vector512<float>.Zero;
                for (; k <= n - 16; k += 16)
                    acc = Vector512.FusedMultiplyAdd(Vector512.Load(a + k), Vector512.Load(b + k), acc);
                sum = Vector512.Sum(acc);
            }
        }
        else if (n >= 8)
        {
            var acc = Vector256<float>.Zero;
            for (; k <= n - 8; k += 8)
                acc = Vector256.FusedMultiplyAdd(Vector256.Load(a + k), Vector256.Load(b + k), acc);
            sum = Vector256.Sum(acc);
        }
        for (; k < n; k++) sum = MathF.FusedMultiplyAdd(a[k], b[k], sum);
        return sum;
    }

    /// <summary>Four dot products sharing <paramref name="a"/>; each equals <see cref="Dot"/> bit for bit.</summary>
    public static void Dot4(float* a, float* b0, float* b1, float* b2, float* b3, int n, float* result)
    {
        int k = 0;
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
        if (Use512)
        {
            if (n >= 16)
            {
                var acc0 = Vector512<float>.Zero;
                var acc1 = Vector512<float>.Zero;
                var acc2 = Vector512<float>.Zero;
                var acc3 = Vector512<float>.Zero;
                for (; k <= n - 16; k += 16)
                {
                    var av = Vector512.Load(a + k);
                    acc0 = Vector512.FusedMultiplyAdd(av, Vector512.Load(b0 + k), acc0);
                    acc1 = Vector512.FusedMultiplyAdd(av, Vector512.Load(b1 + k), acc1);
                    acc2 = Vector512.FusedMultiplyAdd(av, Vector512.Load(b2 + k), acc2);
                    acc3 = Vector512.FusedMultiplyAdd(av, Vector512.Load(b3 + k), acc3);
                }
                s0 = Vector512.Sum(acc0);
                s1 = Vector512.Sum(acc1);
                s2 = Vector512.Sum(acc2);
                s3 = Vector512.Sum(acc3);
            }
        }
        else if (n >= 8)
        {
            var acc0 = Vector256<float>.Zero;
            var acc1 = Vector256<float>.Zero;
            var acc2 = Vector256<float>.Zero;
            var acc3 = Vector256<float>.Zero;
            for (; k <= n - 8; k += 8)
            {
                var av = Vector256.Load(a + k);
                acc0 = Vector256.FusedMultiplyAdd(av, Vector256.Load(b0 + k), acc0);
                acc1 = Vector256.FusedMultiplyAdd(av, Vector256.Load(b1 + k), acc1);
                acc2 = Vector256.FusedMultiplyAdd(av, Vector256.Load(b2 + k), acc2);
                acc3 = Vector256.FusedMultiplyAdd(av, Vector256.Load(b3 + k), acc3);
            }
            s0 = Vector256.Sum(acc0);
            s1 = Vector256.Sum(acc1);
            s2 = Vector256.Sum(acc2);
            s3 = Vector256.Sum(acc3);
        }
        for (; k < n; k++)
        {
            float av = a[k];
            s0 = MathF.FusedMultiplyAdd(av, b0[k], s0);
            s1 = MathF.FusedMultiplyAdd(av, b1[k], s1);
            s2 = MathF.FusedMultiplyAdd(av, b2[k], s2);
            s3 = MathF.FusedMultiplyAdd(av, b3[k], s3);
        }
        result[0] = s0;
        result[1] = s1;
        result[2] = s2;
        result[3] = s3;
    }

    /// <summary><c>y[k] = fma(c, a[k], y[k])</c>.</summary>
    public static void Axpy(float c, float* a, float* y, int n)
    {
        int k = 0;
        if (Use512)
        {
            var cv = Vector512.Create(c);
            for (; k <= n - 16; k += 16)
                Vector512.FusedMultiplyAdd(cv, Vector512.Load(a + k), Vector512.Load(y + k)).Store(y + k);
        }
        else
        {
            var cv = Vector256.Create(c);
            for (; k <= n - 8; k += 8)
                Vector256.FusedMultiplyAdd(cv, Vector256.Load(a + k), Vector256.Load(y + k)).Store(y + k);
        }
        for (; k < n; k++) y[k] = MathF.FusedMultiplyAdd(c, a[k], y[k]);
    }

    /// <summary>Four axpy updates sharing <paramref name="a"/>; each equals <see cref="Axpy"/> bit for bit.</summary>
    public static void Axpy4(float* c, float* a, float* y0, float* y1, float* y2, float* y3, int n)
    {
        int k = 0;
        if (Use512)
        {
            var c0 = Vector512.Create(c[0]);
            var c1 = Vector512.Create(c[1]);
            var c2 = Vector512.Create(c[2]);
            var c3 = Vector512.Create(c[3]);
            for (; k <= n - 16; k += 16)
            {
                var av = Vector512.Load(a + k);
                Vector512.FusedMultiplyAdd(c0, av, Vector512.Load(y0 + k)).Store(y0 + k);
                Vector512.FusedMultiplyAdd(c1, av, Vector512.Load(y1 + k)).Store(y1 + k);
                Vector512.FusedMultiplyAdd(c2, av, Vector512.Load(y2 + k)).Store(y2 + k);
                Vector512.FusedMultiplyAdd(c3, av, Vector512.Load(y3 + k)).Store(y3 + k);
            }
        }
        else
        {
            var c0 = Vector256.Create(c[0]);
            var c1 = Vector256.Create(c[1]);
            var c2 = Vector256.Create(c[2]);
            var c3 = Vector256.Create(c[3]);
            for (; k <= n - 8; k += 8)
            {
                var av = Vector256.Load(a + k);
                Vector256.FusedMultiplyAdd(c0, av, Vector256.Load(y0 + k)).Store(y0 + k);
                Vector256.FusedMultiplyAdd(c1, av, Vector256.Load(y1 + k)).Store(y1 + k);
                Vector256.FusedMultiplyAdd(c2, av, Vector256.Load(y2 + k)).Store(y2 + k);
                Vector256.FusedMultiplyAdd(c3, av, Vector256.Load(y3 + k)).Store(y3 + k);
            }
        }
        for (; k < n; k++)
        {
            float av = a[k];
            y0[k] = MathF.FusedMultiplyAdd(c[0], av, y0[k]);
            y1[k] = MathF.FusedMultiplyAdd(c[1], av, y1[k]);
            y2[k] = MathF.FusedMultiplyAdd(c[2], av, y2[k]);
            y3[k] = MathF.FusedMultiplyAdd(c[3], av, y3[k]);
        }
    }
}
