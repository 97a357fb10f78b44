using System;

namespace StructMat.Runtime.Projection;

/// <summary>
/// Projection of a dense weight onto a structured family: the parameters of the structured matrix nearest to
/// it in the Frobenius norm, written in the layouts of DESIGN.md ("Parameter layouts"). The dense input is a
/// row-major float32 <c>[out, in]</c> matrix (<c>torch.nn.Linear.weight</c>); all arithmetic is float64 and the
/// factors are rounded to float32 only when written. Each method returns <c>‖W − W_proj‖_F</c> of the float64
/// projection (before that rounding), computed directly from the float64 factors. Deterministic: the same input
/// gives bit-identical outputs.
/// </summary>
public static class Projections
{
    /// <summary>
    /// Low rank: <c>W ≈ B·A</c> with <c>lora_A [rank, in]</c> and <c>lora_B [out, rank]</c>, the truncated SVD
    /// (Eckart–Young optimum) with the singular values split symmetrically: <c>B = U_r·√Σ_r</c>,
    /// <c>A = √Σ_r·V_rᵀ</c>, so <c>BᵀB = A·Aᵀ = Σ_r</c>. The singular vectors come from a one-sided Jacobi SVD;
    /// each pair's sign makes the largest-magnitude entry of the row of A positive. When
    /// <paramref name="rank"/> exceeds <c>min(out, in)</c> the extra rows of A and columns of B are zero.
    /// </summary>
    /// <returns>The Frobenius error, <c>sqrt(Σ_{j ≥ rank} σ_j²)</c> up to rounding.</returns>
    public static double LowRank(ReadOnlySpan<float> dense, int outFeatures, int inFeatures, int rank, Span<float> loraA, Span<float> loraB)
    {
        Positive(outFeatures, nameof(outFeatures));
        Positive(inFeatures, nameof(inFeatures));
        Positive(rank, nameof(rank));
        ExactLength(dense.Length, (long)outFeatures * inFeatures, nameof(dense), "outFeatures * inFeatures");
        ExactLength(loraA.Length, (long)rank * inFeatures, nameof(loraA), "rank * inFeatures");
        ExactLength(loraB.Length, (long)outFeatures * rank, nameof(loraB), "outFeatures * rank");

        var w = Widen(dense);
        var svd = JacobiSvd.Decompose(w, outFeatures, inFeatures);
        int kept = Math.Min(rank, svd.Sigma.Length);
        var a = new double[rank * inFeatures];
        var b = new double[outFeatures * rank];
        for (int j = 0; j < kept; j++)
        {
            double root = Math.Sqrt(svd.Sigma[j]);
            for (int o = 0; o < outFeatures; o++) b[o * rank + j] = root * svd.U[j * outFeatures + o];
            for (int i = 0; i < inFeatures; i++) a[j * inFeatures + i] = root * svd.V[j * inFeatures + i];
        }

        double squared = 0;
        for (int o = 0; o < outFeatures; o++)
            for (int i = 0; i < inFeatures; i++)
            {
                double product = 0;
                for (int j = 0; j < kept; j++) product += b[o * rank + j] * a[j * inFeatures + i];
                double difference = w[o * inFeatures + i] - product;
                squared += difference * difference;
            }

        Narrow(a, loraA);
        Narrow(b, loraB);
        return Math.Sqrt(squared);
    }

