using System;
using System.Buffers;

namespace StructMat.Runtime.Kernels;

/// <summary>
/// The elementwise (Hadamard) product of two low-ranks, <c>ΔW = (B1 A1) ∘ (B2 A2)</c> (PEFT LoHa: <c>hada_w1_a = B1</c>,
/// <c>hada_w1_b = A1</c>, <c>hada_w2_a = B2</c>, <c>hada_w2_b = A2</c>), applied without the <c>out × in</c> matrix: by the
/// face-splitting identity <c>(B1 A1) ∘ (B2 A2) = B̃ Ã</c> with <c>Ã[(p,q), i] = A1[p,i]·A2[q,i]</c> (<c>[r1·r2, in]</c>) and
/// <c>B̃[o, (p,q)] = B1[o,p]·B2[o,q]</c> (<c>[out, r1·r2]</c>), it is a low-rank of rank r1·r2. Each call builds Ã and B̃
/// (<c>r1·r2·(in + out)</c> products) and runs the batch through the block-matmul engine: <c>r1·r2·(in + out)</c>
/// multiply-adds per row. Layouts are row-major: <c>A [r, in]</c>, <c>B [out, r]</c>, activations <c>[batch, features]</c>.
/// Spans must hold at least the elements their shapes need; bad arguments throw <see cref="ArgumentException"/> naming
/// the argument.
/// </summary>
public static class HadamardKernels
{
    /// <summary><c>y = (accumulate ? y : 0) + ((B1 A1) ∘ (B2 A2)) x</c> for every row.</summary>
    public static void Apply(ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<float> a1, ReadOnlySpan<float> b1, ReadOnlySpan<float> a2, ReadOnlySpan<float> b2,
        int batch, int inFeatures, int outFeatures, int r1, int r2, bool accumulate)
    {
        Validate(batch, inFeatures, outFeatures, r1, r2, a1, b1, a2, b2);
        KernelArguments.Length(x.Length, (long)batch * inFeatures, nameof(x), "batch * in");
        KernelArguments.Length(y.Length, (long)batch * outFeatures, nameof(y), "batch * out");
        using var f = Factors.Rent(a1, b1, a2, b2, inFeatures, outFeatures, r1, r2);
        var rank = r1 * r2;
        var t = ArrayPool<float>.Shared.Rent(Math.Max(1, batch * rank));
        try
        {
            // t = Ã x, y (+)= B̃ t.
            CpuKernels.BlockMatMul(x, t, f.Down, batch, 1, rank, inFeatures, BlockLayout.Contiguous, BlockLayout.Contiguous, 1f, false, weightIsParameter: false);
            CpuKernels.BlockMatMul(t, y, f.Up, batch, 1, outFeatures, rank, BlockLayout.Contiguous, BlockLayout.Contiguous, 1f, accumulate, weightIsParameter: false);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(t);
        }
    }

    /// <summary><c>dx = (accumulate ? dx : 0) + ((B1 A1) ∘ (B2 A2))ᵀ dy</c> for every row (the input gradient of <see cref="Apply"/>).</summary>
    public static void ApplyTransposed(ReadOnlySpan<float> dy, Span<float> dx, ReadOnlySpan<float> a1, ReadOnlySpan<float> b1, ReadOnlySpan<float> a2, ReadOnlySpan<float> b2,
        int batch, int inFeatures, int outFeatures, int r1, int r2, bool accumulate)
    {
        Validate(batch, inFeatures, outFeatures, r1, r2, a1, b1, a2, b2);
        KernelArguments.Length(dy.Length, (long)batch * outFeatures, nameof(dy), "batch * out");
        KernelArguments.Length(dx.Length, (long)batch * inFeatures, nameof(dx), "batch * in");
        using var f = Factors.Rent(a1, b1, a2, b2, inFeatures, outFeatures, r1, r2);
        var rank = r1 * r2;
        var u = ArrayPool<float>.Shared.Rent(Math.Max(1, batch * rank));
        try
        {
            // u = B̃ᵀ dy, dx (+)= Ãᵀ u.
            CpuKernels.BlockMatMulTransposed(dy, u, f.Up, batch, 1, outFeatures, rank, BlockLayout.Contiguous, BlockLayout.Contiguous, 1f, false, weightIsParameter: false);
            CpuKernels.BlockMatMulTransposed(u, dx, f.Down, batch, 1, rank, inFeatures, BlockLayout.Contiguous, BlockLayout.Contiguous, 1f, accumulate, weightIsParameter: false);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(u);
        }
    }

