using System;
using System.Collections.Generic;
using StructMat.Compiler.Diagnostics;
using StructMat.Compiler.Emit;
using StructMat.Compiler.IR;
using StructMat.Compiler.Lowering;
using StructMat.Compiler.Semantics;

namespace StructMat.Compiler.Structures;

/// <summary>
/// <c>householder(reflections: r)</c>: <c>hra_u [n, r]</c>, <c>H = H_1 H_2 … H_r</c>, <c>H_i = I − 2 û_i û_iᵀ</c>
/// (PEFT HRA, no Gram–Schmidt), applied as r reflections, never as a matrix.
/// </summary>
public sealed record BoundHouseholder(MatrixShape Shape, int Reflections, bool Frozen, SourceSpan Span) : BoundPrimitive(Shape, Frozen, Span)
{
    public override Structure Structure => Householder.Instance;
}

/// <summary><c>householder(reflections: r)</c>: square, r ≤ n; starts as the identity (equal pairs of vectors, PEFT HRA).</summary>
public sealed class Householder : Structure<BoundHouseholder>
{
    public static readonly Householder Instance = new();

    public override PrimitiveSpec Spec { get; } = new("householder", SquareOnly: true,
        new ArgumentSpec("reflections", ArgumentKind.Integer, true, "householder(reflections: 8)"));

    internal override BoundHouseholder? BindShape(StructureBinding b)
    {
        if (b.Integer("reflections") is not { } reflections) return null;
        if (reflections > b.Shape.In)
        {
            b.Report(DiagnosticDescriptors.ReflectionsTooMany, b.SpanOf("reflections"), reflections, b.Shape.In);
            return null;
        }
        return new BoundHouseholder(b.Shape, reflections, b.Frozen, b.Span);
    }

    public override IReadOnlyList<ParameterSpec> Parameters(BoundHouseholder h) => new[]
    {
        new ParameterSpec("hra_u", new[] { h.Shape.In, h.Reflections }, InitKind.HouseholderIdentity, h.Shape.In, h.Reflections,
            $"householder reflection vectors, {h.Reflections} columns of length {h.Shape.In}") { Peft = "hra_u.{adapter}" },
    };

    internal override int Lower(BoundHouseholder h, StructureLowering l, int input)
    {
        var (n, r) = (h.Shape.In, h.Reflections);
        var output = l.NewValue(n);
        l.Add(new HouseholderOp(input, output, l.Parameter("hra_u"), n, r, Transposed: false, Accumulate: false,
            $"{l.Name}: y = H_1 … H_{r} x, {r} reflections"));
        return output;
    }

    internal override DenseForm DenseOracle(BoundHouseholder h, Func<string, string> data) =>
        new($"householder {h.Shape.In} -> {h.Shape.Out}: H_1 … H_{h.Reflections} as explicit products",
            $"{TypeNames.DenseMath}.Householder({data("hra_u")}, {h.Shape.In}, {h.Reflections})");

    public override string Explain(BoundHouseholder h) => $"householder {h.Shape}: {h.Reflections} reflections H_1 … H_{h.Reflections}";

    public override string Dump(BoundHouseholder h) => $"householder reflections={h.Reflections}";
}
