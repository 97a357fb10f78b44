using System;
using System.Collections.Generic;

namespace StructMat.Compiler.IR;

/// <summary>
/// <c>out[o] (+)= in[o] / ‖V_o‖</c>, the row normalisation of DoRA's <c>V = Base + Scale·Up·Down</c> (<c>Base [Out, In]</c>
/// frozen, <c>Down [Rank, In]</c>, <c>Up [Out, Rank]</c>) applied to <c>in = V x</c>; with <c>Rank = 0</c> (Down and Up
/// −1) it is weight normalisation, <c>V = Base</c>. The norms come from the weights,
/// never from an <c>Out × In</c> copy of V (see the runtime's <c>NormalizeKernels</c>): <see cref="PerCallMultiplyAdds"/>
/// per call, whatever the batch. Diagonal in its activation, so it is its own input gradient. It reads three
/// parameters, so it names no single <see cref="WeightSlice"/>.
/// </summary>
public sealed record RowNormalizeOp(int Input, int Output, int Base, int Down, int Up, float Scale, int Out, int In, int Rank, bool Accumulate, string Comment) : IrOp
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

    public override IrOp RenumberParameters(Func<int, int> renumber) =>
        this with { Base = renumber(Base), Down = Rank == 0 ? Down : renumber(Down), Up = Rank == 0 ? Up : renumber(Up) };

    /// <summary>One scaling per output.</summary>
    public override long MultiplyAdds(Func<int, int> width) => (long)SubRows * Out;

    /// <summary>The norms: one pass over Base with Down (<c>Out·In·(Rank + 1)</c>).</summary>
    public override long PerCallMultiplyAdds => (long)Out * In * (Rank + 1);

    public override IEnumerable<string> Violations(IrLayer layer, Func<int, int> width) =>
        Expect(width(Input) == SubRows * Out && width(Output) == SubRows * Out && layer.Parameter(Base).Length == (long)Out * In
            && (Rank == 0 ? Down == -1 && Up == -1 : layer.Parameter(Down).Length == (long)Rank * In && layer.Parameter(Up).Length == (long)Out * Rank),
            "row-normalise widths or weight sizes");

    public override string Text(Func<int, string> p) =>
        $"%{Output}{Assign(Accumulate)} rownorm %{Input}, {RowNormalize.Weights(p, Base, Down, Up, Rank)} scale={Scale.ToString("R", System.Globalization.CultureInfo.InvariantCulture)} out={Out} in={In} rank={Rank}";
}

/// <summary>The text of the weights a row normalisation reads (just the base for weight normalisation).</summary>
internal static class RowNormalize
{
    public static string Weights(Func<int, string> p, int baseWeight, int down, int up, int rank) =>
        rank == 0 ? p(baseWeight) : $"{p(baseWeight)}, {p(down)}, {p(up)}";
}

/// <summary>
/// <c>grad(factor) += ∂(Σ dOutᵀ (in / ‖V‖))/∂factor</c> through the norms (<see cref="Target"/> 0 = Down, 1 = Up,
/// 2 = Base, which is trainable only in weight normalisation), with <c>in</c> held fixed: the path through
/// <c>in = V x</c> is the other ops' gradients.
/// </summary>
public sealed record RowNormalizeGradientOp(int OutputGradient, int Input, int Base, int Down, int Up, float Scale, int Out, int In, int Rank, int Target, string Comment) : IrOp
{
    public override int? Writes => null;

    public override bool Accumulates => false;

    public override IReadOnlyList<int> Operands => new[] { OutputGradient, Input };

    public override IrOp RenameOperands(Func<int, int> rename) => this with { OutputGradient = rename(OutputGradient), Input = rename(Input) };

    public override bool CanRetarget(float alphaFactor) => false;

    public int TargetParameter => Target switch { 0 => Down, 1 => Up, _ => Base };

    public override ParameterSlice? WeightSlice => null;

    public override ParameterSlice? GradientSlice => new ParameterSlice(TargetParameter);

    public override IrOp RenumberParameters(Func<int, int> renumber) =>
        this with { Base = renumber(Base), Down = Rank == 0 ? Down : renumber(Down), Up = Rank == 0 ? Up : renumber(Up) };

    public override long MultiplyAdds(Func<int, int> width) => (long)SubRows * Out;

    /// <summary>The norms again, and <c>Upᵀ diag(h) Base</c> or <c>Base Downᵀ</c>.</summary>
    public override long PerCallMultiplyAdds => (long)Out * In * (2 * Rank + 1);

    public override IEnumerable<string> Violations(IrLayer layer, Func<int, int> width) =>
        Expect(width(Input) == SubRows * Out && width(OutputGradient) == SubRows * Out && (Rank == 0 ? Target == 2 : Target is 0 or 1)
            && layer.Parameter(TargetParameter).Trainable,
            "row-normalise-gradient widths, target or frozen parameter");

    public override string Text(Func<int, string> p) =>
        $"grad({p(TargetParameter)}) += rownorm_grad %{OutputGradient}, %{Input}, {RowNormalize.Weights(p, Base, Down, Up, Rank)} scale={Scale.ToString("R", System.Globalization.CultureInfo.InvariantCulture)} out={Out} in={In} rank={Rank} target={Target}";
}
