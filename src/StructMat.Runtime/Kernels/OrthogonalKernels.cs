using System;
using System.Buffers;
using System.Threading.Tasks;

namespace StructMat.Runtime.Kernels;

/// <summary>How a tensor holds the skew-symmetric matrices a Cayley rotation is built from.</summary>
public enum SkewLayout
{
    /// <summary>PEFT OFT's <c>oft_R</c>: per block the strict upper triangle, row by row, <c>b(b−1)/2</c> values.</summary>
    PackedUpper,

    /// <summary>PEFT BOFT's <c>boft_R</c>: per block a full <c>b×b</c> matrix A, and <c>Q = ½(A − Aᵀ)</c>.</summary>
    Full,
}

/// <summary>
/// PEFT's OFT rotation (and BOFT's, whose blocks are <see cref="SkewLayout.Full"/> matrices with <c>Q = ½(A − Aᵀ)</c>
/// and always the exact transform), as a block-diagonal map that is never an <c>n×n</c> matrix. <c>oft_R [blocks, b(b−1)/2]</c>
/// holds, per block, the strict upper triangle of a skew-symmetric <c>Q</c> in row-major order (PyTorch's
/// <c>triu_indices(b, b, 1)</c>: <c>(0,1), (0,2), …, (0,b−1), (1,2), …</c>), so <c>Q[r,c] = v</c>, <c>Q[c,r] = −v</c>.
/// Each block's rotation <c>R</c> is PEFT's <c>_cayley_batch</c>:
/// <list type="bullet">
/// <item><c>terms = 0</c>: the exact Cayley transform <c>R = (I − Q)(I + Q)⁻¹</c> (PEFT's <c>torch.linalg.solve(I + Q, I − Q, left=False)</c>);</item>
/// <item><c>terms = k ≥ 1</c>: PEFT's Neumann series, which approximates <c>(I + Q)(I − Q)⁻¹ = Rᵀ</c> of the exact mode, not
/// <c>R</c>: <c>I</c> for k = 1, <c>I + 2Q</c> for k = 2, and for k ≥ 3 <c>I + 2Q + … + 2Q^(P−1) + Q^P</c> with
/// <c>P = max(3, k − 1)</c> (so k = 3 and k = 4 give the same series, as PEFT's loop does).</item>
/// </list>
/// PEFT rotates the input rows as <c>einsum("...rk,rkc->...rc", x, R)</c>: block i of a column vector becomes
/// <c>R_iᵀ x_i</c>. So <see cref="Apply"/> computes <c>y_i = R_iᵀ x_i</c>, and <see cref="ApplyTransposed"/>
/// <c>dx_i = R_i dy_i</c>.
/// </summary>
/// <remarks>
/// Each call builds the rotations in float64 (<c>blocks·b³</c> work per matrix power, independent of the batch),
/// rounds them to float32 and runs the batch through the block-matmul engine (<see cref="CpuKernels"/>): the same
/// deterministic products as <c>blockdiag</c>. <see cref="Gradient"/> forms <c>∂L/∂R_i = Σ_rows x_i dy_iᵀ</c> on the same
/// engine and takes it back through the series (Horner's scheme, reversed) or the inverse
/// (<c>∂L/∂Q = −2 A⁻ᵀ (∂L/∂R) A⁻ᵀ</c>, <c>A = I + Q</c>) in float64, then onto the packed triangle
/// (<c>∂L/∂v = ∂L/∂Q[r,c] − ∂L/∂Q[c,r]</c>). Spans must hold at least the elements their shapes need; outputs must not
/// overlap inputs. Bad arguments throw <see cref="ArgumentException"/> naming the argument.
/// </remarks>
public static class OrthogonalKernels
{
    /// <summary>The most series terms a kernel accepts (the language's limit on <c>neumann</c>).</summary>
    public const int MaxTerms = 16;

