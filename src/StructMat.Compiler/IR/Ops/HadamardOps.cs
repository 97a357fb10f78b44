using System;
using System.Collections.Generic;

namespace StructMat.Compiler.IR;

/// <summary>
/// <c>out (+)= ((B1 A1) ∘ (B2 A2)) in</c>, or its transpose applied to <c>in</c>, for the low-ranks
/// <c>A1 [R1, In]</c>, <c>B1 [Out, R1]</c>, <c>A2 [R2, In]</c>, <c>B2 [Out, R2]</c> (LoHa), as the rank R1·R2 product
/// <c>B̃ (Ã in)</c> with the face-splitting factors <c>Ã[(p,q), i] = A1[p,i]·A2[q,i]</c> and
/// <c>B̃[o, (p,q)] = B1[o,p]·B2[o,q]</c>, which the runtime builds per call; never the <c>Out × In</c> matrix.
/// It reads four parameters, so it names no single <see cref="WeightSlice"/>.
/// </summary>
public sealed record HadamardLowRankOp(int Input, int Output, int A1, int B1, int A2, int B2, int In, int Out, int R1, int R2, bool Transposed, bool Accumulate, string Comment) : IrOp
{
    public override int? Writes => Output;

    public override bool Accumulates => Accumulate;

    public override IReadOnlyList<int> Operands => new[] { Input };

    public override IrOp RenameOperands(Func<int, int> rename) => this with { Input = rename(Input) };

    public override bool CanRetarget(float alphaFactor) => alphaFactor == 1f;

    public override IrOp Retarget(int output, float alphaFactor, bool accumulate) =>
        alphaFactor == 1f ? this with { Output = output, Accumulate = accumulate } : base.Retarget(output, alphaFactor, accumulate);

    public override ParameterSlice? WeightSlice => null;

    public override ParameterSlice? GradientSlice => null;

    public override IrOp RenumberParameters(Func<int, int> renumber) => this with { A1 = renumber(A1), B1 = renumber(B1), A2 = renumber(A2), B2 = renumber(B2) };

    /// <summary>The two rank-R1·R2 products (building Ã and B̃ does not grow with the batch).</summary>
    public override long MultiplyAdds(Func<int, int> width) => (long)SubRows * R1 * R2 * (In + Out);

    public override IEnumerable<string> Violations(IrLayer layer, Func<int, int> width)
    {
        var (inWidth, outWidth) = Transposed ? (Out, In) : (In, Out);
        return Expect(width(Input) == SubRows * inWidth && width(Output) == SubRows * outWidth
            && layer.Parameter(A1).Length == (long)R1 * In && layer.Parameter(B1).Length == (long)Out * R1
            && layer.Parameter(A2).Length == (long)R2 * In && layer.Parameter(B2).Length == (long)Out * R2, "hadamard widths or factor sizes");
    }

    public override string Text(Func<int, string> p) =>
        $"%{Output}{Assign(Accumulate)} hadamard{(Transposed ? "_t" : "")} %{Input}, {p(A1)}, {p(B1)}, {p(A2)}, {p(B2)} in={In} out={Out} r1={R1} r2={R2}";
}

/// <summary>
/// <c>grad(factor) += ∂(Σ dOutᵀ ((B1 A1) ∘ (B2 A2)) in)/∂factor</c> for one of the four factors (<see cref="Target"/>:
/// 0 = A1, 1 = B1, 2 = A2, 3 = B2): through <c>∂L/∂Ã = (dOut B̃)ᵀ in</c> or <c>∂L/∂B̃ = dOutᵀ (in Ãᵀ)</c>, then the
/// face-splitting (e.g. <c>∂L/∂A1[p,i] = Σ_q ∂L/∂Ã[(p,q),i]·A2[q,i]</c>). One op per factor, since an op adds into one gradient.
/// </summary>
public sealed record HadamardLowRankGradientOp(int OutputGradient, int Input, int A1, int B1, int A2, int B2, int In, int Out, int R1, int R2, int Target, string Comment) : IrOp
{
    public override int? Writes => null;

    public override bool Accumulates => false;

    public override IReadOnlyList<int> Operands => new[] { OutputGradient, Input };

    public override IrOp RenameOperands(Func<int, int> rename) => this with { OutputGradient = rename(OutputGradient), Input = rename(Input) };

    public override bool CanRetarget(float alphaFactor) => false;

    public int TargetParameter => Target switch { 0 => A1, 1 => B1, 2 => A2, _ => B2 };

    public override ParameterSlice? WeightSlice => null;

    public override ParameterSlice? GradientSlice => new ParameterSlice(TargetParameter);

    public override IrOp RenumberParameters(Func<int, int> renumber) => this with { A1 = renumber(A1), B1 = renumber(B1), A2 = renumber(A2), B2 = renumber(B2) };

    public override long MultiplyAdds(Func<int, int> width) => 2L * SubRows * R1 * R2 * (In + Out);

    public override IEnumerable<string> Violations(IrLayer layer, Func<int, int> width) =>
        Expect(width(Input) == SubRows * In && width(OutputGradient) == SubRows * Out && Target is >= 0 and <= 3 && layer.Parameter(TargetParameter).Trainable,
            "hadamard-gradient widths, target or frozen parameter");

    public override string Text(Func<int, string> p) =>
        $"grad({p(TargetParameter)}) += hadamard_grad %{OutputGradient}, %{Input}, {p(A1)}, {p(B1)}, {p(A2)}, {p(B2)} in={In} out={Out} r1={R1} r2={R2} target={Target}";
}