    /// <summary>
    /// Block diagonal: <c>weight [blocks, out/blocks, in/blocks]</c> with block <c>g</c> mapping input slice g to
    /// output slice g. The Frobenius optimum copies the diagonal blocks of W:
    /// <c>weight[g, o, i] = W[g·out/blocks + o, g·in/blocks + i]</c>.
    /// </summary>
    /// <returns>The Frobenius norm of the off-diagonal blocks.</returns>
    public static double BlockDiagonal(ReadOnlySpan<float> dense, int outFeatures, int inFeatures, int blocks, Span<float> weight)
    {
        Positive(outFeatures, nameof(outFeatures));
        Positive(inFeatures, nameof(inFeatures));
        Positive(blocks, nameof(blocks));
        Divides(blocks, outFeatures, nameof(outFeatures));
        Divides(blocks, inFeatures, nameof(inFeatures));
        ExactLength(dense.Length, (long)outFeatures * inFeatures, nameof(dense), "outFeatures * inFeatures");
        ExactLength(weight.Length, (long)outFeatures * inFeatures / blocks, nameof(weight), "blocks * (outFeatures/blocks) * (inFeatures/blocks)");

        int blockOut = outFeatures / blocks, blockIn = inFeatures / blocks;
        double squared = 0;
        for (int row = 0; row < outFeatures; row++)
        {
            int g = row / blockOut, o = row % blockOut;
            for (int column = 0; column < inFeatures; column++)
            {
                double value = dense[row * inFeatures + column];
                if (column / blockIn == g) weight[(g * blockOut + o) * blockIn + column % blockIn] = dense[row * inFeatures + column];
                else squared += value * value;
            }
        }
        return Math.Sqrt(squared);
    }

