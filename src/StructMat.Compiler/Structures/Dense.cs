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
/// every layer naming the same seed starts with the same matrix (VeRA's shared frozen random matrices). With
/// <c>quant: nf4</c> or <c>quant: int8</c> it is a frozen quantised base (<see cref="Quant"/>).
/// </summary>
public sealed record BoundDense(MatrixShape Shape, bool Frozen, SourceSpan Span) : BoundPrimitive(Shape, Frozen, Span)
{
    public int? Seed { get; init; }

    /// <summary>The quantised format, or null for float32 weights.</summary>
    public QuantFormat? Quant { get; init; }

    /// <summary>Weights of a row per NF4 absmax (QLoRA's block size); 0 unless <see cref="Quant"/> is NF4.</summary>
    public int Group { get; init; }

    public override Structure Structure => Dense.Instance;
}

/// <summary>
/// <c>dense</c>: a plain matrix, <c>y = W x</c>; projection is a copy. <c>frozen dense(quant: nf4, group: g)</c> stores W as
/// QLoRA's 4-bit NormalFloat codes (<c>weight [out, in/2]</c> U8, two per byte, the first in the high nibble) with one
/// float32 absmax per g consecutive weights of a row (<c>absmax [out, in/g]</c>; g defaults to 64, bitsandbytes'
/// block size); <c>frozen dense(quant: int8)</c> as int8 codes (<c>weight [out, in]</c> I8) with one float32 scale per
/// row (<c>scale [out]</c>). Forward and the input gradient dequantise in the kernels, never into a float32 W.
/// </summary>
public sealed class Dense : Structure<BoundDense>
{
    public static readonly Dense Instance = new();

    /// <summary>QLoRA's (bitsandbytes') NF4 block size, the group when none is written.</summary>
    public const int DefaultGroup = 64;

    public override PrimitiveSpec Spec { get; } = new("dense", SquareOnly: false,
        new ArgumentSpec("seed", ArgumentKind.Integer, false, "frozen dense(seed: 7)"),
        new ArgumentSpec("quant", ArgumentKind.Option, false, "frozen dense(quant: nf4, group: 64)", "nf4", "int8"),
        new ArgumentSpec("group", ArgumentKind.Integer, false, "frozen dense(quant: nf4, group: 64)"));

    internal override BoundDense? BindShape(StructureBinding b)
    {
        if (!b.TrySeed(out var seed)) return null;
        if (!b.FitsIndex((long)b.Shape.In * b.Shape.Out)) return null;
        var bound = new BoundDense(b.Shape, b.Frozen, b.Span) { Seed = seed };
        if (!b.Has("quant"))
        {
            if (!b.Has("group")) return bound;
            b.Report(DiagnosticDescriptors.ArgumentNotApplicable, b.SpanOf("group"), "dense: 'group'", "to a quantised base, dense(quant: nf4, group: g)");
            return null;
        }
        if (b.Option("quant") is not { } word) return null;
        var format = word == "nf4" ? QuantFormat.Nf4 : QuantFormat.Int8;
        if (!b.Frozen)
        {
            b.Report(DiagnosticDescriptors.QuantizedNotFrozen, b.Span, word);
            return null;
        }
        if (format == QuantFormat.Int8)
        {
            if (!b.Has("group")) return bound with { Quant = format };
            b.Report(DiagnosticDescriptors.ArgumentNotApplicable, b.SpanOf("group"), "dense: 'group'", "to nf4; int8 has one scale per row");
            return null;
        }
        var group = b.Has("group") ? b.Integer("group") : DefaultGroup;
        if (group is not { } g) return null;
        if (g % 2 != 0)
        {
            b.Report(DiagnosticDescriptors.NotEven, b.SpanOf("group"), "dense: 'group'", g);
            return null;
        }
        if (b.Shape.In % g != 0)
        {
            b.Report(DiagnosticDescriptors.BlocksDoNotDivide, b.SpanOf("group"), "dense", $"groups of {g} weights", "input", b.Shape.In);
            return null;
        }
        return bound with { Quant = format, Group = g };
    }

