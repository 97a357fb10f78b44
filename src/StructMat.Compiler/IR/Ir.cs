using System.Linq;

namespace StructMat.Compiler.IR;

// The IR: straight-line programs over row-batched activations. Every value is a [batch, Width]
// float32 buffer; every op is linear in its activation input. Records carry explicit ids, so side
// tables (liveness, buffer slots) key on ids, never on structurally equal nodes.
// Every record must be immutable and structurally equatable.

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

    /// <summary>DoRA's magnitude: the row norms of the normalised weight beside it (<see cref="IrParameter.MagnitudeOf"/>), so the layer starts as that weight.</summary>
    RowNorms,

    /// <summary>The codes of a quantised base: µP-style normal weights, quantised row by row with its scales (<see cref="QuantScale"/>).</summary>
    Quantized,

    /// <summary>The scales (NF4 absmax, int8 row scales) of a quantised base: set with its codes.</summary>
    QuantScale,
}

/// <summary>How a parameter tensor stores its elements (the runtime's <c>ElementType</c>).</summary>
public enum ElementType
{
    Float32,

    /// <summary>Bytes: NF4 codes, two per byte.</summary>
    UInt8,

    /// <summary>Signed bytes: int8 codes.</summary>
    Int8,
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

    /// <summary>For <see cref="InitKind.RowNorms"/>: the weight whose row norms it starts at, <c>Base + Scale·Up·Down</c>.</summary>
    public MagnitudeSource? MagnitudeOf { get; init; }

    /// <summary>The tensor's key in a PEFT state dict after the module prefix (<c>{adapter}</c> for the adapter's name), when the layer is a PEFT form.</summary>
    public string? PeftKey { get; init; }

    /// <summary>How the tensor stores its elements; only the codes of a quantised base are not float32 (and they are frozen).</summary>
    public ElementType ElementType { get; init; }

    public long Length => Shape.Aggregate(1L, (a, d) => a * d);
}

/// <summary>DoRA's <c>V = Base + Scale·Up·Down</c> by parameter ids, whose row norms a magnitude starts at (<c>Rank = 0</c>, Down and Up −1: V = Base).</summary>
public sealed record MagnitudeSource(int Base, int Down, int Up, float Scale, int Out, int In, int Rank);

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
