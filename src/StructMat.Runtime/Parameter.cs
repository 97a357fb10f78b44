using System;
using System.Collections.Generic;

namespace StructMat.Runtime;

/// <summary>How a parameter tensor stores its elements.</summary>
public enum ElementType
{
    /// <summary>float32 (<see cref="Parameter.Data"/>); safetensors <c>F32</c>.</summary>
    Float32,

    /// <summary>Bytes (<see cref="Parameter.Bytes"/>): two 4-bit NF4 codes per byte, the first in the high nibble; safetensors <c>U8</c>.</summary>
    UInt8,

    /// <summary>Signed bytes (<see cref="Parameter.Bytes"/> read as <see cref="sbyte"/>): int8 codes; safetensors <c>I8</c>.</summary>
    Int8,
}

/// <summary>
/// One named parameter tensor of a layer: row-major data with the design's name and shape (e.g. <c>lora_A [r, in]</c>),
/// and its gradient buffer unless it is frozen. Float tensors hold <see cref="Data"/>; the codes of a quantised frozen
/// base (<c>dense(quant: nf4)</c>, <c>dense(quant: int8)</c>) hold <see cref="Bytes"/> instead, and are always frozen.
/// </summary>
public sealed class Parameter
{
    private readonly float[]? _data;
    private readonly byte[]? _bytes;

    public Parameter(string name, int[] shape, bool trainable, float learningRateMultiplier = 1f, ElementType elementType = ElementType.Float32)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        long size = 1;
        foreach (var dim in shape)
        {
            if (dim <= 0) throw new ArgumentOutOfRangeException(nameof(shape), $"Parameter '{name}' has a non-positive dimension {dim}.");
            size = checked(size * dim);
        }
        if (elementType != ElementType.Float32 && trainable)
            throw new ArgumentException($"Parameter '{name}' holds {elementType} codes, which cannot be trainable.", nameof(trainable));
        Name = name;
        Shape = shape;
        ElementType = elementType;
        Length = checked((int)size);
        if (elementType == ElementType.Float32) _data = new float[size];
        else _bytes = new byte[size];
        Gradient = trainable ? new float[size] : null;
        LearningRateMultiplier = learningRateMultiplier;
    }

    /// <summary>The tensor's name as saved, its path in the layer expression (<c>terms.1.lora_A</c>).</summary>
    public string Name { get; }

    public int[] Shape { get; }

    /// <summary>How the elements are stored: float32 in <see cref="Data"/>, or bytes in <see cref="Bytes"/>.</summary>
    public ElementType ElementType { get; }

    /// <summary>The float32 elements.</summary>
    /// <exception cref="InvalidOperationException">The tensor holds byte codes (<see cref="Bytes"/>).</exception>
    public float[] Data => _data ?? throw new InvalidOperationException(
        $"Parameter '{Name}' holds {ElementType} codes, not float32: read {nameof(Bytes)} (see its layout in docs/language.md).");

    /// <summary>The byte elements of a <see cref="ElementType.UInt8"/> or <see cref="ElementType.Int8"/> tensor.</summary>
    /// <exception cref="InvalidOperationException">The tensor holds float32 (<see cref="Data"/>).</exception>
    public byte[] Bytes => _bytes ?? throw new InvalidOperationException($"Parameter '{Name}' holds float32: read {nameof(Data)}.");

    /// <summary>Accumulated gradient; null for frozen parameters, which never receive one.</summary>
    public float[]? Gradient { get; }

    /// <summary>Sets the gradient of every parameter that has one to zero (a layer's <c>ZeroGrad</c>).</summary>
    public static void ZeroGradients(IEnumerable<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        foreach (var parameter in parameters)
        {
            if (parameter.Gradient is { } gradient) Array.Clear(gradient);
        }
    }

    public bool Trainable => Gradient is not null;

    /// <summary>Per-factor learning-rate multiplier that optimisers apply.</summary>
    public float LearningRateMultiplier { get; }

    /// <summary>
    /// The tensor's key in a PEFT state dict after the module's prefix, with <c>{adapter}</c> where PEFT puts the adapter's
    /// name (<c>base_layer.weight</c>, <c>lora_A.{adapter}.weight</c>); null when the layer is not a PEFT form. See
    /// <see cref="IO.PeftNames"/>.
    /// </summary>
    public string? PeftKey { get; init; }

    /// <summary>Elements of the tensor (bytes for a byte tensor: an NF4 byte holds two codes).</summary>
    public int Length { get; }

    public override string ToString() =>
        $"{Name} [{string.Join(", ", Shape)}]{(ElementType == ElementType.Float32 ? "" : " " + ElementType)}{(Trainable ? "" : " (frozen)")}";
}