    public override IReadOnlyList<ParameterSpec> Parameters(BoundDense d)
    {
        var (i, o) = (d.Shape.In, d.Shape.Out);
        var what = d.Seed is { } seed ? $"dense {i} -> {o}, initialised from seed {seed}" : $"dense {i} -> {o}";
        return d.Quant switch
        {
            QuantFormat.Nf4 => new[]
            {
                new ParameterSpec("weight", new[] { o, i / 2 }, InitKind.Quantized, i, o, $"{what}: NF4 codes, two per byte (first in the high nibble)")
                    { Seed = d.Seed, ElementType = ElementType.UInt8 },
                new ParameterSpec("absmax", new[] { o, i / d.Group }, InitKind.QuantScale, i, o, $"{what}: the absmax of each group of {d.Group} weights of a row")
                    { Seed = d.Seed },
            },
            QuantFormat.Int8 => new[]
            {
                new ParameterSpec("weight", new[] { o, i }, InitKind.Quantized, i, o, $"{what}: int8 codes") { Seed = d.Seed, ElementType = ElementType.Int8 },
                new ParameterSpec("scale", new[] { o }, InitKind.QuantScale, i, o, $"{what}: the scale of each row (absmax / 127)") { Seed = d.Seed },
            },
            _ => new[] { new ParameterSpec("weight", new[] { o, i }, InitKind.MuP, i, o, what) { Seed = d.Seed } },
        };
    }

    internal override int Lower(BoundDense d, StructureLowering l, int input)
    {
        if (d.Quant is not { } format)
            return l.MatMul(input, l.Parameter("weight"), 1, d.Shape.Out, d.Shape.In, $"{l.Name}: W [{d.Shape.Out}, {d.Shape.In}]");
        var output = l.NewValue(d.Shape.Out);
        var scales = l.Parameter(format == QuantFormat.Nf4 ? "absmax" : "scale");
        l.Add(new QuantMatMulOp(input, output, l.Parameter("weight"), scales, format, d.Group, d.Shape.Out, d.Shape.In, Transposed: false, 1f, Accumulate: false,
            $"{l.Name}: W [{d.Shape.Out}, {d.Shape.In}] {Describe(d)}, decoded in the kernel (never a float32 W)"));
        return output;
    }

    internal override DenseForm DenseOracle(BoundDense d, Func<string, string> data) => d.Quant switch
    {
        QuantFormat.Nf4 => new($"dense {d.Shape.In} -> {d.Shape.Out}: W from its NF4 codes and absmax",
            $"{TypeNames.DenseMath}.DequantizeNf4({Bytes(data("weight"))}, {data("absmax")}, {d.Shape.Out}, {d.Shape.In}, {d.Group})"),
        QuantFormat.Int8 => new($"dense {d.Shape.In} -> {d.Shape.Out}: W from its int8 codes and row scales",
            $"{TypeNames.DenseMath}.DequantizeInt8({Bytes(data("weight"))}, {data("scale")}, {d.Shape.Out}, {d.Shape.In})"),
        _ => new($"dense {d.Shape.In} -> {d.Shape.Out}: W", $"{TypeNames.DenseMath}.FromFloat({data("weight")})"),
    };

    /// <summary>The byte view of a parameter whose float view is <paramref name="floatData"/> (<c>X.Data</c> → <c>X.Bytes</c>).</summary>
    private static string Bytes(string floatData) =>
        floatData.EndsWith(".Data", StringComparison.Ordinal) ? floatData.Substring(0, floatData.Length - ".Data".Length) + ".Bytes"
            : throw new InvalidOperationException($"Cannot name the bytes of '{floatData}'");

    public override string Explain(BoundDense d) => d.Quant is null ? $"dense {d.Shape}" : $"dense {d.Shape}, {Describe(d)}";

    public override string Dump(BoundDense d) => d.Quant switch
    {
        QuantFormat.Nf4 => $"dense quant=nf4 group={d.Group}",
        QuantFormat.Int8 => "dense quant=int8",
        _ => Name,
    };

    private static string Describe(BoundDense d) => d.Quant == QuantFormat.Nf4
        ? $"NF4 codes with one absmax per {d.Group} weights of a row"
        : "int8 codes with one scale per row";

    /// <summary>A copy; a quantised base has none (it is frozen: the layer's generated <c>Quantize</c> fills it from float weights).</summary>
    internal override ProjectionForm? Projection(BoundDense d, Func<string, string> data) =>
        d.Quant is null ? new("a copy", $"dense.CopyTo({data("weight")});", "return 0.0;") : null;
}