    /// <summary>
    /// Monarch with the factor shapes of fly's <c>MonarchLinear</c> (b = <paramref name="blocks"/>,
    /// m = min(in, out)): <c>blkdiag1 [k, q, p] = [b, m/b, in/b]</c> and <c>blkdiag2 [l, s, r] = [b, out/b, m/b]</c>
    /// (so for in &lt; out <c>blkdiag1 [b, in/b, in/b]</c>, <c>blkdiag2 [b, out/b, in/b]</c>; otherwise
    /// <c>blkdiag1 [b, out/b, in/b]</c>, <c>blkdiag2 [b, out/b, out/b]</c>), and
    /// <c>y = blockdiag_butterfly_multiply(x, blkdiag1, blkdiag2)</c> as in <c>DenseMath.Monarch</c>.
    /// <para>
    /// The closed form. Let <c>t = kk·q + qq ∈ [0, m)</c> be the flat index of the first factor's output
    /// (step 1 of <c>DenseMath.Monarch</c>). Step 2 reads that vector as (r l), so t is also <c>rr·l + ll</c>:
    /// middle index t connects row <c>qq = t mod q</c> of <c>blkdiag1[kk]</c>, <c>kk = ⌊t/q⌋</c>, with column
    /// <c>rr = ⌊t/l⌋</c> of <c>blkdiag2[ll]</c>, <c>ll = t mod l</c>. Hence
    /// <c>M[ss·l + ll, kk·p + pp] = Σ_{t ∈ T(ll,kk)} blkdiag2[ll, ss, ⌊t/l⌋] · blkdiag1[kk, t mod q, pp]</c>
    /// with <c>T(ll, kk) = { t ∈ [kk·q, (kk+1)·q) : t mod l = ll }</c>. Cut W into the b·b sub-blocks
    /// <c>S(ll,kk)[ss, pp] = W[ss·l + ll, kk·p + pp]</c> (an <c>[s, p]</c> matrix: rows strided by l, columns
    /// contiguous). Each t lies in exactly one T(ll, kk), and each row of blkdiag1 and column of blkdiag2
    /// belongs to exactly one t, so the sub-blocks are functions of disjoint parameter sets, and the Monarch
    /// matrices are exactly the matrices whose sub-block (ll, kk) has rank ≤ c(ll,kk) = |T(ll, kk)|. The
    /// Frobenius problem therefore separates: the optimum is the truncated SVD of every sub-block to rank
    /// c(ll,kk) (Eckart–Young), the j-th singular pair (√σ_j split symmetrically) going to the j-th element
    /// t of T(ll, kk) in increasing order; pairs beyond the sub-block's rank are zero, and a sub-block with
    /// c = 0 is not representable at all (it projects to zero). This holds for every shape this method
    /// accepts; no case is left unsupported. Examples: square n = b² gives c = 1 everywhere (each sub-block
    /// is rank one: its top singular pair); n = 16, b = 2 gives q = 8, l = 2, c = 4 for all four 8×8
    /// sub-blocks; in = 16, out = 8, b = 4 gives q = 2 &lt; l = 4, so c(ll, kk) = 1 for
    /// ll ∈ {(2kk) mod 4, (2kk + 1) mod 4} and 0 for the other two sub-blocks of each column block.
    /// </para>
    /// </summary>
    /// <returns>The Frobenius error, <c>sqrt(Σ_{ll,kk} Σ_{j ≥ c(ll,kk)} σ_j(S(ll,kk))²)</c> up to rounding.</returns>
    public static double Monarch(ReadOnlySpan<float> dense, int outFeatures, int inFeatures, int blocks, Span<float> blkdiag1, Span<float> blkdiag2)
    {
        Positive(outFeatures, nameof(outFeatures));
        Positive(inFeatures, nameof(inFeatures));
        Positive(blocks, nameof(blocks));
        Divides(blocks, outFeatures, nameof(outFeatures));
        Divides(blocks, inFeatures, nameof(inFeatures));
        ExactLength(dense.Length, (long)outFeatures * inFeatures, nameof(dense), "outFeatures * inFeatures");
        int k = blocks, l = blocks, p = inFeatures / blocks, s = outFeatures / blocks;
        int q = Math.Min(inFeatures, outFeatures) / blocks, r = q;
        ExactLength(blkdiag1.Length, (long)k * q * p, nameof(blkdiag1), "blocks * (min(in, out)/blocks) * (inFeatures/blocks)");
        ExactLength(blkdiag2.Length, (long)l * s * r, nameof(blkdiag2), "blocks * (outFeatures/blocks) * (min(in, out)/blocks)");

        var w1 = new double[k * q * p];
        var w2 = new double[l * s * r];
        var sub = new double[s * p];
        var connecting = new int[q];
        double squared = 0;
        for (int ll = 0; ll < l; ll++)
            for (int kk = 0; kk < k; kk++)
            {
                int count = 0;
                for (int t = kk * q; t < (kk + 1) * q; t++)
                    if (t % l == ll) connecting[count++] = t;

                for (int ss = 0; ss < s; ss++)
                    for (int pp = 0; pp < p; pp++)
                        sub[ss * p + pp] = dense[(ss * l + ll) * inFeatures + kk * p + pp];

                int kept = 0;
                JacobiSvd? svd = null;
                if (count > 0)
                {
                    svd = JacobiSvd.Decompose(sub, s, p);
                    kept = Math.Min(count, svd.Sigma.Length);
                    for (int j = 0; j < kept; j++)
                    {
                        int t = connecting[j], rr = t / l, qq = t % q;
                        double root = Math.Sqrt(svd.Sigma[j]);
                        for (int ss = 0; ss < s; ss++) w2[(ll * s + ss) * r + rr] = root * svd.U[j * s + ss];
                        for (int pp = 0; pp < p; pp++) w1[(kk * q + qq) * p + pp] = root * svd.V[j * p + pp];
                    }
                }

                for (int ss = 0; ss < s; ss++)
                    for (int pp = 0; pp < p; pp++)
                    {
                        double product = 0;
                        for (int j = 0; j < kept; j++)
                        {
                            int t = connecting[j];
                            product += w2[(ll * s + ss) * r + t / l] * w1[(kk * q + t % q) * p + pp];
                        }
                        double difference = sub[ss * p + pp] - product;
                        squared += difference * difference;
                    }
            }

        Narrow(w1, blkdiag1);
        Narrow(w2, blkdiag2);
        return Math.Sqrt(squared);
    }