    /// <summary>Elements of one block's packed triangle: <c>b(b−1)/2</c>.</summary>
    public static int PackedLength(int block) => block * (block - 1) / 2;

    /// <summary>Elements of one block's parameters in <paramref name="layout"/>.</summary>
    public static int BlockLength(int block, SkewLayout layout) => layout == SkewLayout.Full ? block * block : PackedLength(block);

    /// <summary><c>y_i = (accumulate ? y_i : 0) + R_iᵀ x_i</c> for every block i of every row (PEFT's OFT input rotation).</summary>
    public static void Apply(ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<float> packed, int batch, int blocks, int block, int terms, bool accumulate,
        SkewLayout skew = SkewLayout.PackedUpper)
    {
        var n = Validate(batch, blocks, block, terms, packed, nameof(packed), skew);
        KernelArguments.Length(x.Length, (long)batch * n, nameof(x), "batch * n");
        KernelArguments.Length(y.Length, (long)batch * n, nameof(y), "batch * n");
        KernelArguments.NoOverlap(x.Slice(0, batch * n), y.Slice(0, batch * n), nameof(x), nameof(y));
        var w = RentWeights(packed, blocks, block, terms, skew);
        try
        {
            CpuKernels.BlockMatMul(x, y, w.AsSpan(0, blocks * block * block), batch, blocks, block, block, BlockLayout.Contiguous, BlockLayout.Contiguous,
                1f, accumulate, weightIsParameter: false);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(w);
        }
    }

    /// <summary><c>dx_i = (accumulate ? dx_i : 0) + R_i dy_i</c>: the input gradient of <see cref="Apply"/>.</summary>
    public static void ApplyTransposed(ReadOnlySpan<float> dy, Span<float> dx, ReadOnlySpan<float> packed, int batch, int blocks, int block, int terms, bool accumulate,
        SkewLayout skew = SkewLayout.PackedUpper)
    {
        var n = Validate(batch, blocks, block, terms, packed, nameof(packed), skew);
        KernelArguments.Length(dy.Length, (long)batch * n, nameof(dy), "batch * n");
        KernelArguments.Length(dx.Length, (long)batch * n, nameof(dx), "batch * n");
        KernelArguments.NoOverlap(dy.Slice(0, batch * n), dx.Slice(0, batch * n), nameof(dy), nameof(dx));
        var w = RentWeights(packed, blocks, block, terms, skew);
        try
        {
            CpuKernels.BlockMatMulTransposed(dy, dx, w.AsSpan(0, blocks * block * block), batch, blocks, block, block, BlockLayout.Contiguous, BlockLayout.Contiguous,
                1f, accumulate, weightIsParameter: false);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(w);
        }
    }

