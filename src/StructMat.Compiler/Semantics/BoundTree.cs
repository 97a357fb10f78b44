using StructMat.Compiler.Diagnostics;

namespace StructMat.Compiler.Semantics;

// The bound tree: every node knows its matrix shape; names and constants are resolved.
// Every node must be immutable and structurally equatable (the generator caches on equality).

/// <summary>A matrix shape: maps <see cref="In"/> features to <see cref="Out"/> features (weight [Out, In]).</summary>
public readonly record struct MatrixShape(int In, int Out)
{
    public override string ToString() => $"{In} -> {Out}";
}

public abstract record BoundExpression(MatrixShape Shape, SourceSpan Span);

/// <summary>A leaf structure that owns parameters; <see cref="Frozen"/> parameters are never trained.</summary>
public abstract record BoundPrimitive(MatrixShape Shape, bool Frozen, SourceSpan Span) : BoundExpression(Shape, Span)
{
    /// <summary>The structure's name as written in .smx (<c>monarch</c>).</summary>
    public abstract string Kind { get; }
}

/// <summary>
/// <c>dense</c>: <c>weight [out, in]</c>. With <c>dense(seed: k)</c> the weight is initialised from seed k alone, so
/// every layer naming the same seed starts with the same matrix (VeRA's shared frozen random matrices).
/// </summary>
public sealed record BoundDense(MatrixShape Shape, bool Frozen, SourceSpan Span) : BoundPrimitive(Shape, Frozen, Span)
{
    public int? Seed { get; init; }

    public override string Kind => "dense";
}

/// <summary><c>lowrank(rank: r)</c>: <c>W = lora_B · lora_A</c>, <c>lora_A [r, in]</c>, <c>lora_B [out, r]</c>.</summary>
public sealed record BoundLowRank(MatrixShape Shape, int Rank, bool ZeroInitB, bool Frozen, SourceSpan Span) : BoundPrimitive(Shape, Frozen, Span)
{
    public override string Kind => "lowrank";
}

/// <summary><c>blockdiag(blocks: b)</c>: <c>weight [b, out/b, in/b]</c>.</summary>
public sealed record BoundBlockDiagonal(MatrixShape Shape, int Blocks, bool Frozen, SourceSpan Span) : BoundPrimitive(Shape, Frozen, Span)
{
    public override string Kind => "blockdiag";

    public int BlockIn => Shape.In / Blocks;

    public int BlockOut => Shape.Out / Blocks;
}

/// <summary>
/// <c>monarch(blocks: b)</c> with fly's <c>MonarchLinear</c> shapes: <c>blkdiag1 [k, q, p]</c>,
/// <c>blkdiag2 [l, s, r]</c> with k = l = b, p = in/b, s = out/b and q = r = min(in, out)/b.
/// </summary>
public sealed record BoundMonarch(MatrixShape Shape, int Blocks, bool Frozen, SourceSpan Span) : BoundPrimitive(Shape, Frozen, Span)
{
    public override string Kind => "monarch";

    public int K => Blocks;

    public int P => Shape.In / Blocks;

    public int Q => Shape.In < Shape.Out ? Shape.In / Blocks : Shape.Out / Blocks;

    public int L => Blocks;

    public int S => Shape.Out / Blocks;

    public int R => Q;
}

/// <summary><c>diag()</c>: <c>diag [n]</c>, <c>y = d ⊙ x</c>.</summary>
public sealed record BoundDiagonal(MatrixShape Shape, bool Frozen, SourceSpan Span) : BoundPrimitive(Shape, Frozen, Span)
{
    public override string Kind => "diag";
}

/// <summary>The permutations <c>perm(kind)</c> offers; each is an index map, never a matrix.</summary>
public enum PermutationKind
{
    Reverse,
    BitReversal,
    Shuffle,
    Random,
}

/// <summary><c>perm(kind, seed)</c>: <c>y[j] = x[map[j]]</c>; no parameters.</summary>
public sealed record BoundPermutation(MatrixShape Shape, PermutationKind Permutation, int Seed, SourceSpan Span) : BoundPrimitive(Shape, Frozen: true, Span)
{
    public override string Kind => "perm";
}

/// <summary>
/// <c>householder(reflections: r)</c>: <c>hra_u [n, r]</c>, <c>H = H_1 H_2 … H_r</c>, <c>H_i = I − 2 û_i û_iᵀ</c>
/// (PEFT HRA, no Gram–Schmidt), applied as r reflections, never as a matrix.
/// </summary>
public sealed record BoundHouseholder(MatrixShape Shape, int Reflections, bool Frozen, SourceSpan Span) : BoundPrimitive(Shape, Frozen, Span)
{
    public override string Kind => "householder";
}

