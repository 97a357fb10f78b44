using System;

namespace StructMat.Runtime;

/// <summary>
/// One named parameter tensor of a layer: row-major float32 data with the design's name and shape
/// (e.g. <c>lora_A [r, in]</c>), and its gradient buffer unless it is frozen.
/// </summary>
public sealed class Parameter
{
    public Parameter(string name, int[] shape, bool trainable, float learningRateMultiplier = 1f)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        long size = 1;
        foreach (var dim in shape)
        {
            if (dim <= 0) throw new ArgumentOutOfRangeException(nameof(shape), $"Parameter '{name}' has a non-positive dimension {dim}.");
            size = checked(size * dim);
        }
        Name = name;
        Shape = shape;
        Data = new float[size];
        Gradient = trainable ? new float[size] : null;
        LearningRateMultiplier = learningRateMultiplier;
    }

    /// <summary>The tensor's name as saved, its path in the layer expression (<c>terms.1.lora_A</c>).</summary>
    public string Name { get; }

    public int[] Shape { get; }

    public float[] Data { get; }

    /// <summary>Accumulated gradient; null for frozen parameters, which never receive one.</summary>
    public float[]? Gradient { get; }

    public bool Trainable => Gradient is not null;

    /// <summary>Per-factor learning-rate multiplier that optimisers apply.</summary>
    public float LearningRateMultiplier { get; }

    /// <summary>
    /// The tensor's key in a PEFT state dict after the module's prefix, with <c>{adapter}</c> where PEFT puts the adapter's
    /// name (<c>base_layer.weight</c>, <c>lora_A.{adapter}.weight</c>); null when the layer is not a PEFT form. See
    /// <see cref="IO.PeftNames"/>.
    /// </summary>
    public string? PeftKey { get; init; }

    public int Length => Data.Length;

    public override string ToString() => $"{Name} [{string.Join(", ", Shape)}]{(Trainable ? "" : " (frozen)")}";
}