    /// <summary><c>dPacked += ∂L/∂oft_R</c> for <c>L = Σ_rows dyᵀ (Apply x)</c>.</summary>
    public static void Gradient(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> packed, Span<float> dPacked, int batch, int blocks, int block, int terms,
        SkewLayout skew = SkewLayout.PackedUpper)
    {
        var n = Validate(batch, blocks, block, terms, packed, nameof(packed), skew);
        KernelArguments.Length(x.Length, (long)batch * n, nameof(x), "batch * n");
        KernelArguments.Length(dy.Length, (long)batch * n, nameof(dy), "batch * n");
        var m = BlockLength(block, skew);
        KernelArguments.Length(dPacked.Length, (long)blocks * m, nameof(dPacked), "blocks * block parameters");
        KernelArguments.NoOverlap(x.Slice(0, batch * n), dPacked.Slice(0, blocks * m), nameof(x), nameof(dPacked));
        KernelArguments.NoOverlap(dy.Slice(0, batch * n), dPacked.Slice(0, blocks * m), nameof(dy), nameof(dPacked));
        KernelArguments.NoOverlap(packed.Slice(0, blocks * m), dPacked.Slice(0, blocks * m), nameof(packed), nameof(dPacked));
        if (batch == 0 || blocks == 0 || m == 0) return;
        var bb = block * block;
        var dw = ArrayPool<float>.Shared.Rent(blocks * bb);
        try
        {
            // dW_i[c, k] = Σ_rows dy_i[c] x_i[k] for the applied weight W_i = R_iᵀ, so ∂L/∂R_i = dW_iᵀ.
            var dwSpan = dw.AsSpan(0, blocks * bb);
            dwSpan.Clear();
            CpuKernels.BlockWeightGradient(dy, x, dwSpan, batch, blocks, block, block, BlockLayout.Contiguous, BlockLayout.Contiguous, 1f);
            var source = packed.Slice(0, blocks * m).ToArray();
            var target = new double[blocks * m];
            EachBlock(blocks, block, i =>
            {
                var q = Skew(source.AsSpan(i * m, m), block, skew);
                var g = new double[bb];
                for (var r = 0; r < block; r++)
                    for (var c = 0; c < block; c++) g[r * block + c] = dw[i * bb + c * block + r];
                var dq = terms == 0 ? ExactAdjoint(q, g, block) : SeriesAdjoint(q, g, block, terms);
                if (skew == SkewLayout.Full)
                {
                    // Q = ½(A − Aᵀ) ⇒ ∂L/∂A = ½(∂L/∂Q − ∂L/∂Qᵀ).
                    for (var r = 0; r < block; r++)
                        for (var c = 0; c < block; c++) target[i * m + r * block + c] = 0.5 * (dq[r * block + c] - dq[c * block + r]);
                    return;
                }
                var e = 0;
                for (var r = 0; r < block; r++)
                    for (var c = r + 1; c < block; c++, e++) target[i * m + e] = dq[r * block + c] - dq[c * block + r];
            });
            for (var e = 0; e < target.Length; e++) dPacked[e] += (float)target[e];
        }
        finally
        {
            ArrayPool<float>.Shared.Return(dw);
        }
    }

    /// <summary>PEFT's rotation matrices <c>R_i</c> (row-major <c>[blocks, b, b]</c>) in float64: for merging and tests.</summary>
    public static double[] Rotations(ReadOnlySpan<float> packed, int blocks, int block, int terms, SkewLayout skew = SkewLayout.PackedUpper)
    {
        Validate(0, blocks, block, terms, packed, nameof(packed), skew);
        var m = BlockLength(block, skew);
        var source = packed.Slice(0, blocks * m).ToArray();
        var bb = block * block;
        var result = new double[blocks * bb];
        EachBlock(blocks, block, i => Rotation(Skew(source.AsSpan(i * m, m), block, skew), block, terms).CopyTo(result, i * bb));
        return result;
    }

    // The applied weights W_i = R_iᵀ as float32 [blocks, b, b] (a pooled array: return it).
    private static float[] RentWeights(ReadOnlySpan<float> packed, int blocks, int block, int terms, SkewLayout skew)
    {
        var rotations = Rotations(packed, blocks, block, terms, skew);
        var bb = block * block;
        var w = ArrayPool<float>.Shared.Rent(Math.Max(1, blocks * bb));
        for (var i = 0; i < blocks; i++)
            for (var r = 0; r < block; r++)
                for (var c = 0; c < block; c++) w[i * bb + c * block + r] = (float)rotations[i * bb + r * block + c];
        return w;
    }

    private static void EachBlock(int blocks, int block, Action<int> body)
    {
        // Each block is independent, so splitting them over threads changes no result.
        if (blocks > 1 && (long)blocks * block * block * block >= 1L << 18 && !KernelThreading.IsSerial) Parallel.For(0, blocks, body);
        else for (var i = 0; i < blocks; i++) body(i);
    }

