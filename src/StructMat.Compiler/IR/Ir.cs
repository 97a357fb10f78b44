using System.Linq;

namespace StructMat.Compiler.IR;

// The IR: straight-line programs over row-batched activations. Every value is a [batch, Width]
// float32 buffer; every op is linear in its activation input. Records carry explicit ids, so side
// tables (liveness, buffer slots) key on ids, never on structurally equal nodes.
// Every record must be immutable and structurally equatable.

/// <summary>Where element <c>i</c> of block <c>g</c> lives in a row: contiguous <c>g·size+i</c> or strided <c>i·groups+g</c>.</summary>
public enum Layout
{
    Contiguous,
    Strided,
}

public enum InitKind
{
    /// <summary>µP-style per-factor normal: std = (1/√fan_in)·min(1, √(fan_out/fan_in)).</summary>
    MuP,

    /// <summary>Zeros (bias; LoRA's <c>lora_B</c> next to a frozen base).</summary>
    Zero,

    /// <summary>Ones (a diagonal starts as the identity).</summary>
    Ones,

    /// <summary>PEFT HRA's symmetric init: reflection vectors in equal pairs, so H starts as the identity.</summary>
    HouseholderIdentity,
}

/// <summary>An activation: <c>[batch, Width]</c>.</summary>
public sealed record IrValue(int Id, int Width, string Name);

/// <summary>A parameter tensor with its saved name (its path in the layer expression), shape and initialisation.</summary>
public sealed record IrParameter(int Id, string Name, EquatableArray<int> Shape, bool Trainable, InitKind Init, int FanIn, int FanOut, string Description)
{
    /// <summary>When set, the tensor is initialised from this seed alone (not the layer's), so layers can share it.</summary>
    public int? Seed { get; init; }

    /// <summary>Per-factor learning-rate multiplier the optimisers apply (structure-aware µP; 1 for a dense layer).</summary>
    public float LearningRateMultiplier { get; init; } = 1f;

    public long Length => Shape.Aggregate(1L, (a, d) => a * d);
}

/// <summary>
/// An op. <see cref="SubRows"/> is how many sub-rows each batch row is processed as: a value of width
/// k·w is also k rows of width w (the same memory), which is how <c>kron</c> applies its factors.
/// Elementwise ops (scale, add, bias) ignore it.
/// </summary>
public abstract record IrOp
{
    public int SubRows { get; init; } = 1;
}

/// <summary>
/// <c>out[b, outIdx(g,o)] (+)= Alpha · Σ_i W[g,o,i] · in[b, inIdx(g,i)]</c>, W as [Groups, BlockOut, BlockIn].
/// One group is a plain dense matmul; strided layouts are folded permutations.
/// </summary>
public sealed record MatMulOp(int Input, int Output, int Weight, int Groups, int BlockOut, int BlockIn,
    Layout InLayout, Layout OutLayout, float Alpha, bool Accumulate, string Comment) : IrOp
{
    /// <summary>Where this op's [Groups, BlockOut, BlockIn] weights start inside the parameter tensor (butterfly factors share one).</summary>
    public int WeightOffset { get; init; }

    /// <summary>
    /// Block <c>g</c>'s input is the input's block <c>g XOR InGroupXor</c> (a folded block-XOR gather: one diagonal of
    /// the flat block butterfly); 0 reads block <c>g</c>. Non-zero only with contiguous layouts.
    /// </summary>
    public int InGroupXor { get; init; }
}

/// <summary>Backward of <see cref="MatMulOp"/> w.r.t. its input: <c>dIn[b, inIdx(g ⊕ s, i)] (+)= Alpha · Σ_o W[g,o,i] · dOut[b, outIdx(g,o)]</c>, s = <see cref="InGroupXor"/>.</summary>
public sealed record MatMulTransposedOp(int OutputGradient, int InputGradient, int Weight, int Groups, int BlockOut, int BlockIn,
    Layout InLayout, Layout OutLayout, float Alpha, bool Accumulate, string Comment) : IrOp
{
    /// <summary>Where this op's [Groups, BlockOut, BlockIn] weights start inside the parameter tensor (butterfly factors share one).</summary>
    public int WeightOffset { get; init; }

    /// <summary>
    /// The forward op's <see cref="MatMulOp.InGroupXor"/>: block <c>g</c>'s term goes to the input gradient's block
    /// <c>g XOR InGroupXor</c>. Non-zero only with contiguous layouts.
    /// </summary>
    public int InGroupXor { get; init; }
}

