using System;
using System.Collections.Generic;
using StructMat.Compiler.Diagnostics;
using StructMat.Compiler.Emit;
using StructMat.Compiler.IR;
using StructMat.Compiler.Lowering;
using StructMat.Compiler.Semantics;

namespace StructMat.Compiler.Structures;

/// <summary>
/// <c>butterfly()</c>: <c>twiddle [log2 n, n/2, 2, 2]</c>, y = B_{L−1} ⋯ B_1 B_0 x with factor k of stride
/// s = 2^k (stride 1 first), as HazyResearch/butterfly's <c>butterfly_multiply</c> with increasing stride:
/// y[g·2s + a·s + j] = Σ_c twiddle[k, g·s + j, a, c] · x[g·2s + c·s + j].
/// </summary>
public sealed record BoundButterfly(MatrixShape Shape, bool Frozen, SourceSpan Span) : BoundPrimitive(Shape, Frozen, Span)
{
    public int Factors
    {
        get
        {
            var log = 0;
            while (1 << log < Shape.In) log++;
            return log;
        }
    }

    public override Structure Structure => Butterfly.Instance;
}

/// <summary><c>butterfly()</c>: square, n a power of two ≥ 2; log2 n factors of n/2 2×2 blocks.</summary>
public sealed class Butterfly : Structure<BoundButterfly>
{
    public static readonly Butterfly Instance = new();

    public override PrimitiveSpec Spec { get; } = new("butterfly", SquareOnly: true);

    internal override BoundButterfly? BindShape(StructureBinding b)
    {
        var n = b.Shape.In;
        if ((n & (n - 1)) != 0 || n < 2)
        {
            b.Report(DiagnosticDescriptors.NotPowerOfTwo, b.Span, n < 2 ? "butterfly (of at least 2)" : "butterfly", n);
            return null;
        }
        return new BoundButterfly(b.Shape, b.Frozen, b.Span);
    }

    public override IReadOnlyList<ParameterSpec> Parameters(BoundButterfly b) => new[]
    {
        new ParameterSpec("twiddle", new[] { b.Factors, b.Shape.In / 2, 2, 2 }, InitKind.MuP, 2, 2,
            $"butterfly twiddles, {b.Factors} factors of {b.Shape.In / 2} 2x2 blocks"),
    };

    // One op for all factors: the runtime takes each row through the log2 n factors in cache (a factor per pass over the
    // batch would stream the activations through memory 3·log2 n times for 2n multiply-adds each).
    internal override int Lower(BoundButterfly b, StructureLowering l, int input)
    {
        var n = b.Shape.In;
        var output = l.NewValue(n);
        l.Add(new ButterflyOp(input, output, l.Parameter("twiddle"), n, Transposed: false, Accumulate: false,
            $"{l.Name}: {b.Factors} factors of {n / 2} 2x2 blocks, strides 1 to {n / 2}, a row at a time"));
        return output;
    }

    internal override DenseForm DenseOracle(BoundButterfly b, Func<string, string> data) =>
        new($"butterfly {b.Shape.In} -> {b.Shape.Out}: the product of its {b.Factors} sparse factors", $"{TypeNames.DenseMath}.Butterfly({data("twiddle")}, {b.Shape.In})");

    public override string Explain(BoundButterfly b) =>
        $"butterfly {b.Shape}: {b.Factors} factors of {b.Shape.In / 2} 2x2 blocks, strides 1, 2, …, {b.Shape.In / 2}";
}
