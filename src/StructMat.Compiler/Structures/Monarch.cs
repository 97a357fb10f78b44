using System;
using System.Collections.Generic;
using StructMat.Compiler.Diagnostics;
using StructMat.Compiler.Emit;
using StructMat.Compiler.IR;
using StructMat.Compiler.Lowering;
using StructMat.Compiler.Semantics;

namespace StructMat.Compiler.Structures;

/// <summary>
/// <c>monarch(blocks: b)</c> with fly's <c>MonarchLinear</c> shapes: <c>blkdiag1 [k, q, p]</c>,
/// <c>blkdiag2 [l, s, r]</c> with k = l = b, p = in/b, s = out/b and q = r = min(in, out)/b.
/// </summary>
public sealed record BoundMonarch(MatrixShape Shape, int Blocks, bool Frozen, SourceSpan Span) : BoundPrimitive(Shape, Frozen, Span)
{
    public int K => Blocks;

    public int P => Shape.In / Blocks;

    public int Q => Shape.In < Shape.Out ? Shape.In / Blocks : Shape.Out / Blocks;

    public int L => Blocks;

    public int S => Shape.Out / Blocks;

    public int R => Q;

    public override Structure Structure => Monarch.Instance;
}

/// <summary>
/// <c>monarch(blocks: b)</c>: <c>y = blockdiag_butterfly_multiply(x, blkdiag1, blkdiag2)</c> exactly as HazyResearch/fly
/// (its reshape/transpose order defines the permutation); both permutations fold into strided indexing. Projection:
/// the closed form, square and rectangular.
/// </summary>
public sealed class Monarch : Structure<BoundMonarch>
{
    public static readonly Monarch Instance = new();

    public override PrimitiveSpec Spec { get; } = new("monarch", false,
        new ArgumentSpec("blocks", ArgumentKind.Integer, true, "monarch(blocks: 32)"));

    internal override BoundMonarch? BindShape(StructureBinding b)
    {
        if (b.Integer("blocks") is not { } blocks || !b.Divides(blocks, b.SpanOf("blocks"))) return null;
        var m = new BoundMonarch(b.Shape, blocks, b.Frozen, b.Span);
        return b.FitsIndex((long)m.K * m.Q * m.P) && b.FitsIndex((long)m.L * m.S * m.R) ? m : null;
    }

    public override IReadOnlyList<ParameterSpec> Parameters(BoundMonarch m) => new[]
    {
        new ParameterSpec("blkdiag1", new[] { m.K, m.Q, m.P }, InitKind.MuP, m.P, m.Q, $"monarch first block-diagonal factor, {m.K} blocks of {m.Q}x{m.P}"),
        new ParameterSpec("blkdiag2", new[] { m.L, m.S, m.R }, InitKind.MuP, m.R, m.S, $"monarch second block-diagonal factor, {m.L} blocks of {m.S}x{m.R}"),
    };

    public override LearningRateScope? LearningRates(BoundMonarch m) => new(m.Shape.In, Matrices: 2);

    // fly's blockdiag_butterfly_multiply: x [k·p] → blkdiag1 → view (r, l), transpose → blkdiag2 → view (l, s), transpose.
    internal override int Lower(BoundMonarch m, StructureLowering l, int input)
    {
        var t1 = l.MatMul(input, l.Parameter("blkdiag1"), m.K, m.Q, m.P, $"{l.Name}: first factor blockdiag(blkdiag1), {m.K} blocks of {m.Q}x{m.P}");
        var t2 = l.Permute(t1, m.R, m.L, $"{l.Name}: view as ({m.R}, {m.L}) and transpose");
        var t3 = l.MatMul(t2, l.Parameter("blkdiag2"), m.L, m.S, m.R, $"{l.Name}: second factor blockdiag(blkdiag2), {m.L} blocks of {m.S}x{m.R}");
        return l.Permute(t3, m.L, m.S, $"{l.Name}: view as ({m.L}, {m.S}) and transpose");
    }

    internal override DenseForm DenseOracle(BoundMonarch m, Func<string, string> data) =>
        new($"monarch {m.Shape.In} -> {m.Shape.Out}: fly's blockdiag_butterfly_multiply as a matrix",
            $"{TypeNames.DenseMath}.Monarch({data("blkdiag1")}, {m.K}, {m.Q}, {m.P}, {data("blkdiag2")}, {m.L}, {m.S}, {m.R})");

    public override string Explain(BoundMonarch m) =>
        $"monarch {m.Shape}: {m.K} blocks of {m.Q}x{m.P}, transpose ({m.R}, {m.L}), {m.L} blocks of {m.S}x{m.R}, transpose ({m.L}, {m.S})";

    public override string Dump(BoundMonarch m) => $"monarch blocks={m.Blocks} blkdiag1=[{m.K}, {m.Q}, {m.P}] blkdiag2=[{m.L}, {m.S}, {m.R}]";

    internal override ProjectionForm? Projection(BoundMonarch m, Func<string, string> data) =>
        new("the closed-form optimum (a truncated SVD per sub-block)",
            $"return {TypeNames.Projections}.Monarch(dense, {m.Shape.Out}, {m.Shape.In}, {m.Blocks}, {data("blkdiag1")}, {data("blkdiag2")});");
}
