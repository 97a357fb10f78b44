using System;

namespace StructMat.Runtime;

/// <summary>
/// Scratch buffers for a layer's intermediates on the CPU, one per slot of the compiler's buffer plan,
/// grown on demand and reused across calls. Not thread-safe: one layer instance per thread.
/// </summary>
public sealed class Workspace
{
    private readonly float[][] _slots;

    public Workspace(int slots) => _slots = new float[slots][];

    /// <summary>A span of <paramref name="length"/> floats in <paramref name="slot"/>; contents are unspecified.</summary>
    public Span<float> Get(int slot, int length)
    {
        ref var buffer = ref _slots[slot];
        if (buffer is null || buffer.Length < length) buffer = new float[length];
        return buffer.AsSpan(0, length);
    }
}
