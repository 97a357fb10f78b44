using System;
using System.Collections.Generic;

namespace StructMat.Compiler.IR;

/// <summary>
/// <c>out (+)= Rᵀ in</c> (or <c>R in</c> when transposed), block by block: <c>R_i</c> is PEFT's OFT rotation of block i,
/// built from the packed skew-symmetric triangle <c>oft_R [Blocks, Block(Block−1)/2]</c> by the Cayley transform
/// (<see cref="Terms"/> = 0) or PEFT's Neumann series of that many terms. The runtime builds the rotations once per
/// call (<c>Blocks·Block³</c> per matrix power) and never forms the <c>n×n</c> matrix.
/// </summary>
public sealed record OrthogonalBlocksOp(int Input, int Output, int Weight, int Blocks, int Block, int Terms, bool Transposed, bool Accumulate, string Comment) : IrOp
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

    /// <summary>A <c>Block × Block</c> product per block (the per-call rotation build does not grow with the batch).</summary>
    public override long MultiplyAdds(Func<int, int> width) => (long)SubRows * Blocks * Block * Block;

    public override IEnumerable<string> Violations(IrLayer layer, Func<int, int> width)
    {
        var n = SubRows * Blocks * Block;
        return Expect(width(Input) == n && width(Output) == n && layer.Parameter(Weight).Length == (long)Blocks * Block * (Block - 1) / 2 && Terms >= 0,
            "orthogonal-blocks widths or terms");
    }

    public override string Text(Func<int, string> p) =>
        $"%{Output}{Assign(Accumulate)} oft{(Transposed ? "_t" : "")} %{Input}, {p(Weight)} blocks={Blocks} block={Block} neumann={Terms}";
}

/// <summary><c>dR += ∂(Σ dOutᵀ Rᵀ in)/∂oft_R</c>: the block products <c>Σ in_i dOut_iᵀ</c> taken back through the rotation.</summary>
public sealed record OrthogonalBlocksGradientOp(int OutputGradient, int Input, int Weight, int Blocks, int Block, int Terms, string Comment) : IrOp
{
    public override int? Writes => null;

    public override bool Accumulates => false;

    public override IReadOnlyList<int> Operands => new[] { OutputGradient, Input };

    public override IrOp RenameOperands(Func<int, int> rename) => this with { OutputGradient = rename(OutputGradient), Input = rename(Input) };

    public override bool CanRetarget(float alphaFactor) => false;

    public override ParameterSlice? WeightSlice => new ParameterSlice(Weight);

    public override ParameterSlice? GradientSlice => new ParameterSlice(Weight);

    public override IrOp RenumberParameters(Func<int, int> renumber) => this with { Weight = renumber(Weight) };

    public override long MultiplyAdds(Func<int, int> width) => (long)SubRows * Blocks * Block * Block;

    public override IEnumerable<string> Violations(IrLayer layer, Func<int, int> width)
    {
        var n = SubRows * Blocks * Block;
        return Expect(width(Input) == n && width(OutputGradient) == n && layer.Parameter(Weight).Trainable && Terms >= 0,
            "orthogonal-blocks-gradient widths or frozen parameter");
    }

    public override string Text(Func<int, string> p) =>
        $"grad({p(Weight)}) += oft_grad %{OutputGradient}, %{Input} blocks={Blocks} block={Block} neumann={Terms}";
}