/// <summary>Backward of <see cref="MatMulOp"/> w.r.t. W: <c>dW[g,o,i] += Alpha · Σ_b dOut[b, outIdx(g,o)] · in[b, inIdx(g ⊕ s, i)]</c>, s = <see cref="InGroupXor"/>.</summary>
public sealed record WeightGradientOp(int OutputGradient, int Input, int Weight, int Groups, int BlockOut, int BlockIn,
    Layout InLayout, Layout OutLayout, float Alpha, string Comment) : IrOp
{
    /// <summary>Where this op's [Groups, BlockOut, BlockIn] weights start inside the parameter tensor (butterfly factors share one).</summary>
    public int WeightOffset { get; init; }

    /// <summary>
    /// The forward op's <see cref="MatMulOp.InGroupXor"/>: block <c>g</c>'s gradient pairs dOut's block <c>g</c> with the
    /// input's block <c>g XOR InGroupXor</c>. Non-zero only with contiguous layouts.
    /// </summary>
    public int InGroupXor { get; init; }
}

/// <summary>Transposes each row viewed as [Rows, Cols]: <c>out[b, c·Rows + r] (+)= in[b, r·Cols + c]</c>.</summary>
public sealed record PermuteOp(int Input, int Output, int Rows, int Cols, bool Accumulate, string Comment) : IrOp;

/// <summary><c>out (+)= Alpha · in</c>, elementwise.</summary>
public sealed record ScaleOp(int Input, int Output, float Alpha, bool Accumulate, string Comment) : IrOp;

/// <summary><c>out = left + right</c>, elementwise.</summary>
public sealed record AddOp(int Left, int Right, int Output, string Comment) : IrOp;

/// <summary><c>target[b, j] += bias[j]</c>, in place.</summary>
public sealed record BiasOp(int Target, int Bias, string Comment) : IrOp;

/// <summary><c>dBias[j] += Σ_b dTarget[b, j]</c>.</summary>
public sealed record BiasGradientOp(int OutputGradient, int Bias, string Comment) : IrOp;

/// <summary><c>out (+)= d ⊙ in</c> with the parameter vector d.</summary>
public sealed record DiagonalOp(int Input, int Output, int Weight, bool Accumulate, string Comment) : IrOp;

/// <summary><c>dd[j] += Σ_b dOut[b, j] · in[b, j]</c>.</summary>
public sealed record DiagonalGradientOp(int OutputGradient, int Input, int Weight, string Comment) : IrOp;

/// <summary>
/// <c>out[b, j] (+)= in[b, map[j]]</c>: a permutation as an index map (<see cref="Semantics.PermutationKind"/>,
/// seed, size), or its inverse.
/// </summary>
public sealed record GatherOp(int Input, int Output, Semantics.PermutationKind Permutation, int Seed, int Width, bool Inverse, bool Accumulate, string Comment) : IrOp
{
    /// <summary>For <see cref="Semantics.PermutationKind.BlockXor"/>: the block size (the XOR distance is in <see cref="Seed"/>).</summary>
    public int Block { get; init; }
}

/// <summary><c>out (+)= H in</c> (or <c>Hᵀ in</c>) with <c>H = H_1 … H_R</c> from <c>hra_u [N, R]</c>, as R reflections.</summary>
public sealed record HouseholderOp(int Input, int Output, int Weight, int N, int R, bool Transposed, bool Accumulate, string Comment) : IrOp;

/// <summary><c>du += ∂(Σ dOutᵀ H in)/∂u</c>, through the normalisation of each reflection vector.</summary>
public sealed record HouseholderGradientOp(int OutputGradient, int Input, int Weight, int N, int R, string Comment) : IrOp;

/// <summary>A straight-line program from value <see cref="Input"/> to value <see cref="Output"/>.</summary>
public sealed record IrProgram(EquatableArray<IrValue> Values, EquatableArray<IrOp> Ops, int Input, int Output)
{
    public IrValue Value(int id) => Values.First(v => v.Id == id);
}

/// <summary>A layer in IR: parameters, the forward program, and (after autodiff) the backward program.</summary>
public sealed record IrLayer(string Name, int InFeatures, int OutFeatures, EquatableArray<IrParameter> Parameters, IrProgram Forward, IrProgram? Backward)
{
    public IrParameter Parameter(int id) => Parameters.First(p => p.Id == id);
}

/// <summary>Backward programs name their extra inputs: the output gradient (dy) and the input gradient (dx).</summary>
public static class BackwardValues
{
    public const string OutputGradient = "dy";
    public const string InputGradient = "dx";
}
