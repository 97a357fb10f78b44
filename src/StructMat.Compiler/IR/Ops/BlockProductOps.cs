using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace StructMat.Compiler.IR;

/// <summary>Where element <c>i</c> of block <c>g</c> lives in a row: contiguous <c>g·size+i</c> or strided <c>i·groups+g</c>.</summary>
public enum Layout
{
    Contiguous,
    Strided,
}

/// <summary>
/// <c>out[b, outIdx(g,o)] (+)= Alpha · Σ_i W[g,o,i] · in[b, inIdx(g ⊕ s, i)]</c>, W as [Groups, BlockOut, BlockIn]
/// from <see cref="WeightOffset"/> in the parameter tensor (butterfly factors share one), s = <see cref="InGroupXor"/>
/// (a folded block swap: one diagonal of the flat block butterfly; non-zero only with contiguous layouts). One group
/// is a plain dense matmul; strided layouts are folded permutations.
/// </summary>
public sealed record MatMulOp(int Input, int Output, int Weight, int Groups, int BlockOut, int BlockIn,
    Layout InLayout, Layout OutLayout, float Alpha, bool Accumulate, string Comment) : IrOp
{
    public int WeightOffset { get; init; }

    public int InGroupXor { get; init; }

    public long WeightLength => (long)Groups * BlockOut * BlockIn;

    public override int? Writes => Output;

    public override bool Accumulates => Accumulate;

    public override IReadOnlyList<int> Operands => new[] { Input };

    public override IrOp RenameOperands(Func<int, int> rename) => this with { Input = rename(Input) };

    public override bool CanRetarget(float alphaFactor) => true;

    public override IrOp Retarget(int output, float alphaFactor, bool accumulate) =>
        this with { Output = output, Alpha = Alpha * alphaFactor, Accumulate = accumulate };

    public override ParameterSlice? WeightSlice => new ParameterSlice(Weight, WeightOffset, WeightLength);

    public override ParameterSlice? GradientSlice => null;

    public override IrOp RenumberParameters(Func<int, int> renumber) => this with { Weight = renumber(Weight) };

    public override long MultiplyAdds(Func<int, int> width) => (long)SubRows * WeightLength;

    public override IEnumerable<string> Violations(IrLayer layer, Func<int, int> width) =>
        IrOp.Expect(width(Input) == SubRows * Groups * BlockIn && width(Output) == SubRows * Groups * BlockOut, "matmul widths")
            .Concat(BlockProducts.Violations(layer, Weight, WeightOffset + WeightLength, InGroupXor, Groups, InLayout, OutLayout));

    public override string Text(Func<int, string> p) =>
        $"%{Output}{Assign(Accumulate)} matmul %{Input}, {p(Weight)} {BlockProducts.Shape(Groups, BlockOut, BlockIn, InLayout, InGroupXor, OutLayout)}{AlphaText(Alpha)}";
}

/// <summary>
/// Backward of <see cref="MatMulOp"/> w.r.t. its input: <c>dIn[b, inIdx(g ⊕ s, i)] (+)= Alpha · Σ_o W[g,o,i] · dOut[b, outIdx(g,o)]</c>,
/// s = <see cref="InGroupXor"/> (the forward op's: block g's term goes to the input gradient's block g XOR s).
/// </summary>
public sealed record MatMulTransposedOp(int OutputGradient, int InputGradient, int Weight, int Groups, int BlockOut, int BlockIn,
    Layout InLayout, Layout OutLayout, float Alpha, bool Accumulate, string Comment) : IrOp
{
    public int WeightOffset { get; init; }

    public int InGroupXor { get; init; }

    public long WeightLength => (long)Groups * BlockOut * BlockIn;

    public override int? Writes => InputGradient;

    public override bool Accumulates => Accumulate;

    public override IReadOnlyList<int> Operands => new[] { OutputGradient };

    public override IrOp RenameOperands(Func<int, int> rename) => this with { OutputGradient = rename(OutputGradient) };

    public override bool CanRetarget(float alphaFactor) => true;

    public override IrOp Retarget(int output, float alphaFactor, bool accumulate) =>
        this with { InputGradient = output, Alpha = Alpha * alphaFactor, Accumulate = accumulate };

    public override ParameterSlice? WeightSlice => new ParameterSlice(Weight, WeightOffset, WeightLength);

    public override ParameterSlice? GradientSlice => null;

    public override IrOp RenumberParameters(Func<int, int> renumber) => this with { Weight = renumber(Weight) };

    public override long MultiplyAdds(Func<int, int> width) => (long)SubRows * WeightLength;

    public override IEnumerable<string> Violations(IrLayer layer, Func<int, int> width) =>
        IrOp.Expect(width(InputGradient) == SubRows * Groups * BlockIn && width(OutputGradient) == SubRows * Groups * BlockOut, "transposed matmul widths")
            .Concat(BlockProducts.Violations(layer, Weight, WeightOffset + WeightLength, InGroupXor, Groups, InLayout, OutLayout));

    public override string Text(Func<int, string> p) =>
        $"%{InputGradient}{Assign(Accumulate)} matmul_t %{OutputGradient}, {p(Weight)} {BlockProducts.Shape(Groups, BlockOut, BlockIn, InLayout, InGroupXor, OutLayout)}{AlphaText(Alpha)}";
}

