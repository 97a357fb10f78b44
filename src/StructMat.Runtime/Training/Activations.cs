using System;
using System.Numerics.Tensors;

namespace StructMat.Runtime.Training;

/// <summary>Element-wise activation functions and their backward passes on flat spans.</summary>
public static class Activations
{
    /// <summary><c>y[i] = max(x[i], 0)</c>. <paramref name="y"/> may alias <paramref name="x"/>.</summary>
    public static void Relu(ReadOnlySpan<float> x, Span<float> y)
    {
        RequireSameLength(x.Length, y.Length, nameof(y));
        TensorPrimitives.Max(x, 0f, y);
    }

    /// <summary>
    /// <c>dx[i] = x[i] &gt; 0 ? dy[i] : 0</c>, where <paramref name="x"/> is the ReLU's input (pre-activation).
    /// <paramref name="dx"/> is overwritten and may alias <paramref name="dy"/>.
    /// </summary>
    public static void ReluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        RequireSameLength(x.Length, dy.Length, nameof(dy));
        RequireSameLength(x.Length, dx.Length, nameof(dx));
        for (int i = 0; i < x.Length; i++)
            dx[i] = x[i] > 0f ? dy[i] : 0f;
    }

    private static void RequireSameLength(int expected, int actual, string name)
    {
        if (expected != actual)
            throw new ArgumentException($"Expected {expected} elements but got {actual}.", name);
    }
}
