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

/// <summary>
/// A leaf structure (its record lives with its <see cref="Structures.Structure"/>, in <c>Structures/</c>);
/// <see cref="Frozen"/> parameters are never trained.
/// </summary>
public abstract record BoundPrimitive(MatrixShape Shape, bool Frozen, SourceSpan Span) : BoundExpression(Shape, Span)
{
    /// <summary>The structure that binds, lowers, explains and projects this node.</summary>
    public abstract Structures.Structure Structure { get; }

    /// <summary>The structure's name as written in .smx (<c>monarch</c>).</summary>
    public string Kind => Structure.Name;
}

/// <summary>
/// <c>kron(Left, Right)</c> with <c>torch.kron</c> semantics, maps Left.in·Right.in to Left.out·Right.out;
/// applied by the vec-trick, never formed.
/// </summary>
public sealed record BoundKron(BoundExpression Left, BoundExpression Right, SourceSpan Span)
    : BoundExpression(new MatrixShape(Left.Shape.In * Right.Shape.In, Left.Shape.Out * Right.Shape.Out), Span);

/// <summary>
/// <c>hadamard(Left, Right)</c>: the elementwise product of two low-ranks of one shape (LoHa), applied as a rank
/// r₁·r₂ product. <see cref="ZeroInit"/>: a term beside a frozen base, so one factor starts at zero (PEFT's
/// <c>hada_w2_b</c>, the right operand's <c>lora_A</c>) and the layer starts as its base.
/// </summary>
public sealed record BoundHadamard(Structures.BoundLowRank Left, Structures.BoundLowRank Right, bool ZeroInit, SourceSpan Span)
    : BoundExpression(Left.Shape, Span);

/// <summary>
/// <c>normalize(A)</c>, A with each row scaled to unit L2 norm, for the two operands whose norms need no dense copy:
/// DoRA's <c>frozen dense + c * lowrank</c> (<see cref="Operand"/> is the sum, <see cref="BaseTerm"/> the frozen dense's
/// term, <see cref="LowRankTerm"/> the low-rank's, scaled by <see cref="Scale"/>), or a <c>dense</c> alone (weight
/// normalisation: <see cref="LowRank"/> is null and the term indices −1).
/// </summary>
public sealed record BoundNormalize(BoundExpression Operand, int BaseTerm, int LowRankTerm, Structures.BoundLowRank? LowRank, double Scale, SourceSpan Span)
    : BoundExpression(Operand.Shape, Span);

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
