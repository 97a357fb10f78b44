using System;
using System.Collections.Generic;
using StructMat.Compiler.Diagnostics;
using StructMat.Compiler.Emit;
using StructMat.Compiler.IR;
using StructMat.Compiler.Lowering;
using StructMat.Compiler.Semantics;

namespace StructMat.Compiler.Structures;

/// <summary><c>lowrank(rank: r)</c>: <c>W = lora_B · lora_A</c>, <c>lora_A [r, in]</c>, <c>lora_B [out, r]</c>.</summary>
public sealed record BoundLowRank(MatrixShape Shape, int Rank, bool ZeroInitB, bool Frozen, SourceSpan Span) : BoundPrimitive(Shape, Frozen, Span)
{
    public override Structure Structure => LowRank.Instance;
}

/// <summary>
/// <c>lowrank(rank: r)</c>, PEFT LoRA's names and shapes. Next to a frozen term of a sum, <c>lora_B</c> starts at
/// zero (the layer starts as its frozen base). Projection: the truncated SVD (Eckart–Young).
/// </summary>
public sealed class LowRank : Structure<BoundLowRank>
{
    public static readonly LowRank Instance = new();

    public override PrimitiveSpec Spec { get; } = new("lowrank", false,
        new ArgumentSpec("rank", ArgumentKind.Integer, true, "lowrank(rank: 8)"));

    internal override BoundLowRank? BindShape(StructureBinding b)
    {
        if (b.Integer("rank") is not { } rank) return null;
        var limit = Math.Min(b.Shape.In, b.Shape.Out);
        if (rank > limit)
        {
            b.Report(DiagnosticDescriptors.RankTooLarge, b.SpanOf("rank"), rank, b.Shape.In, b.Shape.Out, limit);
            return null;
        }
        return b.FitsIndex((long)rank * Math.Max(b.Shape.In, b.Shape.Out))
            ? new BoundLowRank(b.Shape, rank, ZeroInitB: b.AdapterTerm, b.Frozen, b.Span)
            : null;
    }

    public override IReadOnlyList<ParameterSpec> Parameters(BoundLowRank l)
    {
        var (i, o, r) = (l.Shape.In, l.Shape.Out, l.Rank);
        return new[]
        {
            new ParameterSpec("lora_A", new[] { r, i }, InitKind.MuP, i, r, $"lowrank down-projection {i} -> {r}") { Peft = "lora_A.{adapter}.weight" },
            new ParameterSpec("lora_B", new[] { o, r }, l.ZeroInitB ? InitKind.Zero : InitKind.MuP, r, o, $"lowrank up-projection {r} -> {o}") { Peft = "lora_B.{adapter}.weight" },
        };
    }

    public override LearningRateScope? LearningRates(BoundLowRank l) => new(l.Shape.In, Matrices: 2);

    internal override int Lower(BoundLowRank node, StructureLowering l, int input)
    {
        var (i, o, r) = (node.Shape.In, node.Shape.Out, node.Rank);
        var t = l.MatMul(input, l.Parameter("lora_A"), 1, r, i, $"{l.Name}: down-projection A [{r}, {i}]");
        return l.MatMul(t, l.Parameter("lora_B"), 1, o, r, $"{l.Name}: up-projection B [{o}, {r}]");
    }

    internal override DenseForm DenseOracle(BoundLowRank l, Func<string, string> data) =>
        new($"lowrank {l.Shape.In} -> {l.Shape.Out}: B·A",
            $"{TypeNames.DenseMath}.MatMul({TypeNames.DenseMath}.FromFloat({data("lora_B")}), {TypeNames.DenseMath}.FromFloat({data("lora_A")}), {l.Shape.Out}, {l.Rank}, {l.Shape.In})");

    public override string Explain(BoundLowRank l) =>
        $"lowrank {l.Shape}, rank {l.Rank}: B·A{(l.ZeroInitB ? " (B starts at zero: a LoRA update)" : "")}";

    public override string Dump(BoundLowRank l) => $"lowrank rank={l.Rank}{(l.ZeroInitB ? " zero-init-B" : "")}";

    internal override ProjectionForm? Projection(BoundLowRank l, Func<string, string> data) =>
        new("the truncated SVD (Eckart–Young)",
            $"return {TypeNames.Projections}.LowRank(dense, {l.Shape.Out}, {l.Shape.In}, {l.Rank}, {data("lora_A")}, {data("lora_B")});");
}
