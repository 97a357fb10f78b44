using System;
using System.Collections.Generic;
using StructMat.Compiler.Diagnostics;
using StructMat.Compiler.IR;
using StructMat.Compiler.Lowering;
using StructMat.Compiler.Semantics;
using StructMat.Compiler.Emit;

namespace StructMat.Compiler.Structures;

/// <summary>
/// <c>dense</c>: <c>weight [out, in]</c>. With <c>dense(seed: k)</c> the weight is initialised from seed k alone, so
/// every layer naming the same seed starts with the same matrix (VeRA's shared frozen random matrices).
/// </summary>
public sealed record BoundDense(MatrixShape Shape, bool Frozen, SourceSpan Span) : BoundPrimitive(Shape, Frozen, Span)
{
    public int? Seed { get; init; }

    public override Structure Structure => Dense.Instance;
}

/// <summary><c>dense</c>: a plain matrix, <c>y = W x</c>; projection is a copy.</summary>
public sealed class Dense : Structure<BoundDense>
{
    public static readonly Dense Instance = new();

    public override PrimitiveSpec Spec { get; } = new("dense", SquareOnly: false,
        new ArgumentSpec("seed", ArgumentKind.Integer, false, "frozen dense(seed: 7)"));

    internal override BoundDense? BindShape(StructureBinding b)
    {
        if (!b.TrySeed(out var seed)) return null;
        return b.FitsIndex((long)b.Shape.In * b.Shape.Out) ? new BoundDense(b.Shape, b.Frozen, b.Span) { Seed = seed } : null;
    }

    public override IReadOnlyList<ParameterSpec> Parameters(BoundDense d)
    {
        var (i, o) = (d.Shape.In, d.Shape.Out);
        return new[]
        {
            new ParameterSpec("weight", new[] { o, i }, InitKind.MuP, i, o,
                d.Seed is { } seed ? $"dense {i} -> {o}, initialised from seed {seed}" : $"dense {i} -> {o}") { Seed = d.Seed },
        };
    }

    internal override int Lower(BoundDense d, StructureLowering l, int input) =>
        l.MatMul(input, l.Parameter("weight"), 1, d.Shape.Out, d.Shape.In, $"{l.Name}: W [{d.Shape.Out}, {d.Shape.In}]");

    internal override DenseForm DenseOracle(BoundDense d, Func<string, string> data) =>
        new($"dense {d.Shape.In} -> {d.Shape.Out}: W", $"{TypeNames.DenseMath}.FromFloat({data("weight")})");

    public override string Explain(BoundDense d) => $"dense {d.Shape}";

    internal override ProjectionForm? Projection(BoundDense d, Func<string, string> data) =>
        new("a copy", $"dense.CopyTo({data("weight")});", "return 0.0;");
}
