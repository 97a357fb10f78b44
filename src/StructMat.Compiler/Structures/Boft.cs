using System;
using System.Collections.Generic;
using StructMat.Compiler.Diagnostics;
using StructMat.Compiler.Emit;
using StructMat.Compiler.IR;
using StructMat.Compiler.Lowering;
using StructMat.Compiler.Semantics;

namespace StructMat.Compiler.Structures;

/// <summary>
/// <c>boft(block: b, factors: m)</c>: PEFT's BOFT rotation, <c>boft_R [m, n/b, b, b]</c>: m block-diagonal Cayley
/// rotations, each between PEFT's block-butterfly permutations, applied factor by factor and never as a matrix.
/// </summary>
public sealed record BoundBoft(MatrixShape Shape, int Block, int Factors, bool Frozen, SourceSpan Span) : BoundPrimitive(Shape, Frozen, Span)
{
    public int Blocks => Shape.In / Block;

    public override Structure Structure => Boft.Instance;
}

/// <summary>
/// <c>boft(block: b, factors: m)</c>: square. With <c>R_(i,d)</c> PEFT's Cayley transform of <c>½(A − Aᵀ)</c>,
/// <c>A = boft_R[i, d]</c>, <c>BD_i = blockdiag(R_(i,0), …)</c> and <c>P_i</c> PEFT's <c>block_butterfly_perm</c> for
/// factor i (the identity for i = 0), PEFT rotates an input row as <c>x · M_(m−1) ⋯ M_0</c>, <c>M_i = P_i BD_i P_iᵀ</c>:
/// as a matrix on column vectors <c>M_0ᵀ ⋯ M_(m−1)ᵀ</c>. Starts as the identity (<c>boft_R = 0</c>).
/// </summary>
public sealed class Boft : Structure<BoundBoft>
{
    public static readonly Boft Instance = new();

    public override PrimitiveSpec Spec { get; } = new("boft", SquareOnly: true,
        new ArgumentSpec("block", ArgumentKind.Integer, true, "boft(block: 8)"),
        new ArgumentSpec("factors", ArgumentKind.Integer, false, "boft(block: 8, factors: 2)"));

    internal override BoundBoft? BindShape(StructureBinding b)
    {
        if (b.Integer("block") is not { } block) return null;
        if (!b.InRange("block", block, 2, b.Shape.In, "a 1×1 rotation is the identity")) return null;
        if (!b.Divides(block, b.SpanOf("block"), asBlockSize: true)) return null;
        var factors = 1;
        if (b.Has("factors"))
        {
            if (b.Integer("factors") is not { } m) return null;
            factors = m;
        }
        var blocks = b.Shape.In / block;
        if (factors > 1 && block % 2 != 0)
        {
            b.Report(DiagnosticDescriptors.NotEven, b.SpanOf("block"), $"boft with {factors} factors: 'block'", block);
            return null;
        }
        // Factor i's permutation regroups 2^i blocks, so 2^(m−1) must divide the block count (PEFT's own check).
        var most = 1;
        while (blocks % (1 << most) == 0 && most < 30) most++;
        if (!b.InRange("factors", factors, 1, most, $"{blocks} blocks of {block} allow {most}: 2^(factors − 1) must divide the block count")) return null;
        return b.FitsIndex((long)factors * b.Shape.In * block) ? new BoundBoft(b.Shape, block, factors, b.Frozen, b.Span) : null;
    }

    public override IReadOnlyList<ParameterSpec> Parameters(BoundBoft o) => new[]
    {
        new ParameterSpec("boft_R", new[] { o.Factors, o.Blocks, o.Block, o.Block }, InitKind.Zero, o.Block, o.Block,
            $"boft {o.Factors} factors of {o.Blocks} {o.Block}x{o.Block} blocks; each rotation is the Cayley transform of ½(A − Aᵀ)") { Peft = "boft_R.{adapter}" },
    };

    internal override int Lower(BoundBoft o, StructureLowering l, int input)
    {
        var (n, b, d) = (o.Shape.In, o.Block, o.Blocks);
        var weight = l.Parameter("boft_R");
        var value = input;
        // x' = M_0ᵀ ⋯ M_(m−1)ᵀ x with M_iᵀ = P_i BD_iᵀ P_iᵀ: the last factor first, each as Pᵀ, the rotations, P.
        for (var i = o.Factors - 1; i >= 0; i--)
        {
            var map = new IndexMap(IndexMapKind.BlockButterfly, n) { Group = b << i, Block = b / 2 };
            if (i > 0)
            {
                var gathered = l.NewValue(n);
                l.Add(new GatherOp(value, gathered, map, Inverse: true, Accumulate: false, $"{l.Name}: factor {i}, P_{i}ᵀ (block butterfly, groups of {b << i})"));
                value = gathered;
            }
            var rotated = l.NewValue(n);
            l.Add(new OrthogonalBlocksOp(value, rotated, weight, d, b, Terms: 0, Transposed: false, Accumulate: false,
                $"{l.Name}: factor {i}, y_d = R_(i,d)ᵀ x_d, {d} Cayley rotations of {b}x{b}") { Skew = SkewKind.Full, WeightOffset = i * d * b * b });
            value = rotated;
            if (i > 0)
            {
                var back = l.NewValue(n);
                l.Add(new GatherOp(value, back, map, Inverse: false, Accumulate: false, $"{l.Name}: factor {i}, P_{i}"));
                value = back;
            }
        }
        return value;
    }

    internal override DenseForm DenseOracle(BoundBoft o, Func<string, string> data) =>
        new($"boft {o.Shape.In} -> {o.Shape.Out}: (M_(m−1) ⋯ M_0)ᵀ, PEFT's steps in float64",
            $"{TypeNames.DenseMath}.Boft({data("boft_R")}, {o.Factors}, {o.Blocks}, {o.Block})");

    public override string Explain(BoundBoft o) =>
        $"boft {o.Shape}: {o.Factors} butterfly factor{(o.Factors == 1 ? "" : "s")} of {o.Blocks} Cayley rotations of {o.Block}x{o.Block}";

    public override string Dump(BoundBoft o) => $"boft block={o.Block} factors={o.Factors}";
}
