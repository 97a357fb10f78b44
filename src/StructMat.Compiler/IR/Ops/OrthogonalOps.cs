using System;
using System.Collections.Generic;

namespace StructMat.Compiler.IR;

/// <summary>How a parameter holds the skew-symmetric blocks (the runtime's <c>SkewLayout</c>).</summary>
public enum SkewKind
{
    /// <summary>OFT's <c>oft_R</c>: per block the strict upper triangle, row by row.</summary>
    Packed,

    /// <summary>BOFT's <c>boft_R</c>: per block a full matrix A, skew part <c>½(A − Aᵀ)</c>.</summary>
    Full,
}

/// <summary>What the two orthogonal-block ops share: the parameter slice a rotation reads and its text.</summary>
internal static class OrthogonalBlocks
{
    public static long Length(int blocks, int block, SkewKind skew) => (long)blocks * (skew == SkewKind.Full ? block * block : block * (block - 1) / 2);

    /// <summary>The skew layout's attribute (IrText adds the weight offset, as for every op with a slice).</summary>
    public static string Suffix(SkewKind skew) => skew == SkewKind.Full ? " skew=full" : "";
}

/// <summary>
/// <c>out (+)= Rᵀ in</c> (or <c>R in</c> when transposed), block by block: <c>R_i</c> is PEFT's OFT rotation of block i,
/// built from the packed skew-symmetric triangle <c>oft_R [Blocks, Block(Block−1)/2]</c> by the Cayley transform
/// (<see cref="Terms"/> = 0) or PEFT's Neumann series of that many terms. The runtime builds the rotations once per
/// parameter state on the CPU (a cache; once per launch on a GPU), <c>Blocks·Block³</c> per matrix power, and never
/// forms the <c>n×n</c> matrix.
/// </summary>
public sealed record OrthogonalBlocksOp(int Input, int Output, int Weight, int Blocks, int Block, int Terms, bool Transposed, bool Accumulate, string Comment) : IrOp
{
    /// <summary>How the parameter holds the blocks (OFT packs triangles; BOFT keeps full matrices).</summary>
    public SkewKind Skew { get; init; }

    /// <summary>Where in the parameter this op's blocks start (BOFT's factors share <c>boft_R</c>).</summary>
    public int WeightOffset { get; init; }

    public long WeightLength => OrthogonalBlocks.Length(Blocks, Block, Skew);

    public override int? Writes => Output;

    public override bool Accumulates => Accumulate;

    public override IReadOnlyList<int> Operands => new[] { Input };

    public override IrOp RenameOperands(Func<int, int> rename) => this with { Input = rename(Input) };

    public override bool CanRetarget(float alphaFactor) => alphaFactor == 1f;

    public override IrOp Retarget(int output, float alphaFactor, bool accumulate) =>
        alphaFactor == 1f ? this with { Output = output, Accumulate = accumulate } : base.Retarget(output, alphaFactor, accumulate);

    public override ParameterSlice? WeightSlice => new ParameterSlice(Weight, WeightOffset, WeightLength);

    public override ParameterSlice? GradientSlice => null;

    public override IrOp RenumberParameters(Func<int, int> renumber) => this with { Weight = renumber(Weight) };

    /// <summary>A <c>Block × Block</c> product per block (the per-call rotation build does not grow with the batch).</summary>
    public override long MultiplyAdds(Func<int, int> width) => (long)SubRows * Blocks * Block * Block;

    public override IEnumerable<string> Violations(IrLayer layer, Func<int, int> width)
    {
        var n = SubRows * Blocks * Block;
        return Expect(width(Input) == n && width(Output) == n && layer.Parameter(Weight).Length >= WeightOffset + WeightLength && Terms >= 0,
            "orthogonal-blocks widths, parameter size or terms");
    }

    public override string Text(Func<int, string> p) =>
        $"%{Output}{Assign(Accumulate)} oft{(Transposed ? "_t" : "")} %{Input}, {p(Weight)} blocks={Blocks} block={Block} neumann={Terms}{OrthogonalBlocks.Suffix(Skew)}";
}

/// <summary><c>dR += ∂(Σ dOutᵀ Rᵀ in)/∂oft_R</c>: the block products <c>Σ in_i dOut_iᵀ</c> taken back through the rotation.</summary>
public sealed record OrthogonalBlocksGradientOp(int OutputGradient, int Input, int Weight, int Blocks, int Block, int Terms, string Comment) : IrOp
{
    /// <inheritdoc cref="OrthogonalBlocksOp.Skew"/>
    public SkewKind Skew { get; init; }

    /// <inheritdoc cref="OrthogonalBlocksOp.WeightOffset"/>
    public int WeightOffset { get; init; }

    public long WeightLength => OrthogonalBlocks.Length(Blocks, Block, Skew);

    public override int? Writes => null;

    public override bool Accumulates => false;

    public override IReadOnlyList<int> Operands => new[] { OutputGradient, Input };

    public override IrOp RenameOperands(Func<int, int> rename) => this with { OutputGradient = rename(OutputGradient), Input = rename(Input) };

    public override bool CanRetarget(float alphaFactor) => false;

    public override ParameterSlice? WeightSlice => new ParameterSlice(Weight, WeightOffset, WeightLength);

    public override ParameterSlice? GradientSlice => new ParameterSlice(Weight, WeightOffset, WeightLength);

    public override IrOp RenumberParameters(Func<int, int> renumber) => this with { Weight = renumber(Weight) };

    public override long MultiplyAdds(Func<int, int> width) => (long)SubRows * Blocks * Block * Block;

    /// <summary>
    /// Taking <c>Σ_rows x_i dy_iᵀ</c> back through the rotation: 2P − 1 batched products of <c>Blocks·Block³</c> for the
    /// series (P = its highest power), two for the exact mode. Linear, so once per call on the batch's sum, not per tile.
    /// </summary>
    public override long PerCallMultiplyAdds => (long)Blocks * Block * Block * Block * Products;

    private int Products => Terms switch { 0 => 2, 1 => 0, 2 => 1, _ => 2 * System.Math.Max(3, Terms - 1) - 1 };

    public override IEnumerable<string> Violations(IrLayer layer, Func<int, int> width)
    {
        var n = SubRows * Blocks * Block;
        return Expect(width(Input) == n && width(OutputGradient) == n && layer.Parameter(Weight).Trainable
            && layer.Parameter(Weight).Length >= WeightOffset + WeightLength && Terms >= 0,
            "orthogonal-blocks-gradient widths or frozen parameter");
    }

    public override string Text(Func<int, string> p) =>
        $"grad({p(Weight)}) += oft_grad %{OutputGradient}, %{Input} blocks={Blocks} block={Block} neumann={Terms}{OrthogonalBlocks.Suffix(Skew)}";
}
