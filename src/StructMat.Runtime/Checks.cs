using System;

namespace StructMat.Runtime;

/// <summary>Argument checks shared by generated layers, with messages that name the argument and the numbers.</summary>
public static class Checks
{
    /// <summary>
    /// A layer's <c>Forward</c> arguments: <paramref name="x"/> and <paramref name="y"/> hold <paramref name="batch"/>
    /// rows of <paramref name="inFeatures"/> and <paramref name="outFeatures"/> floats, and <c>y</c> does not overlap <c>x</c>.
    /// </summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, int batch, int inFeatures, int outFeatures)
    {
        Activation(x.Length, batch, inFeatures, nameof(x));
        Activation(y.Length, batch, outFeatures, nameof(y));
        Disjoint(x, batch * inFeatures, y, batch * outFeatures, nameof(x), nameof(y));
    }

    /// <summary>
    /// A layer's <c>Backward</c> arguments: <paramref name="x"/>, <paramref name="dy"/> and <paramref name="dx"/> hold
    /// <paramref name="batch"/> rows each, and <c>dx</c> overlaps neither <c>x</c> nor <c>dy</c>.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> dx, int batch, int inFeatures, int outFeatures)
    {
        Activation(x.Length, batch, inFeatures, nameof(x));
        Activation(dy.Length, batch, outFeatures, nameof(dy));
        Activation(dx.Length, batch, inFeatures, nameof(dx));
        Disjoint(x, batch * inFeatures, dx, batch * inFeatures, nameof(x), nameof(dx));
        Disjoint(dy, batch * outFeatures, dx, batch * inFeatures, nameof(dy), nameof(dx));
    }

    /// <summary>Throws unless <paramref name="batch"/> ≥ 0 and a <c>[batch, features]</c> activation fits in <paramref name="length"/> elements.</summary>
    public static void Activation(long length, int batch, int features, string argument)
    {
        if (batch < 0) throw new ArgumentOutOfRangeException(nameof(batch), batch, "batch must not be negative.");
        var needed = (long)batch * features;
        if (needed > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"batch · {features} = {needed} exceeds the 32-bit index range.");
        if (length < needed)
            throw new ArgumentException($"'{argument}' holds {length} floats, but batch {batch} × {features} features needs {needed}.", argument);
    }

    /// <summary>
    /// Throws unless <paramref name="batch"/> rows of the layer's widest intermediate (<paramref name="widestRow"/>
    /// floats) stay within 32-bit indexing; intermediates can be wider than the layer's input and output.
    /// </summary>
    public static void Batch(int batch, int widestRow)
    {
        if ((long)batch * widestRow > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(batch), batch,
                $"batch · {widestRow} (the layer's widest intermediate row) = {(long)batch * widestRow} exceeds the 32-bit index range.");
        }
    }

    /// <summary>
    /// Throws when the first <paramref name="outputLength"/> floats of <paramref name="output"/> share memory with the
    /// first <paramref name="inputLength"/> of <paramref name="input"/>: a layer reads its input while it writes its
    /// output (and its intermediates), so an in-place call would read values it has already overwritten.
    /// </summary>
    public static void Disjoint(ReadOnlySpan<float> input, int inputLength, ReadOnlySpan<float> output, int outputLength, string inputName, string outputName)
    {
        if (input.Slice(0, inputLength).Overlaps(output.Slice(0, outputLength)))
        {
            throw new ArgumentException(
                $"'{outputName}' overlaps '{inputName}': the layer reads '{inputName}' while it writes '{outputName}', so they must be separate buffers (in-place calls are not supported).",
                outputName);
        }
    }
}
