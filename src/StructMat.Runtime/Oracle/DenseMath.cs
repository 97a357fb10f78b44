using System.Collections.Generic;
using System;

namespace StructMat.Runtime.Oracle;

/// <summary>
/// Float64 dense helpers for the oracle (<c>ToDenseDouble()</c> of generated layers). Written for clarity:
/// each function follows its mathematical definition and shares no code with the fast kernels, so that the
/// oracle can catch their mistakes. Matrices are row-major.
/// </summary>
public static class DenseMath
{
    /// <summary>Widens float32 weights to float64.</summary>
    public static double[] FromFloat(ReadOnlySpan<float> w)
    {
        var result = new double[w.Length];
        for (int k = 0; k < w.Length; k++) result[k] = w[k];
        return result;
    }

    /// <summary><c>a [rows, inner] · b [inner, cols]</c> → <c>[rows, cols]</c>.</summary>
    public static double[] MatMul(double[] a, double[] b, int rows, int inner, int cols)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        NonNegative(rows, nameof(rows));
        NonNegative(inner, nameof(inner));
        NonNegative(cols, nameof(cols));
        ExactLength(a.Length, (long)rows * inner, nameof(a), "rows * inner");
        ExactLength(b.Length, (long)inner * cols, nameof(b), "inner * cols");
        var c = new double[checked(rows * cols)];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
            {
                double sum = 0;
                for (int k = 0; k < inner; k++) sum += a[i * inner + k] * b[k * cols + j];
                c[i * cols + j] = sum;
            }
        return c;
    }

    /// <summary>Elementwise <c>a + b</c>.</summary>
    public static double[] Add(double[] a, double[] b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Length != b.Length)
            throw new ArgumentException($"{nameof(b)} has {b.Length} elements but {nameof(a)} has {a.Length}.", nameof(b));
        var c = new double[a.Length];
        for (int k = 0; k < a.Length; k++) c[k] = a[k] + b[k];
        return c;
    }

    /// <summary>Elementwise <c>a ∘ b</c> (the Hadamard product; PEFT LoHa's <c>(w1a @ w1b) * (w2a @ w2b)</c>).</summary>
    public static double[] Hadamard(double[] a, double[] b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Length != b.Length)
            throw new ArgumentException($"{nameof(b)} has {b.Length} elements but {nameof(a)} has {a.Length}.", nameof(b));
        var c = new double[a.Length];
        for (int k = 0; k < a.Length; k++) c[k] = a[k] * b[k];
        return c;
    }

    /// <summary><c>a [rows, cols]</c> with each row divided by its L2 norm (a zero row stays zero).</summary>
    public static double[] NormalizeRows(double[] a, int rows, int cols)
    {
        ArgumentNullException.ThrowIfNull(a);
        ExactLength(a.Length, (long)rows * cols, nameof(a), "rows * cols");
        var result = new double[a.Length];
        for (int r = 0; r < rows; r++)
        {
            double sum = 0;
            for (int c = 0; c < cols; c++) sum += a[r * cols + c] * a[r * cols + c];
            var norm = sum > 0 ? Math.Sqrt(sum) : 1.0;
            for (int c = 0; c < cols; c++) result[r * cols + c] = a[r * cols + c] / norm;
        }
        return result;
    }

    /// <summary>Elementwise <c>c · a</c>.</summary>
    public static double[] Scale(double[] a, double c)
    {
        ArgumentNullException.ThrowIfNull(a);
        var result = new double[a.Length];
        for (int k = 0; k < a.Length; k++) result[k] = c * a[k];
        return result;
    }

    /// <summary>
    /// The dense <c>[groups·blockOut, groups·blockIn]</c> matrix with block <c>g</c> = <c>w[g] [blockOut, blockIn]</c>
    /// on the diagonal (<c>torch.block_diag(*w)</c>).
    /// </summary>
    public static double[] BlockDiagonal(ReadOnlySpan<float> w, int groups, int blockOut, int blockIn)
    {
        NonNegative(groups, nameof(groups));
        NonNegative(blockOut, nameof(blockOut));
        NonNegative(blockIn, nameof(blockIn));
        ExactLength(w.Length, (long)groups * blockOut * blockIn, nameof(w), "groups * blockOut * blockIn");
        int rows = groups * blockOut, cols = groups * blockIn;
        var dense = new double[checked(rows * cols)];
        for (int g = 0; g < groups; g++)
            for (int o = 0; o < blockOut; o++)
                for (int i = 0; i < blockIn; i++)
                    dense[(g * blockOut + o) * cols + g * blockIn + i] = w[(g * blockOut + o) * blockIn + i];
        return dense;
    }

    /// <summary>
    /// The dense <c>[s·l, k·p]</c> matrix <c>M</c> with <c>M·x = blockdiag_butterfly_multiply(x, blkdiag1, blkdiag2)</c>
    /// as defined by HazyResearch/fly (<c>blockdiag_butterfly_multiply_reference</c>, version 2), for
    /// <c>blkdiag1 [k, q, p]</c> and <c>blkdiag2 [l, s, r]</c> with <c>l·r = k·q</c>:
    /// <list type="number">
    /// <item><c>out1[k, q] = Σ_p blkdiag1[k, q, p] · x[k·p_size + p]</c> (x viewed as [k, p]);</item>
    /// <item>out1 flattened as (k q), then read as (r l) and transposed to <c>[l, r]</c>: <c>mid[l, r] = out1flat[r·l_size + l]</c>;</item>
    /// <item><c>out2[s, l] = Σ_r blkdiag2[l, s, r] · mid[l, r]</c>, flattened as (s l): <c>y[s·l_size + l]</c>.</item>
    /// </list>
    /// Column <c>j</c> of <c>M</c> is that formula applied to the unit vector <c>e_j</c>.
    /// </summary>
    public static double[] Monarch(ReadOnlySpan<float> blkdiag1, int k, int q, int p, ReadOnlySpan<float> blkdiag2, int l, int s, int r)
    {
        Positive(k, nameof(k));
        Positive(q, nameof(q));
        Positive(p, nameof(p));
        Positive(l, nameof(l));
        Positive(s, nameof(s));
        Positive(r, nameof(r));
        ExactLength(blkdiag1.Length, (long)k * q * p, nameof(blkdiag1), "k * q * p");
        ExactLength(blkdiag2.Length, (long)l * s * r, nameof(blkdiag2), "l * s * r");
        if ((long)l * r != (long)k * q)
            throw new ArgumentException($"The butterfly needs l * r == k * q, got l * r = {(long)l * r} and k * q = {(long)k * q}.", nameof(r));

        int inFeatures = checked(k * p), outFeatures = checked(s * l), middle = k * q;
        var dense = new double[checked(outFeatures * inFeatures)];
        var x = new double[inFeatures];
        var out1Flat = new double[middle];
        var mid = new double[middle];
        for (int column = 0; column < inFeatures; column++)
        {
            Array.Clear(x);
            x[column] = 1.0;

            // Step 1: the first block-diagonal factor on x viewed as [k, p]; out1 flattened as (k q).
            for (int kk = 0; kk < k; kk++)
                for (int qq = 0; qq < q; qq++)
                {
                    double sum = 0;
                    for (int pp = 0; pp < p; pp++) sum += blkdiag1[(kk * q + qq) * p + pp] * x[kk * p + pp];
                    out1Flat[kk * q + qq] = sum;
                }

            // Step 2: 'b (r l) -> b l r'.
            for (int ll = 0; ll < l; ll++)
                for (int rr = 0; rr < r; rr++)
                    mid[ll * r + rr] = out1Flat[rr * l + ll];

            // Step 3: the second factor, 'lsr,blr->bsl', flattened as (s l).
            for (int ss = 0; ss < s; ss++)
                for (int ll = 0; ll < l; ll++)
                {
                    double sum = 0;
                    for (int rr = 0; rr < r; rr++) sum += blkdiag2[(ll * s + ss) * r + rr] * mid[ll * r + rr];
                    dense[(ss * l + ll) * inFeatures + column] = sum;
                }
        }
        return dense;
    }

    /// <summary>
    /// The weight <c>[rows, cols]</c> of a <c>dense(quant: nf4, group: g)</c> base, from the definition: element e (row-major)
    /// is the high nibble of byte e/2 when e is even, the low nibble when odd, indexing QLoRA's NF4 values, times the absmax
    /// of its group <c>absmax[row, col / g]</c>.
    /// </summary>
    public static double[] DequantizeNf4(ReadOnlySpan<byte> codes, ReadOnlySpan<float> absmax, int rows, int cols, int group)
    {
        // QLoRA's NormalFloat levels (bitsandbytes get_4bit_type("nf4")), written out here rather than shared with the kernels.
        ReadOnlySpan<double> levels = new[]
        {
            -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334,
            -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
            0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
        };
        var w = new double[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                int e = r * cols + c;
                int code = e % 2 == 0 ? codes[e / 2] / 16 : codes[e / 2] % 16;
                w[e] = (double)(float)levels[code] * absmax[r * (cols / group) + c / group];
            }
        }
        return w;
    }

    /// <summary>The weight <c>[rows, cols]</c> of a <c>dense(quant: int8)</c> base: the signed code times its row's scale.</summary>
    public static double[] DequantizeInt8(ReadOnlySpan<byte> codes, ReadOnlySpan<float> scales, int rows, int cols)
    {
        var w = new double[rows * cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                w[r * cols + c] = (double)unchecked((sbyte)codes[r * cols + c]) * scales[r];
        return w;
    }

    /// <summary>The dense <c>n×n</c> matrix with <c>d</c> on the diagonal (<c>torch.diag(d)</c>).</summary>
    public static double[] Diagonal(ReadOnlySpan<float> d)
    {
        int n = d.Length;
        var dense = new double[checked(n * n)];
        for (int j = 0; j < n; j++) dense[j * n + j] = d[j];
        return dense;
    }

    /// <summary>
    /// The dense <c>n×n</c> permutation matrix of an index map: <c>P[j, map[j]] = 1</c>, so <c>(P·x)[j] = x[map[j]]</c>
    /// (a gather). Throws unless <paramref name="map"/> is a permutation of <c>[0, n)</c>.
    /// </summary>
    public static double[] Permutation(ReadOnlySpan<int> map)
    {
        int n = map.Length;
        var dense = new double[checked(n * n)];
        var seen = new bool[n];
        for (int j = 0; j < n; j++)
        {
            int source = map[j];
            if (source < 0 || source >= n)
                throw new ArgumentException($"{nameof(map)}[{j}] = {source} is outside [0, {n}).", nameof(map));
            if (seen[source])
                throw new ArgumentException($"{nameof(map)} is not a permutation: {source} appears twice.", nameof(map));
            seen[source] = true;
            dense[j * n + source] = 1.0;
        }
        return dense;
    }

    /// <summary>
    /// The dense <c>n×n</c> matrix <c>H = H_1 H_2 … H_r</c> of PEFT HRA for <c>u = hra_u [n, r]</c> (column <c>i</c> is
    /// <c>u_i</c>): <c>H_i = I − 2 û_i û_iᵀ</c>, <c>û_i = u_i/‖u_i‖</c>, built by explicit <c>n×n</c> products
    /// from the left. A zero column is the identity reflection (the kernels' convention).
    /// </summary>
    public static double[] Householder(ReadOnlySpan<float> u, int n, int r)
    {
        NonNegative(n, nameof(n));
        NonNegative(r, nameof(r));
        ExactLength(u.Length, (long)n * r, nameof(u), "n * r");
        var h = Identity(n);
        for (int i = 0; i < r; i++)
        {
            double normSquared = 0;
            for (int k = 0; k < n; k++) normSquared += (double)u[k * r + i] * u[k * r + i];
            var reflection = Identity(n);
            if (normSquared > 0)
            {
                for (int a = 0; a < n; a++)
                    for (int b = 0; b < n; b++)
                        reflection[a * n + b] -= 2.0 * u[a * r + i] * u[b * r + i] / normSquared;
            }
            h = MatMul(h, reflection, n, n, n);
        }
        return h;
    }

    /// <summary>
    /// The dense <c>n×n</c> matrix (<c>n = blocks·b</c>) of PEFT's OFT input rotation for <c>oft_R [blocks, b(b−1)/2]</c>,
    /// transcribed step by step from PEFT's <c>OFTRotationModule</c> (src/peft/tuners/oft/layer.py): per block,
    /// <c>Q = S − Sᵀ</c> with <c>S[triu_indices(b, b, 1)] = v</c>; with <paramref name="terms"/> ≥ 1 PEFT's Neumann loop
    /// (<c>R = I</c>; if terms &gt; 1: <c>R += 2Q</c>; if terms &gt; 2: <c>R += 2Q²</c>, then <c>R += 2Q^p</c> for
    /// p = 3 … terms−2, then <c>R += Q^(p+1)</c>), with 0 <c>R = solve(I + Q, I − Q, left=False)</c>, i.e. the
    /// <c>X</c> with <c>X (I + Q) = I − Q</c>, solved here by Gaussian elimination. PEFT maps an input row by
    /// <c>einsum("...rk,rkc->...rc")</c>, so as a matrix acting on column vectors the diagonal block i is <c>R_iᵀ</c>.
    /// </summary>
    public static double[] Oft(ReadOnlySpan<float> packed, int blocks, int b, int terms)
    {
        NonNegative(blocks, nameof(blocks));
        Positive(b, nameof(b));
        NonNegative(terms, nameof(terms));
        var m = b * (b - 1) / 2;
        ExactLength(packed.Length, (long)blocks * m, nameof(packed), "blocks * b(b-1)/2");
        var n = blocks * b;
        var dense = new double[checked(n * n)];
        for (int blk = 0; blk < blocks; blk++)
        {
            var q = new double[b * b];
            int e = 0;
            for (int r = 0; r < b; r++)
                for (int c = r + 1; c < b; c++) q[r * b + c] = packed[blk * m + e++];
            for (int r = 0; r < b; r++)
                for (int c = r + 1; c < b; c++) q[c * b + r] = -q[r * b + c];
            double[] rotation;
            if (terms > 0)
            {
                rotation = Identity(b);
                if (terms > 1)
                {
                    rotation = Add(rotation, Scale(q, 2.0));
                    if (terms > 2)
                    {
                        var squared = MatMul(q, q, b, b, b);
                        rotation = Add(rotation, Scale(squared, 2.0));
                        var power = squared;
                        for (int p = 3; p < terms - 1; p++)
                        {
                            power = MatMul(power, q, b, b, b);
                            rotation = Add(rotation, Scale(power, 2.0));
                        }
                        power = MatMul(power, q, b, b, b);
                        rotation = Add(rotation, power);
                    }
                }
            }
            else
            {
                // X (I + Q) = I − Q  ⇔  (I + Q)ᵀ Xᵀ = (I − Q)ᵀ: solve for the columns of Xᵀ.
                var lhs = new double[b * b];
                var rhs = new double[b * b];
                for (int r = 0; r < b; r++)
                    for (int c = 0; c < b; c++)
                    {
                        var id = r == c ? 1.0 : 0.0;
                        lhs[r * b + c] = id + q[c * b + r];
                        rhs[r * b + c] = id - q[c * b + r];
                    }
                var xt = Solve(lhs, rhs, b, b);
                rotation = new double[b * b];
                for (int r = 0; r < b; r++)
                    for (int c = 0; c < b; c++) rotation[r * b + c] = xt[c * b + r];
            }
            for (int r = 0; r < b; r++)
                for (int c = 0; c < b; c++) dense[(blk * b + c) * n + blk * b + r] = rotation[r * b + c];
        }
        return dense;
    }

    /// <summary>
    /// The dense <c>n×n</c> matrix (<c>n = blocks·b</c>) of PEFT's BOFT input rotation for <c>boft_R [factors, blocks, b, b]</c>,
    /// transcribed from PEFT's BOFT <c>Linear.forward</c> (src/peft/tuners/boft/layer.py): each block's
    /// <c>R = solve(I + S, I − S, left=False)</c> with <c>S = ½(A − Aᵀ)</c> (<c>cayley_batch</c>); <c>BD_i</c> the block diagonal of
    /// factor i; <c>P_i[j, perm_i[j]] = 1</c> with <c>perm_i = block_butterfly_perm(n, blocks / 2^i, b / 2, factors − 1)</c>;
    /// <c>M = P_(m−1) BD_(m−1) P_(m−1)ᵀ ⋯ P_0 BD_0 P_0ᵀ</c>. PEFT computes <c>x @ M</c> for an input row, so the matrix on
    /// column vectors is <c>Mᵀ</c>.
    /// </summary>
    public static double[] Boft(ReadOnlySpan<float> boftR, int factors, int blocks, int b)
    {
        Positive(factors, nameof(factors));
        NonNegative(blocks, nameof(blocks));
        Positive(b, nameof(b));
        ExactLength(boftR.Length, (long)factors * blocks * b * b, nameof(boftR), "factors * blocks * b * b");
        var n = blocks * b;
        var m = Identity(n);
        for (int i = 0; i < factors; i++)
        {
            var bd = new double[n * n];
            for (int d = 0; d < blocks; d++)
            {
                var skew = new double[b * b];
                for (int r = 0; r < b; r++)
                    for (int c = 0; c < b; c++)
                    {
                        int at = ((i * blocks + d) * b) * b;
                        skew[r * b + c] = 0.5 * ((double)boftR[at + r * b + c] - boftR[at + c * b + r]);
                    }
                // X (I + S) = I − S  ⇔  (I + S)ᵀ Xᵀ = (I − S)ᵀ.
                var lhs = new double[b * b];
                var rhs = new double[b * b];
                for (int r = 0; r < b; r++)
                    for (int c = 0; c < b; c++)
                    {
                        var id = r == c ? 1.0 : 0.0;
                        lhs[r * b + c] = id + skew[c * b + r];
                        rhs[r * b + c] = id - skew[c * b + r];
                    }
                var xt = Solve(lhs, rhs, b, b);
                for (int r = 0; r < b; r++)
                    for (int c = 0; c < b; c++) bd[(d * b + r) * n + d * b + c] = xt[c * b + r];
            }
            var perm = BoftPermutation(n, blocks >> i, b / 2, factors - 1);
            var p = new double[n * n];
            for (int j = 0; j < n; j++) p[j * n + perm[j]] = 1.0;
            var pt = new double[n * n];
            for (int r = 0; r < n; r++)
                for (int c = 0; c < n; c++) pt[r * n + c] = p[c * n + r];
            var factor = MatMul(p, MatMul(bd, pt, n, n, n), n, n, n);
            m = MatMul(factor, m, n, n, n);
        }
        var dense = new double[n * n];
        for (int r = 0; r < n; r++)
            for (int c = 0; c < n; c++) dense[r * n + c] = m[c * n + r];
        return dense;
    }

    // PEFT's block_butterfly_perm(n, b, r, n_butterfly_factor) with its sort_block, step by step.
    private static int[] BoftPermutation(int n, int b, int r, int butterflyFactor)
    {
        var indices = new int[n];
        for (int k = 0; k < n; k++) indices[k] = k;
        if (butterflyFactor == 0) return indices;
        int blockSize = n / b;
        int step = blockSize / r;
        var sortedSeq = new List<int>();
        for (int k = 0; k < step; k += 2) sortedSeq.Add(k);
        for (int k = 1; k < step; k += 2) sortedSeq.Add(k);
        var sortedOrder = new int[blockSize];
        for (int k = 0; k < sortedSeq.Count; k++)
            for (int t = 0; t < r; t++) sortedOrder[k * r + t] = sortedSeq[k] * r + t;
        for (int start = 0; start < n; start += blockSize)
        {
            var tmp = new int[blockSize];
            Array.Copy(indices, start, tmp, 0, blockSize);
            for (int k = 0; k < blockSize; k++) indices[start + k] = tmp[sortedOrder[k]];
        }
        return indices;
    }

    /// <summary><c>A X = B</c> for square <c>a [n, n]</c> and <c>b [n, k]</c>, by Gaussian elimination with partial pivoting.</summary>
    public static double[] Solve(double[] a, double[] b, int n, int k)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ExactLength(a.Length, (long)n * n, nameof(a), "n * n");
        ExactLength(b.Length, (long)n * k, nameof(b), "n * k");
        var m = (double[])a.Clone();
        var x = (double[])b.Clone();
        for (int col = 0; col < n; col++)
        {
            int pivot = col;
            for (int r = col + 1; r < n; r++) if (Math.Abs(m[r * n + col]) > Math.Abs(m[pivot * n + col])) pivot = r;
            if (m[pivot * n + col] == 0) throw new ArgumentException("The matrix is singular.", nameof(a));
            for (int c = 0; c < n; c++) (m[col * n + c], m[pivot * n + c]) = (m[pivot * n + c], m[col * n + c]);
            for (int c = 0; c < k; c++) (x[col * k + c], x[pivot * k + c]) = (x[pivot * k + c], x[col * k + c]);
            for (int r = col + 1; r < n; r++)
            {
                var f = m[r * n + col] / m[col * n + col];
                if (f == 0) continue;
                for (int c = col; c < n; c++) m[r * n + c] -= f * m[col * n + c];
                for (int c = 0; c < k; c++) x[r * k + c] -= f * x[col * k + c];
            }
        }
        for (int r = n - 1; r >= 0; r--)
            for (int c = 0; c < k; c++)
            {
                var s = x[r * k + c];
                for (int j = r + 1; j < n; j++) s -= m[r * n + j] * x[j * k + c];
                x[r * k + c] = s / m[r * n + r];
            }
        return x;
    }

    private static double[] Identity(int n)
    {
        var identity = new double[checked(n * n)];
        for (int k = 0; k < n; k++) identity[k * n + k] = 1.0;
        return identity;
    }

    private static void NonNegative(int value, string name)
    {
        if (value < 0) throw new ArgumentException($"{name} must be non-negative, got {value}.", name);
    }

    private static void Positive(int value, string name)
    {
        if (value <= 0) throw new ArgumentException($"{name} must be positive, got {value}.", name);
    }

    private static void ExactLength(int actual, long expected, string name, string what)
    {
        if (actual != expected)
            throw new ArgumentException($"{name} has {actual} elements but {what} = {expected}.", name);
    }

    /// <summary>
    /// torch.kron of a [aRows, aCols] and b [bRows, bCols]: K[i·bRows + j, p·bCols + q] = a[i, p]·b[j, q],
    /// a [aRows·bRows, aCols·bCols] matrix.
    /// </summary>
    public static double[] Kron(double[] a, int aRows, int aCols, double[] b, int bRows, int bCols)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Length != (long)aRows * aCols) throw new ArgumentException($"a has {a.Length} elements, not {aRows}·{aCols}.", nameof(a));
        if (b.Length != (long)bRows * bCols) throw new ArgumentException($"b has {b.Length} elements, not {bRows}·{bCols}.", nameof(b));
        var cols = aCols * bCols;
        var k = new double[aRows * bRows * cols];
        for (var i = 0; i < aRows; i++)
        for (var p = 0; p < aCols; p++)
        for (var j = 0; j < bRows; j++)
        for (var q = 0; q < bCols; q++)
            k[(i * bRows + j) * cols + p * bCols + q] = a[i * aCols + p] * b[j * bCols + q];
        return k;
    }

    /// <summary>
    /// The butterfly matrix of <c>twiddle [log2 n, n/2, 2, 2]</c>, as HazyResearch/butterfly's
    /// <c>butterfly_multiply</c> with increasing stride: M = B_{L−1} ⋯ B_0 with factor k of stride s = 2^k,
    /// B_k[g·2s + a·s + j, g·2s + c·s + j] = twiddle[k, g·s + j, a, c].
    /// </summary>
    public static double[] Butterfly(ReadOnlySpan<float> twiddle, int n)
    {
        if (n < 2 || (n & (n - 1)) != 0) throw new ArgumentException($"n = {n} is not a power of two ≥ 2.", nameof(n));
        var factors = System.Numerics.BitOperations.Log2((uint)n);
        if (twiddle.Length != factors * (n / 2) * 4)
            throw new ArgumentException($"twiddle has {twiddle.Length} elements, not {factors}·{n / 2}·2·2.", nameof(twiddle));
        var m = new double[n * n];
        for (var i = 0; i < n; i++) m[i * n + i] = 1;
        for (var k = 0; k < factors; k++)
        {
            var s = 1 << k;
            var factor = new double[n * n];
            for (var g = 0; g < n / (2 * s); g++)
            for (var j = 0; j < s; j++)
            for (var a = 0; a < 2; a++)
            for (var c = 0; c < 2; c++)
                factor[(g * 2 * s + a * s + j) * n + g * 2 * s + c * s + j] = twiddle[((k * (n / 2) + g * s + j) * 2 + a) * 2 + c];
            m = MatMul(factor, m, n, n, n);
        }
        return m;
    }

    /// <summary>
    /// The flat block butterfly matrix of <c>blocksparse(block, pattern: butterfly)</c>: nb = n/block blocks per side,
    /// block (i, i XOR d_m) = <c>blocks[m·nb + i]</c> for d_0 = 0, d_m = 2^(m−1) &lt; nb; every other block is zero.
    /// </summary>
    public static double[] FlatBlockButterfly(ReadOnlySpan<float> blocks, int n, int block)
    {
        if (block <= 0 || n % block != 0) throw new ArgumentException($"block {block} must divide n = {n}.", nameof(block));
        var nb = n / block;
        var distances = new List<int> { 0 };
        for (var d = 1; d < nb; d <<= 1) distances.Add(d);
        if (blocks.Length != distances.Count * nb * block * block)
            throw new ArgumentException($"blocks has {blocks.Length} elements, not {distances.Count}·{nb}·{block}·{block}.", nameof(blocks));
        var m = new double[n * n];
        for (var diagonal = 0; diagonal < distances.Count; diagonal++)
        for (var i = 0; i < nb; i++)
        {
            var j = i ^ distances[diagonal];
            for (var r = 0; r < block; r++)
            for (var c = 0; c < block; c++)
                m[(i * block + r) * n + j * block + c] = blocks[((diagonal * nb + i) * block + r) * block + c];
        }
        return m;
    }

    /// <summary>
    /// The block tensor-train (Compute Better Spent, 2 cores) as a dense [n0·n1, m0·m1] matrix:
    /// W[j0·n1 + j1, i1·m0 + i0] = Σ_α core0[i1, α·n0 + j0, i0] · core1[j0, j1, i1·r + α], with
    /// <c>core0 [m1, r·n0, m0]</c> and <c>core1 [n0, n1, m1·r]</c>.
    /// </summary>
    public static double[] BlockTensorTrain(ReadOnlySpan<float> core0, ReadOnlySpan<float> core1, int m0, int m1, int n0, int n1, int rank)
    {
        if (core0.Length != m1 * rank * n0 * m0) throw new ArgumentException($"core0 has {core0.Length} elements, not {m1}·{rank * n0}·{m0}.", nameof(core0));
        if (core1.Length != n0 * n1 * m1 * rank) throw new ArgumentException($"core1 has {core1.Length} elements, not {n0}·{n1}·{m1 * rank}.", nameof(core1));
        var cols = m0 * m1;
        var w = new double[n0 * n1 * cols];
        for (var j0 = 0; j0 < n0; j0++)
        for (var j1 = 0; j1 < n1; j1++)
        for (var i1 = 0; i1 < m1; i1++)
        for (var i0 = 0; i0 < m0; i0++)
        {
            double sum = 0;
            for (var a = 0; a < rank; a++)
            {
                sum += (double)core0[(i1 * rank * n0 + a * n0 + j0) * m0 + i0] * core1[(j0 * n1 + j1) * (m1 * rank) + i1 * rank + a];
            }
            w[(j0 * n1 + j1) * cols + i1 * m0 + i0] = sum;
        }
        return w;
    }
}
