using System;
using System.Collections.Generic;

namespace StructMat.Compiler.IR;

/// <summary><c>out (+)= H in</c> (or <c>Hᵀ in</c>) with <c>H = H_1 … H_R</c> from <c>hra_u [N, R]</c>, as R reflections.</summary>
public sealed record HouseholderOp(int Input, int Output, int Weight, int N, int R, bool Transposed, bool Accumulate, string Comment) : IrOp
{
    public override int? Writes => Output;

    public override bool Accumulates => Accumulate;

    public override IReadOnlyList<int> Operands => new[] { Input };

    public override IrOp RenameOperands(Func<int, int> rename) => this with { Input = rename(Input) };

    public override bool CanRetarget(float alphaFactor) => alphaFactor == 1f;

    public override IrOp Retarget(int output, float alphaFactor, bool accumulate) =>
        alphaFactor == 1f ? this with { Output = output, Accumulate = accumulate } : base.Retarget(output, alphaFactor, accumulate);

    public override ParameterSlice? WeightSlice => new ParameterSlice(Weight);

    public override ParameterSlice? GradientSlice => null;

    public override IrOp RenumberParameters(Func<int, int> renumber) => this with { Weight = renumber(Weight) };

    /// <summary>A dot product and an update per reflection.</summary>
    public override long MultiplyAdds(Func<int, int> width) => 2L * SubRows * N * R;

    public override IEnumerable<string> Violations(IrLayer layer, Func<int, int> width) =>
        Expect(width(Input) == SubRows * N && width(Output) == SubRows * N && layer.Parameter(Weight).Length == (long)N * R, "householder widths");

    public override string Text(Func<int, string> p) =>
        $"%{Output}{Assign(Accumulate)} householder{(Transposed ? "_t" : "")} %{Input}, {p(Weight)} n={N} r={R}";
}

/// <summary><c>du += ∂(Σ dOutᵀ H in)/∂u</c>, through the normalisation of each reflection vector.</summary>
public sealed record HouseholderGradientOp(int OutputGradient, int Input, int Weight, int N, int R, string Comment) : IrOp
{
    public override int? Writes => null;

    public override bool Accumulates => false;

    public override IReadOnlyList<int> Operands => new[] { OutputGradient, Input };

    public override IrOp RenameOperands(Func<int, int> rename) => this with { OutputGradient = rename(OutputGradient), Input = rename(Input) };

    public override bool CanRetarget(float alphaFactor) => false;

    public override ParameterSlice? WeightSlice => new ParameterSlice(Weight);

    public override ParameterSlice? GradientSlice => new ParameterSlice(Weight);

    public override IrOp RenumberParameters(Func<int, int> renumber) => this with { Weight = renumber(Weight) };

    public override long MultiplyAdds(Func<int, int> width) => 4L * SubRows * N * R;

    public override IEnumerable<string> Violations(IrLayer layer, Func<int, int> width) =>
        Expect(width(Input) == SubRows * N && width(OutputGradient) == SubRows * N && layer.Parameter(Weight).Trainable,
            "householder-gradient widths or frozen parameter");

    public override string Text(Func<int, string> p) =>
        $"grad({p(Weight)}) += householder_grad %{OutputGradient}, %{Input} n={N} r={R}";
}