    /// <summary>
    /// Nearest Kronecker product (Van Loan–Pitsianis): <c>W [aOut·bOut, aIn·bIn] ≈ torch.kron(A, B)</c> with
    /// <c>A [aOut, aIn]</c>, <c>B [bOut, bIn]</c>. Since <c>kron(A, B)[i·bOut + j, p·bIn + q] = A[i, p]·B[j, q]</c>,
    /// the rearrangement <c>R[i·aIn + p, j·bIn + q] = W[i·bOut + j, p·bIn + q]</c> (<c>[aOut·aIn, bOut·bIn]</c>)
    /// maps kron(A, B) to the rank-one <c>vec(A)·vec(B)ᵀ</c> and preserves the Frobenius norm, so the optimum
    /// is R's top singular pair: <c>vec(A) = √σ₁·u₁</c>, <c>vec(B) = √σ₁·v₁</c> (equal norms; the sign makes the
    /// largest-magnitude entry of B positive).
    /// </summary>
    /// <returns>The Frobenius error, <c>sqrt(Σ_{j ≥ 2} σ_j(R)²)</c> up to rounding.</returns>
    public static double Kron(ReadOnlySpan<float> dense, int aOut, int aIn, int bOut, int bIn, Span<float> a, Span<float> b)
    {
        Positive(aOut, nameof(aOut));
        Positive(aIn, nameof(aIn));
        Positive(bOut, nameof(bOut));
        Positive(bIn, nameof(bIn));
        long rowsLong = (long)aOut * bOut, colsLong = (long)aIn * bIn;
        if (rowsLong * colsLong > int.MaxValue)
            throw new ArgumentException($"The dense matrix [{rowsLong}, {colsLong}] is too large.", nameof(dense));
        ExactLength(dense.Length, rowsLong * colsLong, nameof(dense), "(aOut * bOut) * (aIn * bIn)");
        ExactLength(a.Length, (long)aOut * aIn, nameof(a), "aOut * aIn");
        ExactLength(b.Length, (long)bOut * bIn, nameof(b), "bOut * bIn");

        int cols = (int)colsLong, rRows = aOut * aIn, rCols = bOut * bIn;
        var rearranged = new double[rRows * rCols];
        for (int i = 0; i < aOut; i++)
            for (int j = 0; j < bOut; j++)
                for (int p = 0; p < aIn; p++)
                    for (int q = 0; q < bIn; q++)
                        rearranged[(i * aIn + p) * rCols + j * bIn + q] = dense[(i * bOut + j) * cols + p * bIn + q];

        var svd = JacobiSvd.Decompose(rearranged, rRows, rCols);
        double root = Math.Sqrt(svd.Sigma[0]);
        var aValues = new double[rRows];
        var bValues = new double[rCols];
        for (int x = 0; x < rRows; x++) aValues[x] = root * svd.U[x];
        for (int y = 0; y < rCols; y++) bValues[y] = root * svd.V[y];

        double squared = 0;
        for (int x = 0; x < rRows; x++)
            for (int y = 0; y < rCols; y++)
            {
                double difference = rearranged[x * rCols + y] - aValues[x] * bValues[y];
                squared += difference * difference;
            }

        Narrow(aValues, a);
        Narrow(bValues, b);
        return Math.Sqrt(squared);
    }

    private static double[] Widen(ReadOnlySpan<float> values)
    {
        var result = new double[values.Length];
        for (int k = 0; k < values.Length; k++) result[k] = values[k];
        return result;
    }

    private static void Narrow(double[] values, Span<float> destination)
    {
        for (int k = 0; k < values.Length; k++) destination[k] = (float)values[k];
    }

    private static void Positive(int value, string name)
    {
        if (value <= 0) throw new ArgumentException($"{name} must be positive, got {value}.", name);
    }

    private static void Divides(int blocks, int value, string name)
    {
        if (value % blocks != 0)
            throw new ArgumentException($"{name} = {value} is not divisible by blocks = {blocks}.", name);
    }

    private static void ExactLength(int actual, long expected, string name, string what)
    {
        if (actual != expected)
            throw new ArgumentException($"{name} has {actual} elements but {what} = {expected}.", name);
    }
}
