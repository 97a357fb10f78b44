using System;
using System.Collections.Generic;

namespace StructMat.Runtime;

/// <summary>
/// What every generated layer offers. Activations are row-major <c>[batch, features]</c> float32.
/// </summary>
public interface IStructuredLayer
{
    int InFeatures { get; }

    int OutFeatures { get; }

    /// <summary>All parameters, frozen ones included.</summary>
    long ParameterCount { get; }

    long TrainableParameterCount { get; }

    /// <summary>Forward multiply-adds per input row, from the cost model (a dense layer has in·out).</summary>
    long FlopsPerRow { get; }

    IReadOnlyList<Parameter> Parameters { get; }

    /// <summary><c>y = W x (+ bias)</c> for each of <paramref name="batch"/> rows.</summary>
    void Forward(ReadOnlySpan<float> x, Span<float> y, int batch);

    /// <summary>
    /// Writes the input gradient to <paramref name="dx"/> (overwritten) and accumulates parameter gradients
    /// (frozen parameters get none). Recomputes the forward intermediates it needs from <paramref name="x"/>.
    /// </summary>
    void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, int batch);

    /// <summary>Sets every parameter gradient to zero.</summary>
    void ZeroGrad();

    /// <summary>The dense weight <c>[out, in]</c> (bias excluded), built in float64 from the structure's definition.</summary>
    double[] ToDenseDouble();

    /// <summary><see cref="ToDenseDouble"/> rounded to float32.</summary>
    float[] ToDense();

    /// <summary>The equivalent dense weight for inference (adapters folded into their base); bit-for-bit <see cref="ToDense"/>.</summary>
    float[] Merge();
}
