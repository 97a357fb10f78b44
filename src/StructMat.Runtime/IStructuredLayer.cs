using System;
using System.Collections.Generic;

namespace StructMat.Runtime;

/// <summary>
/// What every generated layer offers. Activations are row-major <c>[batch, features]</c> float32.
/// </summary>
public interface IStructuredLayer
{
    /// <summary>Input features: the length of one row of <c>x</c>.</summary>
    int InFeatures { get; }

    /// <summary>Output features: the length of one row of <c>y</c>.</summary>
    int OutFeatures { get; }

    /// <summary>Elements of every parameter tensor, frozen ones included.</summary>
    long ParameterCount { get; }

    /// <summary>Elements of the parameter tensors that get gradients (all but the frozen ones).</summary>
    long TrainableParameterCount { get; }

    /// <summary>Multiply-adds per row of the forward pass as generated (after the optimisation passes; a dense layer has in·out).</summary>
    long FlopsPerRow { get; }

    /// <summary>Multiply-adds per row of a dense layer of the same shape (in · out), for comparison.</summary>
    long DenseFlopsPerRow => (long)InFeatures * OutFeatures;

    /// <summary>Every parameter tensor, in the order of the weight file, under the names it is saved with.</summary>
    IReadOnlyList<Parameter> Parameters { get; }

    /// <summary><c>y = W x (+ bias)</c> for each of <paramref name="batch"/> rows of <paramref name="x"/> (row-major <c>[batch, InFeatures]</c>).</summary>
    /// <remarks>
    /// Safe to call from several threads at once (each has its own workspace; parameters are only read).
    /// <paramref name="y"/> must not overlap <paramref name="x"/>: an in-place call throws an <see cref="ArgumentException"/>.
    /// </remarks>
    void Forward(ReadOnlySpan<float> x, Span<float> y, int batch);

    /// <summary>
    /// Writes dL/dx to <paramref name="dx"/> (overwritten) and adds dL/dW to every trainable parameter's
    /// <see cref="Parameter.Gradient"/>; frozen parameters get none. Recomputes the forward intermediates it needs from <paramref name="x"/>.
    /// </summary>
    /// <remarks>
    /// Not concurrent: gradients are shared, so a second thread calling it meanwhile gets an <see cref="InvalidOperationException"/>.
    /// <paramref name="dx"/> must overlap neither <paramref name="x"/> nor <paramref name="dy"/> (an <see cref="ArgumentException"/>).
    /// </remarks>
    void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, int batch);

    /// <summary>Sets every parameter gradient to zero.</summary>
    void ZeroGrad();

    /// <summary>The dense weight <c>[out, in]</c> (bias excluded), built in float64 from the structure's definition.</summary>
    double[] ToDenseDouble();

    /// <summary><see cref="ToDenseDouble"/> rounded to float32.</summary>
    float[] ToDense();

    /// <summary>
    /// The equivalent dense weight <c>[out, in]</c> for inference, adapters folded into their frozen base (bias excluded):
    /// bit-for-bit <see cref="ToDense"/>, which composes every part exactly in float64 before one rounding.
    /// </summary>
    float[] Merge();
}
