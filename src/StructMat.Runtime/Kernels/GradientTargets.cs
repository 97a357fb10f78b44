using System;
using System.Collections.Generic;

namespace StructMat.Runtime.Kernels;

/// <summary>
/// The buffers a backward pass adds parameter gradients into, by the parameter's index in the layer's
/// <see cref="IStructuredLayer.Parameters"/>: the parameters' own <see cref="Parameter.Gradient"/> arrays, or one batch
/// tile's private partial sums (see <see cref="BatchTiles.RunBackward"/>).
/// </summary>
public readonly struct GradientTargets
{
    private readonly float[]?[] _buffers;
    private readonly int[] _lengths;

    internal GradientTargets(float[]?[] buffers, int[] lengths)
    {
        _buffers = buffers;
        _lengths = lengths;
    }

    /// <summary>The gradient buffer of parameter <paramref name="index"/>; a frozen parameter has none.</summary>
    public Span<float> this[int index] =>
        _buffers[index] is { } buffer
            ? buffer.AsSpan(0, _lengths[index])
            : throw new InvalidOperationException($"Parameter {index} is frozen: it has no gradient.");

    /// <summary>The parameters' own gradient arrays.</summary>
    public static GradientTargets Of(IReadOnlyList<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var buffers = new float[]?[parameters.Count];
        var lengths = new int[parameters.Count];
        for (int i = 0; i < buffers.Length; i++)
        {
            buffers[i] = parameters[i].Gradient;
            lengths[i] = buffers[i]?.Length ?? 0;
        }
        return new GradientTargets(buffers, lengths);
    }
}
