using System;
using System.Collections.Generic;

namespace StructMat.Compiler.IR;

/// <summary>
/// <c>out (+)= B_{F−1} ⋯ B_0 in</c> (or, <see cref="Transposed"/>, <c>out (+)= B_0ᵀ ⋯ B_{F−1}ᵀ in</c>: the input gradient) for a
/// butterfly of <see cref="N"/> = 2^F with twiddles <c>[F, N/2, 2, 2]</c> in <see cref="Weight"/>: factor k (stride s = 2^k)
/// maps <c>x[g·2s + c·s + j]</c> to <c>y[g·2s + a·s + j] = Σ_c W[k, g·s + j, a, c] · x[g·2s + c·s + j]</c>. The runtime
/// takes each row through every factor in cache, never as one pass over the batch per factor.
/// </summary>
public sealed record ButterflyOp(int Input, int Output, int Weight, int N, bool Transposed, bool Accumulate, string Comment) : IrOp
{
    public int Factors => Butterflies.Log2(N);

    public override int? Writes => Output;

    public override bool Accumulates => Accumulate;

    public override IReadOnlyList<int> Operands => new[] { Input };

    public override IrOp RenameOperands(Func<int, int> rename) => this with { Input = rename(Input) };

    public override bool CanRetarget(float alphaFactor) => alphaFactor == 1f;

    public override IrOp Retarget(int output, float alphaFactor, bool accumulate) =>
        alphaFactor == 1f ? this with { Output = output, Accumulate = accumulate } : base.Retarget(output, alphaFactor, accumulate);

    public override ParameterSlice? WeightSlice => new ParameterSlice(Weight, 0, (long)Factors * N * 2);

    public override ParameterSlice? GradientSlice => null;

    public override IrOp RenumberParameters(Func<int, int> renumber) => this with { Weight = renumber(Weight) };

    public override long MultiplyAdds(Func<int, int> width) => (long)SubRows * Factors * N * 2;

    public override IEnumerable<string> Violations(IrLayer layer, Func<int, int> width) =>
        Expect(N >= 2 && (N & (N - 1)) == 0 && width(Input) == SubRows * N && width(Output) == SubRows * N
            && layer.Parameter(Weight).Length == (long)Factors * N * 2, "butterfly widths or twiddle size");

    public override string Text(Func<int, string> p) => $"%{Output}{Assign(Accumulate)} butterfly{(Transposed ? "_t" : "")} %{Input}, {p(Weight)} n={N}";
}

/// <summary><c>grad(W) += ∂(Σ dOutᵀ B in)/∂W</c> for <see cref="ButterflyOp"/>: each factor's input (recomputed per row) against its output gradient.</summary>
public sealed record ButterflyGradientOp(int OutputGradient, int Input, int Weight, int N, string Comment) : IrOp
{
    public int Factors => Butterflies.Log2(N);

    public override int? Writes => null;

    public override bool Accumulates => false;

    public override IReadOnlyList<int> Operands => new[] { OutputGradient, Input };

    public override IrOp RenameOperands(Func<int, int> rename) => this with { OutputGradient = rename(OutputGradient), Input = rename(Input) };

    public override bool CanRetarget(float alphaFactor) => false;

    public override ParameterSlice? WeightSlice => new ParameterSlice(Weight, 0, (long)Factors * N * 2);

    public override ParameterSlice? GradientSlice => new ParameterSlice(Weight, 0, (long)Factors * N * 2);

    public override IrOp RenumberParameters(Func<int, int> renumber) => this with { Weight = renumber(Weight) };

    /// <summary>The recomputed forward, the input-gradient sweep and the outer products: three times the forward.</summary>
    public override long MultiplyAdds(Func<int, int> width) => 3L * SubRows * Factors * N * 2;

    public override IEnumerable<string> Violations(IrLayer layer, Func<int, int> width) =>
        Expect(width(Input) == SubRows * N && width(OutputGradient) == SubRows * N && layer.Parameter(Weight).Trainable
            && layer.Parameter(Weight).Length == (long)Factors * N * 2, "butterfly-gradient widths, twiddle size or frozen twiddle");

    public override string Text(Func<int, string> p) => $"grad({p(Weight)}) += butterfly_grad %{OutputGradient}, %{Input} n={N}";
}

internal static class Butterflies
{
    public static int Log2(int n)
    {
        var log = 0;
        while (1 << log < n) log++;
        return log;
    }
}
