using System;
using System.Collections.Generic;
using System.Globalization;

namespace StructMat.Compiler.IR;

/// <summary>Transposes each row viewed as [Rows, Cols]: <c>out[b, c·Rows + r] (+)= in[b, r·Cols + c]</c>.</summary>
public sealed record PermuteOp(int Input, int Output, int Rows, int Cols, bool Accumulate, string Comment) : IrOp
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

    public override IrOp RenumberParameters(Func<int, int> renumber) => this;

    public override long MultiplyAdds(Func<int, int> width) => 0;

    public override IEnumerable<string> Violations(IrLayer layer, Func<int, int> width) =>
        Expect(width(Input) == SubRows * Rows * Cols && width(Output) == SubRows * Rows * Cols, "permute widths");

    public override string Text(Func<int, string> p) => $"%{Output}{Assign(Accumulate)} transpose %{Input} rows={Rows} cols={Cols}";
}

/// <summary>The index maps a gather applies. The runtime's <c>Permutations</c> defines each.</summary>
public enum IndexMapKind
{
    /// <summary><c>map[j] = n − 1 − j</c>.</summary>
    Reverse,

    /// <summary>j with its log2 n bits reversed.</summary>
    BitReversal,

    /// <summary>The perfect shuffle: output 2k reads k, output 2k+1 reads n/2 + k.</summary>
    Shuffle,

    /// <summary>A seeded Fisher–Yates shuffle (<see cref="IndexMap.Seed"/>).</summary>
    Random,

    /// <summary>Whole blocks of <see cref="IndexMap.Block"/> swapped: block i reads block i XOR <see cref="IndexMap.Distance"/>.</summary>
    BlockXor,

    /// <summary>
    /// PEFT BOFT's <c>block_butterfly_perm</c>: within each group of <see cref="IndexMap.Group"/> entries, the blocks of
    /// <see cref="IndexMap.Block"/> are read evens first, then odds.
    /// </summary>
    BlockButterfly,
}

/// <summary>
/// An index map of <see cref="Width"/> entries. <see cref="Seed"/> is used by <see cref="IndexMapKind.Random"/> only,
/// <see cref="Distance"/> by <see cref="IndexMapKind.BlockXor"/> only, <see cref="Group"/> by
/// <see cref="IndexMapKind.BlockButterfly"/> only, and <see cref="Block"/> (the size of the blocks that move) by those
/// two (each field means one thing).
/// </summary>
public sealed record IndexMap(IndexMapKind Kind, int Width)
{
    public int Seed { get; init; }

    public int Block { get; init; }

    public int Distance { get; init; }

    public int Group { get; init; }

    public override string ToString() => Kind switch
    {
        IndexMapKind.BlockButterfly => $"blockbutterfly group={Group.ToString(CultureInfo.InvariantCulture)} block={Block.ToString(CultureInfo.InvariantCulture)}",
        IndexMapKind.Random => $"random seed={Seed.ToString(CultureInfo.InvariantCulture)}",
        IndexMapKind.BlockXor => $"blockxor block={Block.ToString(CultureInfo.InvariantCulture)} distance={Distance.ToString(CultureInfo.InvariantCulture)}",
        _ => Kind.ToString().ToLowerInvariant(),
    };
}

/// <summary><c>out[b, j] (+)= in[b, map[j]]</c>: a permutation as an index map, or (<see cref="Inverse"/>) its inverse.</summary>
public sealed record GatherOp(int Input, int Output, IndexMap Map, bool Inverse, bool Accumulate, string Comment) : IrOp
{
    public int Width => Map.Width;

    public override int? Writes => Output;

    public override bool Accumulates => Accumulate;

    public override IReadOnlyList<int> Operands => new[] { Input };

    public override IrOp RenameOperands(Func<int, int> rename) => this with { Input = rename(Input) };

    public override bool CanRetarget(float alphaFactor) => alphaFactor == 1f;

    public override IrOp Retarget(int output, float alphaFactor, bool accumulate) =>
        alphaFactor == 1f ? this with { Output = output, Accumulate = accumulate } : base.Retarget(output, alphaFactor, accumulate);

    public override ParameterSlice? WeightSlice => null;

    public override ParameterSlice? GradientSlice => null;

    public override IrOp RenumberParameters(Func<int, int> renumber) => this;

    public override long MultiplyAdds(Func<int, int> width) => 0;

    public override IEnumerable<string> Violations(IrLayer layer, Func<int, int> width) =>
        Expect(width(Input) == SubRows * Width && width(Output) == SubRows * Width, "gather widths");

    public override string Text(Func<int, string> p) =>
        $"%{Output}{Assign(Accumulate)} gather %{Input} {Map}{(Inverse ? " inverse" : "")}";
}
