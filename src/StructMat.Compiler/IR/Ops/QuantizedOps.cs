using System;
using System.Collections.Generic;

namespace StructMat.Compiler.IR;

/// <summary>How a quantised frozen base stores its weights (the runtime's <c>QuantFormat</c>).</summary>
public enum QuantFormat
{
    /// <summary>QLoRA's 4-bit NormalFloat: two codes per byte, one float32 absmax per group of a row.</summary>
    Nf4,

    /// <summary>Symmetric int8: one code per byte, one float32 scale per row.</summary>
    Int8,
}

/// <summary>
/// <c>out (+)= Alpha · W in</c> (or, <see cref="Transposed"/>, <c>out (+)= Alpha · Wᵀ in</c>: the input gradient) for a frozen
/// quantised <c>W [Out, In]</c>: <see cref="Codes"/> (NF4 nibbles or int8) and <see cref="Scales"/> (NF4's absmax per
/// <see cref="Group"/> weights of a row, int8's per-row scale). The runtime dequantises a register panel at a time, never
/// all of W. W is frozen, so there is no weight gradient; it reads two parameters and names no single <see cref="WeightSlice"/>.
/// </summary>
public sealed record QuantMatMulOp(int Input, int Output, int Codes, int Scales, QuantFormat Format, int Group, int Out, int In,
    bool Transposed, float Alpha, bool Accumulate, string Comment) : IrOp
{
    public override int? Writes => Output;

    public override bool Accumulates => Accumulate;

    public override IReadOnlyList<int> Operands => new[] { Input };

    public override IrOp RenameOperands(Func<int, int> rename) => this with { Input = rename(Input) };

    public override bool CanRetarget(float alphaFactor) => true;

    public override IrOp Retarget(int output, float alphaFactor, bool accumulate) =>
        this with { Output = output, Alpha = Alpha * alphaFactor, Accumulate = accumulate };

    public override ParameterSlice? WeightSlice => null;

    public override ParameterSlice? GradientSlice => null;

    public override IrOp RenumberParameters(Func<int, int> renumber) => this with { Codes = renumber(Codes), Scales = renumber(Scales) };

    public override long MultiplyAdds(Func<int, int> width) => (long)SubRows * Out * In;

    /// <summary>The code bytes and scales W has in its format.</summary>
    public (long Codes, long Scales) Lengths =>
        Format == QuantFormat.Nf4 ? ((long)Out * In / 2, (long)Out * (In / Group)) : ((long)Out * In, Out);

    public override IEnumerable<string> Violations(IrLayer layer, Func<int, int> width)
    {
        var (inWidth, outWidth) = Transposed ? (Out, In) : (In, Out);
        var (codes, scales) = Lengths;
        var codeType = Format == QuantFormat.Nf4 ? ElementType.UInt8 : ElementType.Int8;
        return Expect(width(Input) == SubRows * inWidth && width(Output) == SubRows * outWidth
            && layer.Parameter(Codes).Length == codes && layer.Parameter(Scales).Length == scales
            && layer.Parameter(Codes).ElementType == codeType && layer.Parameter(Scales).ElementType == ElementType.Float32
            && !layer.Parameter(Codes).Trainable && !layer.Parameter(Scales).Trainable
            && (Format != QuantFormat.Nf4 || (Group > 0 && Group % 2 == 0 && In % Group == 0)), "quantised matmul widths, code or scale tensors");
    }

    public override string Text(Func<int, string> p) =>
        $"%{Output}{Assign(Accumulate)} qmatmul{(Transposed ? "_t" : "")} %{Input}, {p(Codes)}, {p(Scales)} {(Format == QuantFormat.Nf4 ? $"nf4 group={Group}" : "int8")} out={Out} in={In}{AlphaText(Alpha)}";
}
