using System;
using System.Collections.Generic;
using System.Linq;

namespace StructMat.Compiler.IR;

/// <summary><c>out (+)= Alpha · in</c>, elementwise.</summary>
public sealed record ScaleOp(int Input, int Output, float Alpha, bool Accumulate, string Comment) : IrOp
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

    public override IrOp RenumberParameters(Func<int, int> renumber) => this;

    public override long MultiplyAdds(Func<int, int> width) => 0;

    public override IEnumerable<string> Violations(IrLayer layer, Func<int, int> width) => Expect(width(Input) == width(Output), "scale widths");

    public override string Text(Func<int, string> p) => $"%{Output}{Assign(Accumulate)} scale %{Input}{AlphaText(Alpha)}";
}

/// <summary><c>out = left + right</c>, elementwise.</summary>
public sealed record AddOp(int Left, int Right, int Output, string Comment) : IrOp
{
    public override int? Writes => Output;

    public override bool Accumulates => false;

    public override IReadOnlyList<int> Operands => new[] { Left, Right };

    public override IrOp RenameOperands(Func<int, int> rename) => this with { Left = rename(Left), Right = rename(Right) };

    public override bool CanRetarget(float alphaFactor) => false;

    public override ParameterSlice? WeightSlice => null;

    public override ParameterSlice? GradientSlice => null;

    public override IrOp RenumberParameters(Func<int, int> renumber) => this;

    public override long MultiplyAdds(Func<int, int> width) => 0;

    public override IEnumerable<string> Violations(IrLayer layer, Func<int, int> width) =>
        Expect(width(Left) == width(Output) && width(Right) == width(Output), "add widths");

    public override string Text(Func<int, string> p) => $"%{Output} = add %{Left}, %{Right}";
}

/// <summary><c>target[b, j] += bias[j]</c>, in place.</summary>
public sealed record BiasOp(int Target, int Bias, string Comment) : IrOp
{
    public override int? Writes => Target;

    /// <summary>In place: it adds into its target.</summary>
    public override bool Accumulates => true;

    public override IReadOnlyList<int> Operands => Array.Empty<int>();

    public override IrOp RenameOperands(Func<int, int> rename) => this;

    public override bool CanRetarget(float alphaFactor) => false;

    public override ParameterSlice? WeightSlice => null;

    public override ParameterSlice? GradientSlice => null;

    public override IrOp RenumberParameters(Func<int, int> renumber) => this with { Bias = renumber(Bias) };

    public override long MultiplyAdds(Func<int, int> width) => 0;

    public override IEnumerable<string> Violations(IrLayer layer, Func<int, int> width) =>
        Expect(layer.Parameter(Bias).Length == width(Target), "bias width");

    public override string Text(Func<int, string> p) => $"%{Target} += bias {p(Bias)}";
}

/// <summary><c>dBias[j] += Σ_b dTarget[b, j]</c>.</summary>
public sealed record BiasGradientOp(int OutputGradient, int Bias, string Comment) : IrOp
{
    public override int? Writes => null;

    public override bool Accumulates => false;

    public override IReadOnlyList<int> Operands => new[] { OutputGradient };

    public override IrOp RenameOperands(Func<int, int> rename) => this with { OutputGradient = rename(OutputGradient) };

    public override bool CanRetarget(float alphaFactor) => false;

    public override ParameterSlice? WeightSlice => null;

    public override ParameterSlice? GradientSlice => new ParameterSlice(Bias);

    public override IrOp RenumberParameters(Func<int, int> renumber) => this with { Bias = renumber(Bias) };

    public override long MultiplyAdds(Func<int, int> width) => 0;

    public override IEnumerable<string> Violations(IrLayer layer, Func<int, int> width) =>
        Expect(layer.Parameter(Bias).Length == width(OutputGradient), "bias-gradient width")
            .Concat(Expect(layer.Parameter(Bias).Trainable, "bias gradient of a frozen parameter"));

    public override string Text(Func<int, string> p) => $"grad({p(Bias)}) += colsum %{OutputGradient}";
}

/// <summary><c>out (+)= d ⊙ in</c> with the parameter vector d (of the sub-row width).</summary>
public sealed record DiagonalOp(int Input, int Output, int Weight, bool Accumulate, string Comment) : IrOp
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

    public override long MultiplyAdds(Func<int, int> width) => width(Output);

    public override IEnumerable<string> Violations(IrLayer layer, Func<int, int> width) =>
        Expect(width(Input) == width(Output) && SubRows * layer.Parameter(Weight).Length == width(Output), "diagonal widths");

    public override string Text(Func<int, string> p) => $"%{Output}{Assign(Accumulate)} diag %{Input}, {p(Weight)}";
}

/// <summary><c>dd[j] += Σ_b dOut[b, j] · in[b, j]</c>.</summary>
public sealed record DiagonalGradientOp(int OutputGradient, int Input, int Weight, string Comment) : IrOp
{
    public override int? Writes => null;

    public override bool Accumulates => false;

    public override IReadOnlyList<int> Operands => new[] { OutputGradient, Input };

    public override IrOp RenameOperands(Func<int, int> rename) => this with { OutputGradient = rename(OutputGradient), Input = rename(Input) };

    public override bool CanRetarget(float alphaFactor) => false;

    public override ParameterSlice? WeightSlice => null;

    public override ParameterSlice? GradientSlice => new ParameterSlice(Weight);

    public override IrOp RenumberParameters(Func<int, int> renumber) => this with { Weight = renumber(Weight) };

    public override long MultiplyAdds(Func<int, int> width) => width(Input);

    public override IEnumerable<string> Violations(IrLayer layer, Func<int, int> width) =>
        Expect(width(Input) == width(OutputGradient) && SubRows * layer.Parameter(Weight).Length == width(Input) && layer.Parameter(Weight).Trainable,
            "diagonal-gradient widths or frozen parameter");

    public override string Text(Func<int, string> p) => $"grad({p(Weight)}) += colsum %{OutputGradient} * %{Input}";
}