/// <summary>
/// Backward of <see cref="MatMulOp"/> w.r.t. W: <c>dW[g,o,i] += Alpha · Σ_b dOut[b, outIdx(g,o)] · in[b, inIdx(g ⊕ s, i)]</c>,
/// s = <see cref="InGroupXor"/> (the forward op's), into the gradient slice from <see cref="WeightOffset"/>.
/// </summary>
public sealed record WeightGradientOp(int OutputGradient, int Input, int Weight, int Groups, int BlockOut, int BlockIn,
    Layout InLayout, Layout OutLayout, float Alpha, string Comment) : IrOp
{
    public int WeightOffset { get; init; }

    public int InGroupXor { get; init; }

    public long WeightLength => (long)Groups * BlockOut * BlockIn;

    public override int? Writes => null;

    public override bool Accumulates => false;

    public override IReadOnlyList<int> Operands => new[] { OutputGradient, Input };

    public override IrOp RenameOperands(Func<int, int> rename) => this with { OutputGradient = rename(OutputGradient), Input = rename(Input) };

    public override bool CanRetarget(float alphaFactor) => false;

    public override ParameterSlice? WeightSlice => null;

    public override ParameterSlice? GradientSlice => new ParameterSlice(Weight, WeightOffset, WeightLength);

    public override IrOp RenumberParameters(Func<int, int> renumber) => this with { Weight = renumber(Weight) };

    public override long MultiplyAdds(Func<int, int> width) => (long)SubRows * WeightLength;

    public override IEnumerable<string> Violations(IrLayer layer, Func<int, int> width) =>
        IrOp.Expect(width(Input) == SubRows * Groups * BlockIn && width(OutputGradient) == SubRows * Groups * BlockOut, "weight-gradient widths")
            .Concat(IrOp.Expect(layer.Parameter(Weight).Trainable, "weight gradient of a frozen parameter"))
            .Concat(BlockProducts.Violations(layer, Weight, WeightOffset + WeightLength, InGroupXor, Groups, InLayout, OutLayout));

    public override string Text(Func<int, string> p) =>
        $"grad({p(Weight)}) += outer %{OutputGradient}, %{Input} {BlockProducts.Shape(Groups, BlockOut, BlockIn, InLayout, InGroupXor, OutLayout)}{AlphaText(Alpha)}";
}

/// <summary>What the three block-product ops share: their text and their weight and group-XOR rules.</summary>
internal static class BlockProducts
{
    public static string Shape(int groups, int blockOut, int blockIn, Layout inLayout, int inGroupXor, Layout outLayout) =>
        $"groups={groups} block={blockOut}x{blockIn} in={inLayout}{(inGroupXor == 0 ? "" : " xor=" + inGroupXor.ToString(CultureInfo.InvariantCulture))} out={outLayout}";

    /// <summary>
    /// The op's weights end at <paramref name="end"/> within the tensor; an input group XOR keeps every block inside the
    /// groups and comes with contiguous layouts only (the runtime's rule).
    /// </summary>
    public static IEnumerable<string> Violations(IrLayer layer, int weight, long end, int groupXor, int groups, Layout inLayout, Layout outLayout)
    {
        var parameter = layer.Parameter(weight);
        if (parameter.Length < end) yield return $"weight {parameter.Name} has {parameter.Length} elements, the op needs {end}";
        if (groupXor == 0) yield break;
        long span = 1;
        while (span <= groupXor) span <<= 1;
        if (groupXor < 0 || groups % span != 0) yield return $"input group XOR {groupXor} leaves the {groups} groups";
        if (inLayout != Layout.Contiguous || outLayout != Layout.Contiguous) yield return $"input group XOR {groupXor} with a strided layout";
    }
}