    private static double[] Skew(ReadOnlySpan<float> v, int b, SkewLayout skew)
    {
        var q = new double[b * b];
        if (skew == SkewLayout.Full)
        {
            for (var r = 0; r < b; r++)
                for (var c = 0; c < b; c++) q[r * b + c] = 0.5 * ((double)v[r * b + c] - v[c * b + r]);
            return q;
        }
        var e = 0;
        for (var r = 0; r < b; r++)
            for (var c = r + 1; c < b; c++, e++)
            {
                q[r * b + c] = v[e];
                q[c * b + r] = -v[e];
            }
        return q;
    }

    /// <summary>The series' coefficients c_0 … c_P of Q^0 … Q^P, as PEFT's loop adds them.</summary>
    internal static double[] SeriesCoefficients(int terms)
    {
        if (terms <= 1) return new[] { 1.0 };
        if (terms == 2) return new[] { 1.0, 2.0 };
        var top = Math.Max(3, terms - 1);
        var c = new double[top + 1];
        c[0] = 1;
        for (var p = 1; p < top; p++) c[p] = 2;
        c[top] = 1;
        return c;
    }

    private static double[] Rotation(double[] q, int b, int terms)
    {
        if (terms == 0)
        {
            // (I − Q)(I + Q)⁻¹ = (2I − A)A⁻¹ = 2A⁻¹ − I with A = I + Q.
            var inverse = Inverse(AddIdentity(q, b), b);
            for (var k = 0; k < b * b; k++) inverse[k] *= 2;
            for (var k = 0; k < b; k++) inverse[k * b + k] -= 1;
            return inverse;
        }
        // Horner: H_P = c_P I, H_p = c_p I + Q H_(p+1), R = H_0.
        var c = SeriesCoefficients(terms);
        var h = Identity(b, c[^1]);
        for (var p = c.Length - 2; p >= 0; p--)
        {
            h = MatMul(q, h, b);
            for (var k = 0; k < b; k++) h[k * b + k] += c[p];
        }
        return h;
    }

    // ∂L/∂Q from G = ∂L/∂R, reversing Horner's scheme: H_p = c_p I + Q H_(p+1) gives ∂L/∂Q += G_p H_(p+1)ᵀ and
    // G_(p+1) = Qᵀ G_p, starting from G_0 = G.
    private static double[] SeriesAdjoint(double[] q, double[] g, int b, int terms)
    {
        var c = SeriesCoefficients(terms);
        var top = c.Length - 1;
        var h = new double[top + 1][];
        h[top] = Identity(b, c[top]);
        for (var p = top - 1; p >= 1; p--)
        {
            h[p] = MatMul(q, h[p + 1], b);
            for (var k = 0; k < b; k++) h[p][k * b + k] += c[p];
        }
        var dq = new double[b * b];
        var gp = g;
        for (var p = 0; p < top; p++)
        {
            AddMatMulTransposedRight(gp, h[p + 1], dq, b);
            if (p + 1 < top) gp = MatMulTransposedLeft(q, gp, b);
        }
        return dq;
    }

    // R = 2A⁻¹ − I ⇒ dR = −2 A⁻¹ dQ A⁻¹ ⇒ ∂L/∂Q = −2 A⁻ᵀ G A⁻ᵀ.
    private static double[] ExactAdjoint(double[] q, double[] g, int b)
    {
        var inverse = Inverse(AddIdentity(q, b), b);
        var it = Transpose(inverse, b);
        var dq = MatMul(MatMul(it, g, b), it, b);
        for (var k = 0; k < dq.Length; k++) dq[k] *= -2;
        return dq;
    }

    private static double[] Identity(int b, double value)
    {
        var m = new double[b * b];
        for (var k = 0; k < b; k++) m[k * b + k] = value;
        return m;
    }

    private static double[] AddIdentity(double[] q, int b)
    {
        var a = (double[])q.Clone();
        for (var k = 0; k < b; k++) a[k * b + k] += 1;
        return a;
    }

