using System;
using System.Collections.Generic;
using StructMat.Compiler.Diagnostics;
using StructMat.Compiler.Emit;
using StructMat.Compiler.IR;
using StructMat.Compiler.Lowering;
using StructMat.Compiler.Semantics;

namespace StructMat.Compiler.Structures;

/// <summary>
/// <c>oft(block: b, neumann: k)</c>: PEFT's OFT rotation, <c>oft_R [n/b, b(b−1)/2]</c> (the packed skew-symmetric
/// blocks), applied block by block and never as an <c>n×n</c> matrix. <c>Terms</c> is PEFT's
/// <c>num_cayley_neumann_terms</c> (default 5); 0 is PEFT's exact Cayley mode.
/// </summary>
public sealed record BoundOft(MatrixShape Shape, int Block, int Terms, bool Frozen, SourceSpan Span) : BoundPrimitive(Shape, Frozen, Span)
{
    public int Blocks => Shape.In / Block;

    public int Packed => Block * (Block - 1) / 2;

    public override Structure Structure => Oft.Instance;
}

/// <summary>
/// <c>oft(block: b)</c>: square; an input rotation <c>blockdiag(R_1ᵀ, …, R_(n/b)ᵀ)</c> with PEFT's Cayley–Neumann
/// <c>R_i</c> (see the runtime's <c>OrthogonalKernels</c>). Starts as the identity (<c>oft_R = 0</c>, PEFT's default).
/// </summary>
public sealed class Oft : Structure<BoundOft>
{
    public static readonly Oft Instance = new();

    /// <summary>PEFT's default <c>num_cayley_neumann_terms</c>.</summary>
    public const int DefaultTerms = 5;

    /// <summary>The most series terms <c>neumann</c> accepts (the runtime's limit).</summary>
    public const int MaxTerms = 16;

    public override PrimitiveSpec Spec { get; } = new("oft", SquareOnly: true,
        new ArgumentSpec("block", ArgumentKind.Integer, true, "oft(block: 32)"),
        new ArgumentSpec("neumann", ArgumentKind.Integer, false, "oft(block: 32, neumann: 0)"));

    internal override BoundOft? BindShape(StructureBinding b)
    {
        if (b.Integer("block") is not { } block) return null;
        if (!b.InRange("block", block, 2, b.Shape.In, "a 1×1 rotation is the identity")) return null;
        if (!b.Divides(block, b.SpanOf("block"), asBlockSize: true)) return null;
        if (!b.TryNonNegative("neumann", out var neumann)) return null;
        var terms = neumann ?? DefaultTerms;
        if (!b.InRange("neumann", terms, 0, MaxTerms, "0 is the exact Cayley transform, k > 0 PEFT's series of k terms")) return null;
        return b.FitsIndex((long)b.Shape.In * block) ? new BoundOft(b.Shape, block, terms, b.Frozen, b.Span) : null;
    }

    public override IReadOnlyList<ParameterSpec> Parameters(BoundOft o) => new[]
    {
        new ParameterSpec("oft_R", new[] { o.Blocks, o.Packed }, InitKind.Zero, o.Block, o.Block,
            $"oft {o.Blocks} skew-symmetric {o.Block}x{o.Block} blocks, upper triangles packed row by row") { Peft = "oft_R.{adapter}.weight" },
    };

    internal override int Lower(BoundOft o, StructureLowering l, int input)
    {
        var output = l.NewValue(o.Shape.In);
        l.Add(new OrthogonalBlocksOp(input, output, l.Parameter("oft_R"), o.Blocks, o.Block, o.Terms, Transposed: false, Accumulate: false,
            $"{l.Name}: y_i = R_iᵀ x_i, {o.Blocks} rotations of {o.Block}x{o.Block} ({Rotation(o.Terms)})"));
        return output;
    }

    internal override DenseForm DenseOracle(BoundOft o, Func<string, string> data) =>
        new($"oft {o.Shape.In} -> {o.Shape.Out}: blockdiag(R_iᵀ), PEFT's steps in float64",
            $"{TypeNames.DenseMath}.Oft({data("oft_R")}, {o.Blocks}, {o.Block}, {o.Terms})");

    public override string Explain(BoundOft o) => $"oft {o.Shape}: {o.Blocks} rotations of {o.Block}x{o.Block}, {Rotation(o.Terms)}";

    public override string Dump(BoundOft o) => $"oft block={o.Block} neumann={o.Terms}";

    private static string Rotation(int terms) => terms == 0 ? "exact Cayley transform" : $"Cayley-Neumann series of {terms} terms";
}
