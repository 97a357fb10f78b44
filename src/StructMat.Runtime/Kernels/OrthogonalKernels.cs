using System;
using System.Buffers;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
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
/// The rotations are built once per parameter state (a small cache compares the parameter's bits, so the batch tiles
/// of one call, and calls between optimiser steps, share them): the series by Horner's scheme and the exact mode's
/// <c>(I + Q)⁻¹</c> (Gauss–Jordan, float64, rounded to float32), each matrix product over all blocks at once on the
/// block-matmul engine (<see cref="CpuKernels"/>) in float32, <c>blocks·b³</c> multiply-adds per matrix power, independent
/// of the batch. The batch then runs through the same engine as <c>blockdiag</c>, deterministically. <see cref="Gradient"/>
/// forms <c>∂L/∂R_i = Σ_rows x_i dy_iᵀ</c> on that engine and takes it back through the series (Horner's scheme
/// reversed, 2P − 1 batched products) or the inverse (<c>∂L/∂Q = −2 A⁻ᵀ (∂L/∂R) A⁻ᵀ</c>, <c>A = I + Q</c>), then onto
/// the parameters (<c>∂L/∂v = ∂L/∂Q[r,c] − ∂L/∂Q[c,r]</c> packed; <c>½(∂L/∂Q − ∂L/∂Qᵀ)</c> full). Spans must hold at
/// least the elements their shapes need; outputs must not overlap inputs. Bad arguments throw
/// <see cref="ArgumentException"/> naming the argument.
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
        if (batch == 0 || blocks == 0) return;
        var rotation = RotationCache.Get(packed, blocks, block, terms, skew);
        CpuKernels.BlockMatMul(x, y, rotation.Weights, batch, blocks, block, block, BlockLayout.Contiguous, BlockLayout.Contiguous,
            1f, accumulate, weightIsParameter: false);
    }

    /// <summary><c>dx_i = (accumulate ? dx_i : 0) + R_i dy_i</c>: the input gradient of <see cref="Apply"/>.</summary>
    public static void ApplyTransposed(ReadOnlySpan<float> dy, Span<float> dx, ReadOnlySpan<float> packed, int batch, int blocks, int block, int terms, bool accumulate,
        SkewLayout skew = SkewLayout.PackedUpper)
    {
        var n = Validate(batch, blocks, block, terms, packed, nameof(packed), skew);
        KernelArguments.Length(dy.Length, (long)batch * n, nameof(dy), "batch * n");
        KernelArguments.Length(dx.Length, (long)batch * n, nameof(dx), "batch * n");
        KernelArguments.NoOverlap(dy.Slice(0, batch * n), dx.Slice(0, batch * n), nameof(dy), nameof(dx));
        if (batch == 0 || blocks == 0) return;
        var rotation = RotationCache.Get(packed, blocks, block, terms, skew);
        CpuKernels.BlockMatMulTransposed(dy, dx, rotation.Weights, batch, blocks, block, block, BlockLayout.Contiguous, BlockLayout.Contiguous,
            1f, accumulate, weightIsParameter: false);
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
        var rotation = RotationCache.Get(packed, blocks, block, terms, skew);
        var bb = block * block;
        var length = blocks * bb;
        var dw = ArrayPool<float>.Shared.Rent(length);
        var g = ArrayPool<float>.Shared.Rent(length);
        var t = ArrayPool<float>.Shared.Rent(length);
        var dq = ArrayPool<float>.Shared.Rent(length);
        try
        {
            var dwSpan = dw.AsSpan(0, length);
            var gSpan = g.AsSpan(0, length);
            var tSpan = t.AsSpan(0, length);
            var dqSpan = dq.AsSpan(0, length);
            // dW_i[c, k] = Σ_rows dy_i[c] x_i[k] for the applied weight W_i = R_iᵀ, so ∂L/∂R_i = dW_iᵀ, whose
            // rows layout (see RotationCache) holds G_i[r, c] at [c, i·b + r] = dW_i[c, r]: the same numbers, regrouped.
            dwSpan.Clear();
            CpuKernels.BlockWeightGradient(dy, x, dwSpan, batch, blocks, block, block, BlockLayout.Contiguous, BlockLayout.Contiguous, 1f);
            RotationCache.ToRows(dwSpan, gSpan, blocks, block, ofTranspose: true);
            dqSpan.Clear();
            if (terms == 0)
            {
                // R = 2A⁻¹ − I ⇒ ∂L/∂Q = −2 A⁻ᵀ G A⁻ᵀ: Z = A⁻ᵀ G (rows layout), then ∂L/∂Q[r, k] = Σ_c Z[r, c] A⁻¹[k, c].
                Product(gSpan, tSpan, rotation.Inverse, blocks, block, transposed: true);
                Outer(tSpan, rotation.InverseRows, dqSpan, blocks, block, -2f);
            }
            else
            {
                // Horner reversed: ∂L/∂Q = Σ_p G_p H_(p+1)ᵀ with G_0 = G, G_(p+1) = Qᵀ G_p.
                var h = rotation.HornerRows;
                for (var p = 0; p < h.Length; p++)
                {
                    Outer(gSpan, h[p], dqSpan, blocks, block, 1f);
                    if (p + 1 == h.Length) break;
                    Product(gSpan, tSpan, rotation.Skew, blocks, block, transposed: true);
                    tSpan.CopyTo(gSpan);
                }
            }
            for (var i = 0; i < blocks; i++)
            {
                var at = i * bb;
                if (skew == SkewLayout.Full)
                {
                    // Q = ½(A − Aᵀ) ⇒ ∂L/∂A = ½(∂L/∂Q − ∂L/∂Qᵀ).
                    for (var r = 0; r < block; r++)
                        for (var c = 0; c < block; c++) dPacked[i * m + r * block + c] += 0.5f * (dq[at + r * block + c] - dq[at + c * block + r]);
                    continue;
                }
                var e = 0;
                for (var r = 0; r < block; r++)
                    for (var c = r + 1; c < block; c++, e++) dPacked[i * m + e] += dq[at + r * block + c] - dq[at + c * block + r];
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(dw);
            ArrayPool<float>.Shared.Return(g);
            ArrayPool<float>.Shared.Return(t);
            ArrayPool<float>.Shared.Return(dq);
        }
    }

    /// <summary>PEFT's rotation matrices <c>R_i</c> (row-major <c>[blocks, b, b]</c>) as the kernels build them, widened to float64: for merging and tests.</summary>
    public static double[] Rotations(ReadOnlySpan<float> packed, int blocks, int block, int terms, SkewLayout skew = SkewLayout.PackedUpper)
    {
        Validate(0, blocks, block, terms, packed, nameof(packed), skew);
        var w = RotationCache.Build(packed, blocks, block, terms, skew).Weights;
        var bb = block * block;
        var result = new double[blocks * bb];
        for (var i = 0; i < blocks; i++)
            for (var r = 0; r < block; r++)
                for (var c = 0; c < block; c++) result[i * bb + r * block + c] = w[i * bb + c * block + r];
        return result;
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

    // target (rows layout) = M_i · source_i for every block i (M natural [blocks, b, b]), or M_iᵀ · source_i: one
    // block matmul over b "rows" (the columns of the b×b matrices), all blocks as groups.
    private static void Product(ReadOnlySpan<float> source, Span<float> target, ReadOnlySpan<float> m, int blocks, int block, bool transposed)
    {
        if (transposed)
            CpuKernels.BlockMatMulTransposed(source, target, m, block, blocks, block, block, BlockLayout.Contiguous, BlockLayout.Contiguous, 1f, accumulate: false, weightIsParameter: false);
        else
            CpuKernels.BlockMatMul(source, target, m, block, blocks, block, block, BlockLayout.Contiguous, BlockLayout.Contiguous, 1f, accumulate: false, weightIsParameter: false);
    }

    // target_i (natural) += alpha · left_i · right_iᵀ for left and right in rows layout: Σ_c left_i[r, c] right_i[k, c].
    private static void Outer(ReadOnlySpan<float> left, ReadOnlySpan<float> right, Span<float> target, int blocks, int block, float alpha) =>
        CpuKernels.BlockWeightGradient(left, right, target, block, blocks, block, block, BlockLayout.Contiguous, BlockLayout.Contiguous, alpha);

    /// <summary>
    /// The rotations of one parameter state, built once and shared by every call and batch tile that sees the same
    /// values (the values are compared in full, so a changed parameter always rebuilds). Matrices are float32, in
    /// two layouts: natural (<c>[blocks, b, b]</c> row-major, what the block-matmul kernels take as weights) and
    /// "rows" (<c>[b, blocks·b]</c>, entry (r, c) of block i at <c>[c, i·b + r]</c>: the columns of every block as the
    /// rows of one activation), so a product <c>M_i · X_i</c> for all blocks is one block matmul of b rows.
    /// </summary>
    private sealed class RotationCache
    {
        private const int Capacity = 8;

        /// <summary>The most bytes the cached entries may hold together; the oldest go first beyond it.</summary>
        private const long CapacityBytes = 256L << 20;

        private static readonly object Gate = new();
        private static readonly Slot?[] Recent = new Slot?[Capacity];
        private static int _next;

        /// <summary>One cached parameter state: its bits and shape, and the rotations, built once by whichever caller comes first.</summary>
        private sealed record Slot(int Blocks, int Block, int Terms, SkewLayout Skew, float[] Source, Lazy<RotationCache> Entry, long Bytes);

        /// <summary>The applied weights <c>W_i = R_iᵀ</c>, natural layout.</summary>
        public float[] Weights { get; private set; } = Array.Empty<float>();

        /// <summary><c>Q_i</c>, natural layout.</summary>
        public float[] Skew { get; private set; } = Array.Empty<float>();

        /// <summary>The series' Horner matrices <c>H_1 … H_P</c> (<c>H_p = c_p I + Q H_(p+1)</c>, <c>R = H_0</c>), rows layout.</summary>
        public float[][] HornerRows { get; private set; } = Array.Empty<float[]>();

        /// <summary>The exact mode's <c>A⁻¹ = (I + Q)⁻¹</c>, natural and rows layout.</summary>
        public float[] Inverse { get; private set; } = Array.Empty<float>();

        public float[] InverseRows { get; private set; } = Array.Empty<float>();

        /// <summary>
        /// The entry for these parameter bits: found, or registered and built once (callers that come meanwhile, such as
        /// the other batch tiles of the same call, wait for that one build instead of repeating it).
        /// </summary>
        public static RotationCache Get(ReadOnlySpan<float> packed, int blocks, int block, int terms, SkewLayout skew)
        {
            var source = packed.Slice(0, blocks * BlockLength(block, skew));
            var bits = MemoryMarshal.Cast<float, int>(source);
            Slot slot;
            lock (Gate)
            {
                foreach (var s in Recent)
                {
                    if (s is not null && s.Blocks == blocks && s.Block == block && s.Terms == terms && s.Skew == skew
                        && bits.SequenceEqual(MemoryMarshal.Cast<float, int>(s.Source.AsSpan())))
                        return s.Entry.Value;
                }
                var copy = source.ToArray();
                var matrices = 2L + Math.Max(SeriesCoefficients(terms).Length - 1, 2);
                slot = new Slot(blocks, block, terms, skew, copy,
                    new Lazy<RotationCache>(() => Build(copy, blocks, block, terms, skew), LazyThreadSafetyMode.ExecutionAndPublication),
                    (matrices * blocks * block * block + copy.Length) * sizeof(float));
                if (slot.Bytes <= CapacityBytes)
                {
                    Recent[_next] = slot;
                    _next = (_next + 1) % Capacity;
                    // Oldest first, until the entries fit the byte budget (the new one always stays).
                    var total = Recent.Sum(s => s?.Bytes ?? 0);
                    for (var k = 1; k < Capacity && total > CapacityBytes; k++)
                    {
                        var oldest = (_next + k - 1) % Capacity;
                        if (Recent[oldest] is not { } old || ReferenceEquals(old, slot)) continue;
                        total -= old.Bytes;
                        Recent[oldest] = null;
                    }
                }
            }
            return slot.Entry.Value;
        }

        public static RotationCache Build(ReadOnlySpan<float> packed, int blocks, int block, int terms, SkewLayout skew)
        {
            var bb = block * block;
            var length = blocks * bb;
            var m = BlockLength(block, skew);
            var entry = new RotationCache();
            var q = new float[length];
            for (var i = 0; i < blocks; i++)
            {
                var at = i * bb;
                if (skew == SkewLayout.Full)
                {
                    for (var r = 0; r < block; r++)
                        for (var c = 0; c < block; c++) q[at + r * block + c] = 0.5f * (packed[i * m + r * block + c] - packed[i * m + c * block + r]);
                    continue;
                }
                var e = 0;
                for (var r = 0; r < block; r++)
                    for (var c = r + 1; c < block; c++, e++)
                    {
                        q[at + r * block + c] = packed[i * m + e];
                        q[at + c * block + r] = -packed[i * m + e];
                    }
            }
            entry.Skew = q;
            var rotationRows = new float[length];
            if (terms == 0)
            {
                // (I − Q)(I + Q)⁻¹ = 2A⁻¹ − I with A = I + Q, the inverse by Gauss–Jordan in float64 per block.
                var inverse = new float[length];
                EachBlock(blocks, block, i =>
                {
                    var a = new double[bb];
                    for (var k = 0; k < bb; k++) a[k] = q[i * bb + k];
                    for (var k = 0; k < block; k++) a[k * block + k] += 1;
                    var inv = Invert(a, block);
                    for (var k = 0; k < bb; k++) inverse[i * bb + k] = (float)inv[k];
                });
                entry.Inverse = inverse;
                entry.InverseRows = new float[length];
                ToRows(inverse, entry.InverseRows, blocks, block, ofTranspose: false);
                for (var k = 0; k < length; k++) rotationRows[k] = 2 * entry.InverseRows[k];
                AddIdentity(rotationRows, blocks, block, -1f);
            }
            else
            {
                // Horner in the rows layout: H_P = c_P I; H_p = c_p I + Q H_(p+1); R = H_0.
                var c = SeriesCoefficients(terms);
                var top = c.Length - 1;
                var horner = new float[Math.Max(top, 0)][];
                var h = new float[length];
                AddIdentity(h, blocks, block, (float)c[top]);
                for (var p = top - 1; p >= 0; p--)
                {
                    horner[p] = h; // H_(p+1)
                    var next = new float[length];
                    Product(h, next, q, blocks, block, transposed: false);
                    AddIdentity(next, blocks, block, (float)c[p]);
                    h = next;
                }
                entry.HornerRows = horner;
                rotationRows = h;
            }
            // W_i[c, k] = R_i[k, c], and rows layout holds R_i[k, c] at [c, i·b + k]: a regrouping.
            var weights = new float[length];
            FromRows(rotationRows, weights, blocks, block);
            entry.Weights = weights;
            return entry;
        }

        /// <summary>
        /// The rows layout of each block (block i's (r, c) to [c, i·b + r]), or with <paramref name="ofTranspose"/> of
        /// each block's transpose (block i's (c, r) to [c, i·b + r]).
        /// </summary>
        public static void ToRows(ReadOnlySpan<float> natural, Span<float> rows, int blocks, int block, bool ofTranspose)
        {
            var bb = block * block;
            var width = blocks * block;
            for (var i = 0; i < blocks; i++)
                for (var r = 0; r < block; r++)
                    for (var c = 0; c < block; c++)
                        rows[c * width + i * block + r] = ofTranspose ? natural[i * bb + c * block + r] : natural[i * bb + r * block + c];
        }

        // natural[i, c, k] = rows[c, i·b + k]
        private static void FromRows(ReadOnlySpan<float> rows, Span<float> natural, int blocks, int block)
        {
            var bb = block * block;
            var width = blocks * block;
            for (var i = 0; i < blocks; i++)
                for (var c = 0; c < block; c++)
                    for (var k = 0; k < block; k++) natural[i * bb + c * block + k] = rows[c * width + i * block + k];
        }

        // Adds value · I to every block of a rows-layout matrix (its diagonal is [c, i·b + c]).
        private static void AddIdentity(Span<float> rows, int blocks, int block, float value)
        {
            var width = blocks * block;
            for (var i = 0; i < blocks; i++)
                for (var c = 0; c < block; c++) rows[c * width + i * block + c] += value;
        }
    }

    private static void EachBlock(int blocks, int block, Action<int> body)
    {
        // Each block is independent, so splitting them over threads changes no result.
        if (blocks > 1 && (long)blocks * block * block * block >= 1L << 18 && !KernelThreading.IsSerial) Parallel.For(0, blocks, body);
        else for (var i = 0; i < blocks; i++) body(i);
    }

    // Gauss–Jordan with partial pivoting. I + Q is invertible for every skew-symmetric Q (its eigenvalues are 1 + iλ).
    private static double[] Invert(double[] a, int b)
    {
        var m = (double[])a.Clone();
        var inv = new double[b * b];
        for (var k = 0; k < b; k++) inv[k * b + k] = 1;
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