    private static double[] Transpose(double[] a, int b)
    {
        var t = new double[b * b];
        for (var r = 0; r < b; r++)
            for (var c = 0; c < b; c++) t[c * b + r] = a[r * b + c];
        return t;
    }

    private static double[] MatMul(double[] a, double[] m, int b)
    {
        var result = new double[b * b];
        for (var r = 0; r < b; r++)
            for (var k = 0; k < b; k++)
            {
                var ark = a[r * b + k];
                if (ark == 0) continue;
                for (var c = 0; c < b; c++) result[r * b + c] += ark * m[k * b + c];
            }
        return result;
    }

    // target += a mᵀ
    private static void AddMatMulTransposedRight(double[] a, double[] m, double[] target, int b)
    {
        for (var r = 0; r < b; r++)
            for (var c = 0; c < b; c++)
            {
                var s = 0.0;
                for (var k = 0; k < b; k++) s += a[r * b + k] * m[c * b + k];
                target[r * b + c] += s;
            }
    }

    // aᵀ m
    private static double[] MatMulTransposedLeft(double[] a, double[] m, int b)
    {
        var result = new double[b * b];
        for (var k = 0; k < b; k++)
            for (var r = 0; r < b; r++)
            {
                var akr = a[k * b + r];
                if (akr == 0) continue;
                for (var c = 0; c < b; c++) result[r * b + c] += akr * m[k * b + c];
            }
        return result;
    }

    // Gauss–Jordan with partial pivoting. I + Q is invertible for every skew-symmetric Q (its eigenvalues are 1 + iλ).
    private static double[] Inverse(double[] a, int b)
    {
        var m = (double[])a.Clone();
        var inv = Identity(b, 1);
        for (var col = 0; col < b; col++)
        {
            var pivot = col;
            for (var r = col + 1; r < b; r++)
                if (Math.Abs(m[r * b + col]) > Math.Abs(m[pivot * b + col])) pivot = r;
            if (pivot != col)
            {
                for (var c = 0; c < b; c++)
                {
                    (m[col * b + c], m[pivot * b + c]) = (m[pivot * b + c], m[col * b + c]);
                    (inv[col * b + c], inv[pivot * b + c]) = (inv[pivot * b + c], inv[col * b + c]);
                }
            }
            var d = 1.0 / m[col * b + col];
            for (var c = 0; c < b; c++)
            {
                m[col * b + c] *= d;
                inv[col * b + c] *= d;
            }
            for (var r = 0; r < b; r++)
            {
                if (r == col) continue;
                var f = m[r * b + col];
                if (f == 0) continue;
                for (var c = 0; c < b; c++)
                {
                    m[r * b + c] -= f * m[col * b + c];
                    inv[r * b + c] -= f * inv[col * b + c];
                }
            }
        }
        return inv;
    }

    private static int Validate(int batch, int blocks, int block, int terms, ReadOnlySpan<float> packed, string packedName, SkewLayout skew)
    {
        if (skew != SkewLayout.PackedUpper && skew != SkewLayout.Full) throw new ArgumentException($"skew is not a defined {nameof(SkewLayout)} ({(int)skew}).", nameof(skew));
        KernelArguments.NonNegative(batch, nameof(batch));
        KernelArguments.NonNegative(blocks, nameof(blocks));
        if (block < 1) throw new ArgumentException($"block must be positive, got {block}.", nameof(block));
        if (terms < 0 || terms > MaxTerms) throw new ArgumentException($"terms must be 0 (exact) to {MaxTerms}, got {terms}.", nameof(terms));
        long n = (long)blocks * block;
        KernelArguments.FitsInt32(n, nameof(blocks), "blocks * block");
        KernelArguments.FitsInt32((long)batch * n, nameof(batch), "batch * n");
        KernelArguments.FitsInt32(n * block, nameof(block), "blocks * block * block");
        KernelArguments.Length(packed.Length, (long)blocks * BlockLength(block, skew), packedName, "blocks * block parameters");
        return (int)n;
    }
}
