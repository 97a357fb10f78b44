using System;
using System.Collections.Generic;
using StructMat.Compiler.Diagnostics;
using StructMat.Compiler.Emit;
using StructMat.Compiler.IR;
using StructMat.Compiler.Lowering;
using StructMat.Compiler.Semantics;

namespace StructMat.Compiler.Structures;

/// <summary><c>diag()</c>: <c>diag [n]</c>, <c>y = d ⊙ x</c>.</summary>
public sealed record BoundDiagonal(MatrixShape Shape, bool Frozen, SourceSpan Span) : BoundPrimitive(Shape, Frozen, Span)
{
    public override Structure Structure => Diagonal.Instance;
}

/// <summary><c>diag()</c>: square; starts at ones (the identity).</summary>
public sealed class Diagonal : Structure<BoundDiagonal>
{
    public static readonly Diagonal Instance = new();

    public override PrimitiveSpec Spec { get; } = new("diag", SquareOnly: true);

    internal override BoundDiagonal? BindShape(StructureBinding b) => new BoundDiagonal(b.Shape, b.Frozen, b.Span);

    public override IReadOnlyList<ParameterSpec> Parameters(BoundDiagonal d) => new[]
    {
        new ParameterSpec("diag", new[] { d.Shape.In }, InitKind.Ones, d.Shape.In, d.Shape.In, $"diagonal {d.Shape.In}"),
    };

    internal override int Lower(BoundDiagonal d, StructureLowering l, int input)
    {
        var output = l.NewValue(d.Shape.In);
        l.Add(new DiagonalOp(input, output, l.Parameter("diag"), false, $"{l.Name}: y = d ⊙ x"));
        return output;
    }

    internal override DenseForm DenseOracle(BoundDiagonal d, Func<string, string> data) =>
        new($"diag {d.Shape.In} -> {d.Shape.Out}", $"{TypeNames.DenseMath}.Diagonal({data("diag")})");

    public override string Explain(BoundDiagonal d) => $"diag {d.Shape}";
}