/// <summary>
/// <c>butterfly()</c>: <c>twiddle [log2 n, n/2, 2, 2]</c>, y = B_{L−1} ⋯ B_1 B_0 x with factor k of stride
/// s = 2^k (stride 1 first), as HazyResearch/butterfly's <c>butterfly_multiply</c> with increasing stride:
/// y[g·2s + a·s + j] = Σ_c twiddle[k, g·s + j, a, c] · x[g·2s + c·s + j].
/// </summary>
public sealed record BoundButterfly(MatrixShape Shape, bool Frozen, SourceSpan Span) : BoundPrimitive(Shape, Frozen, Span)
{
    public override string Kind => "butterfly";

    public int Factors
    {
        get
        {
            var log = 0;
            while (1 << log < Shape.In) log++;
            return log;
        }
    }
}

/// <summary>
/// <c>blocksparse(block: b, pattern: butterfly)</c>, Pixelated Butterfly's flat block butterfly: with nb = n/b
/// blocks per side, block (i, j) is nonzero iff j = i XOR d for d ∈ {0, 1, 2, 4, …, nb/2}. Parameter
/// <c>blocks [nb·(1 + log2 nb), b, b]</c>, d-major: <c>blocks[m·nb + i]</c> is block (i, i XOR d_m), d_0 = 0, d_m = 2^(m−1).
/// </summary>
public sealed record BoundBlockSparse(MatrixShape Shape, int Block, bool Frozen, SourceSpan Span) : BoundPrimitive(Shape, Frozen, Span)
{
    public override string Kind => "blocksparse";

    public int BlocksPerSide => Shape.In / Block;

    /// <summary>The XOR distances of the pattern's block diagonals: 0, 1, 2, 4, …, nb/2.</summary>
    public System.Collections.Generic.IEnumerable<int> Distances
    {
        get
        {
            yield return 0;
            for (var d = 1; d < BlocksPerSide; d <<= 1) yield return d;
        }
    }
}

/// <summary>
/// <c>btt(rank: r)</c>, Compute Better Spent's block tensor-train with 2 cores: in = m0·m1, out = n0·n1 (their
/// <c>factorize</c>), W[j0·n1 + j1, i1·m0 + i0] = Σ_α C0[i1, α·n0 + j0, i0] · C1[j0, j1, i1·r + α], stored as
/// <c>cores.0 [m1, r·n0, m0]</c> and <c>cores.1 [n0, n1, m1·r]</c> (blocks [out, in], as every StructMat block).
/// </summary>
public sealed record BoundBtt(MatrixShape Shape, int Rank, int M0, int M1, int N0, int N1, bool Frozen, SourceSpan Span) : BoundPrimitive(Shape, Frozen, Span)
{
    public override string Kind => "btt";

    /// <summary>
    /// Compute Better Spent's <c>factorize(n, 2)</c>: each prime factor (ascending, with multiplicity) multiplies the
    /// currently smallest of the two numbers (ties: the first), then the pair is sorted.
    /// </summary>
    public static (int Small, int Large) Factorize(int n)
    {
        var numbers = new[] { 1, 1 };
        var rest = n;
        for (var prime = 2; (long)prime * prime <= rest; prime++)
        {
            while (rest % prime == 0)
            {
                numbers[numbers[1] < numbers[0] ? 1 : 0] *= prime;
                rest /= prime;
            }
        }
        if (rest > 1) numbers[numbers[1] < numbers[0] ? 1 : 0] *= rest;
        return (System.Math.Min(numbers[0], numbers[1]), System.Math.Max(numbers[0], numbers[1]));
    }
}

/// <summary>
/// <c>kron(Left, Right)</c> with <c>torch.kron</c> semantics, maps Left.in·Right.in to Left.out·Right.out;
/// applied by the vec-trick, never formed.
/// </summary>
public sealed record BoundKron(BoundExpression Left, BoundExpression Right, SourceSpan Span)
    : BoundExpression(new MatrixShape(Left.Shape.In * Right.Shape.In, Left.Shape.Out * Right.Shape.Out), Span);

/// <summary><c>Left * Right</c>: <c>y = Left (Right x)</c>.</summary>
public sealed record BoundProduct(BoundExpression Left, BoundExpression Right, SourceSpan Span)
    : BoundExpression(new MatrixShape(Right.Shape.In, Left.Shape.Out), Span);

/// <summary><c>t0 + t1 + …</c></summary>
public sealed record BoundSum(EquatableArray<BoundExpression> Terms, SourceSpan Span) : BoundExpression(Terms[0].Shape, Span);

/// <summary><c>c * X</c></summary>
public sealed record BoundScale(double Factor, BoundExpression Operand, SourceSpan Span) : BoundExpression(Operand.Shape, Span);

/// <summary>A bound <c>layer</c>: its body without the bias, and whether it ends in <c>+ bias</c>.</summary>
public sealed record BoundLayer(string Name, string? Documentation, MatrixShape Shape, BoundExpression Body, bool HasBias, SourceSpan NameSpan, SourceSpan Span);

/// <summary>What binding produced for one file.</summary>
public sealed record BoundFile(string Namespace, EquatableArray<BoundLayer> Layers);
