using System;
using System.Collections.Generic;
using StructMat.Compiler.Diagnostics;
using StructMat.Compiler.Emit;
using StructMat.Compiler.IR;
using StructMat.Compiler.Lowering;
using StructMat.Compiler.Semantics;

namespace StructMat.Compiler.Structures;

/// <summary><c>blockdiag(blocks: b)</c>: <c>weight [b, out/b, in/b]</c>.</summary>
public sealed record BoundBlockDiagonal(MatrixShape Shape, int Blocks, bool Frozen, SourceSpan Span) : BoundPrimitive(Shape, Frozen, Span)
{
    public int BlockIn => Shape.In / Blocks;

    public int BlockOut => Shape.Out / Blocks;

    public override Structure Structure => BlockDiagonal.Instance;
}

/// <summary><c>blockdiag(blocks: b)</c>: block i maps input slice i to output slice i. Projection: the diagonal blocks.</summary>
public sealed class BlockDiagonal : Structure<BoundBlockDiagonal>
{
    public static readonly BlockDiagonal Instance = new();

    public override PrimitiveSpec Spec { get; } = new("blockdiag", false,
        new ArgumentSpec("blocks", ArgumentKind.Integer, true, "blockdiag(blocks: 4)"));

    internal override BoundBlockDiagonal? BindShape(StructureBinding b)
    {
        if (b.Integer("blocks") is not { } blocks || !b.Divides(blocks, b.SpanOf("blocks"))) return null;
        return b.FitsIndex((long)b.Shape.In / blocks * b.Shape.Out) ? new BoundBlockDiagonal(b.Shape, blocks, b.Frozen, b.Span) : null;
    }

    public override IReadOnlyList<ParameterSpec> Parameters(BoundBlockDiagonal b) => new[]
    {
        new ParameterSpec("weight", new[] { b.Blocks, b.BlockOut, b.BlockIn }, InitKind.MuP, b.BlockIn, b.BlockOut,
            $"blockdiag {b.Blocks} blocks of {b.BlockOut}x{b.BlockIn}"),
    };

    internal override int Lower(BoundBlockDiagonal b, StructureLowering l, int input) =>
        l.MatMul(input, l.Parameter("weight"), b.Blocks, b.BlockOut, b.BlockIn, $"{l.Name}: {b.Blocks} blocks of {b.BlockOut}x{b.BlockIn}");

    internal override DenseForm DenseOracle(BoundBlockDiagonal b, Func<string, string> data) =>
        new($"blockdiag {b.Shape.In} -> {b.Shape.Out}: {b.Blocks} diagonal blocks",
            $"{TypeNames.DenseMath}.BlockDiagonal({data("weight")}, {b.Blocks}, {b.BlockOut}, {b.BlockIn})");

    public override string Explain(BoundBlockDiagonal b) => $"blockdiag {b.Shape}: {b.Blocks} blocks of {b.BlockOut}x{b.BlockIn}";

    public override string Dump(BoundBlockDiagonal b) => $"blockdiag blocks={b.Blocks}";

    internal override ProjectionForm? Projection(BoundBlockDiagonal b, Func<string, string> data) =>
        new("its diagonal blocks", $"return {TypeNames.Projections}.BlockDiagonal(dense, {b.Shape.Out}, {b.Shape.In}, {b.Blocks}, {data("weight")});");
}
