using System;
using System.Threading;

namespace StructMat.Runtime;

/// <summary>
/// Scratch buffers for a layer's intermediates on the CPU, one per slot of the compiler's buffer plan,
/// grown on demand and reused across calls. Each thread gets its own buffers, so a layer's
/// <c>Forward</c> can run on several threads at once (its parameters are only read).
/// </summary>
public sealed class Workspace
{
    private readonly ThreadLocal<float[][]> _slots;

    public Workspace(int slots)
    {
        if (slots < 0) throw new ArgumentOutOfRangeException(nameof(slots), slots, "must not be negative.");
        _slots = new ThreadLocal<float[][]>(() => new float[slots][]);
        Kernels.KernelThreading.WarmUp(); // a layer is being built: get the thread pool going before its first Forward
    }

    /// <summary>A span of <paramref name="length"/> floats in <paramref name="slot"/> of this thread's buffers; contents are unspecified.</summary>
    public Span<float> Get(int slot, int length)
    {
        ref var buffer = ref _slots.Value![slot];
        if (buffer is null || buffer.Length < length) buffer = new float[length];
        return buffer.AsSpan(0, length);
    }
}