    /// <summary>
    /// <c>gradient += ∂L/∂factor</c>, <c>L = Σ_rows dyᵀ (Apply x)</c>, for one factor (<paramref name="target"/>: 0 = A1,
    /// 1 = B1, 2 = A2, 3 = B2): <c>∂L/∂Ã = (B̃ᵀ dy) xᵀ</c> summed over rows gives <c>∂L/∂A1[p,i] = Σ_q ∂L/∂Ã[(p,q),i]·A2[q,i]</c>
    /// and <c>∂L/∂A2[q,i] = Σ_p ∂L/∂Ã[(p,q),i]·A1[p,i]</c>; <c>∂L/∂B̃ = dy (Ã x)ᵀ</c> likewise gives B1 and B2.
    /// </summary>
    public static void Gradient(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> a1, ReadOnlySpan<float> b1, ReadOnlySpan<float> a2, ReadOnlySpan<float> b2,
        Span<float> gradient, int target, int batch, int inFeatures, int outFeatures, int r1, int r2)
    {
        Validate(batch, inFeatures, outFeatures, r1, r2, a1, b1, a2, b2);
        if (target is < 0 or > 3) throw new ArgumentException($"target must be 0 (A1), 1 (B1), 2 (A2) or 3 (B2), got {target}.", nameof(target));
        KernelArguments.Length(x.Length, (long)batch * inFeatures, nameof(x), "batch * in");
        KernelArguments.Length(dy.Length, (long)batch * outFeatures, nameof(dy), "batch * out");
        var (rows, cols) = target switch { 0 => (r1, inFeatures), 1 => (outFeatures, r1), 2 => (r2, inFeatures), _ => (outFeatures, r2) };
        KernelArguments.Length(gradient.Length, (long)rows * cols, nameof(gradient), "the factor's size");
        if (batch == 0) return;
        using var f = Factors.Rent(a1, b1, a2, b2, inFeatures, outFeatures, r1, r2);
        var rank = r1 * r2;
        var activations = ArrayPool<float>.Shared.Rent(batch * rank);
        var product = ArrayPool<float>.Shared.Rent(rank * Math.Max(inFeatures, outFeatures));
        try
        {
            var s = activations.AsSpan(0, batch * rank);
            if (target % 2 == 0)
            {
                // ∂L/∂Ã [rank, in] = Σ_rows (B̃ᵀ dy) xᵀ.
                var dDown = product.AsSpan(0, rank * inFeatures);
                CpuKernels.BlockMatMulTransposed(dy, s, f.Up, batch, 1, outFeatures, rank, BlockLayout.Contiguous, BlockLayout.Contiguous, 1f, false, weightIsParameter: false);
                dDown.Clear();
                CpuKernels.BlockWeightGradient(s, x, dDown, batch, 1, rank, inFeatures, BlockLayout.Contiguous, BlockLayout.Contiguous, 1f);
                var other = target == 0 ? a2 : a1;
                for (var p = 0; p < r1; p++)
                    for (var q = 0; q < r2; q++)
                    {
                        var row = dDown.Slice((p * r2 + q) * inFeatures, inFeatures);
                        var (mine, theirs) = target == 0 ? (p, q) : (q, p);
                        var g = gradient.Slice(mine * inFeatures, inFeatures);
                        var o = other.Slice(theirs * inFeatures, inFeatures);
                        for (var i = 0; i < inFeatures; i++) g[i] += row[i] * o[i];
                    }
            }
            else
            {
                // ∂L/∂B̃ [out, rank] = Σ_rows dy (Ã x)ᵀ.
                var dUp = product.AsSpan(0, outFeatures * rank);
                CpuKernels.BlockMatMul(x, s, f.Down, batch, 1, rank, inFeatures, BlockLayout.Contiguous, BlockLayout.Contiguous, 1f, false, weightIsParameter: false);
                dUp.Clear();
                CpuKernels.BlockWeightGradient(dy, s, dUp, batch, 1, outFeatures, rank, BlockLayout.Contiguous, BlockLayout.Contiguous, 1f);
                var other = target == 1 ? b2 : b1;
                var (otherRank, mineRank) = target == 1 ? (r2, r1) : (r1, r2);
                for (var o = 0; o < outFeatures; o++)
                    for (var p = 0; p < r1; p++)
                        for (var q = 0; q < r2; q++)
                        {
                            var (mine, theirs) = target == 1 ? (p, q) : (q, p);
                            gradient[o * mineRank + mine] += dUp[o * rank + p * r2 + q] * other[o * otherRank + theirs];
                        }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(activations);
            ArrayPool<float>.Shared.Return(product);
        }
    }

    private readonly ref struct Factors
    {
        private readonly float[] _down;
        private readonly float[] _up;
        private readonly int _downLength;
        private readonly int _upLength;

        private Factors(float[] down, int downLength, float[] up, int upLength)
        {
            _down = down;
            _up = up;
            _downLength = downLength;
            _upLength = upLength;
        }

        public ReadOnlySpan<float> Down => _down.AsSpan(0, _downLength);

        public ReadOnlySpan<float> Up => _up.AsSpan(0, _upLength);

        public static Factors Rent(ReadOnlySpan<float> a1, ReadOnlySpan<float> b1, ReadOnlySpan<float> a2, ReadOnlySpan<float> b2, int inFeatures, int outFeatures, int r1, int r2)
        {
            var rank = r1 * r2;
            var down = ArrayPool<float>.Shared.Rent(Math.Max(1, rank * inFeatures));
            var up = ArrayPool<float>.Shared.Rent(Math.Max(1, outFeatures * rank));
            for (var p = 0; p < r1; p++)
                for (var q = 0; q < r2; q++)
                {
                    var row = down.AsSpan((p * r2 + q) * inFeatures, inFeatures);
                    var x = a1.Slice(p * inFeatures, inFeatures);
                    var y = a2.Slice(q * inFeatures, inFeatures);
                    for (var i = 0; i < inFeatures; i++) row[i] = x[i] * y[i];
                }
            for (var o = 0; o < outFeatures; o++)
                for (var p = 0; p < r1; p++)
                    for (var q = 0; q < r2; q++) up[o * rank + p * r2 + q] = b1[o * r1 + p] * b2[o * r2 + q];
            return new Factors(down, rank * inFeatures, up, outFeatures * rank);
        }

        public void Dispose()
        {
            ArrayPool<float>.Shared.Return(_down);
            ArrayPool<float>.Shared.Return(_up);
        }
    }

    private static void Validate(int batch, int inFeatures, int outFeatures, int r1, int r2,
        ReadOnlySpan<float> a1, ReadOnlySpan<float> b1, ReadOnlySpan<float> a2, ReadOnlySpan<float> b2)
    {
        KernelArguments.NonNegative(batch, nameof(batch));
        KernelArguments.NonNegative(inFeatures, "inFeatures");
        KernelArguments.NonNegative(outFeatures, "outFeatures");
        if (r1 < 1) throw new ArgumentException($"r1 must be positive, got {r1}.", nameof(r1));
        if (r2 < 1) throw new ArgumentException($"r2 must be positive, got {r2}.", nameof(r2));
        KernelArguments.FitsInt32((long)r1 * r2 * Math.Max(inFeatures, outFeatures), nameof(r2), "r1 * r2 * features");
        KernelArguments.FitsInt32((long)batch * Math.Max(Math.Max(inFeatures, outFeatures), r1 * r2), nameof(batch), "batch * features");
        KernelArguments.Length(a1.Length, (long)r1 * inFeatures, nameof(a1), "r1 * in");
        KernelArguments.Length(b1.Length, (long)outFeatures * r1, nameof(b1), "out * r1");
        KernelArguments.Length(a2.Length, (long)r2 * inFeatures, nameof(a2), "r2 * in");
        KernelArguments.Length(b2.Length, (long)outFeatures * r2, nameof(b2), "out * r2");
    }
}
