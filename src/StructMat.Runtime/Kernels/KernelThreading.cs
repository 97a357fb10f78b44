using System;

namespace StructMat.Runtime.Kernels;

/// <summary>
/// Whether the CPU kernels may split a call over the thread pool. Code that already runs one piece of a
/// parallel loop (a batch tile of a fused layer, say) marks its thread as serial, so the kernels it calls
/// do not nest a second parallel loop inside the first.
/// </summary>
public static class KernelThreading
{
    [ThreadStatic]
    private static int t_serialDepth;

    /// <summary>True while the current thread is inside <see cref="EnterSerial"/>.</summary>
    public static bool IsSerial => t_serialDepth > 0;

    /// <summary>Multiply-adds below which a product stays on the calling thread: splitting it would cost more than it saves.</summary>
    internal const long ParallelWork = 1L << 18;

    /// <summary>Whether a call with <paramref name="work"/> units may split over the thread pool: it exceeds <paramref name="minimum"/>, there is more than one core, and the thread is not marked serial.</summary>
    internal static bool MaySplit(long work, long minimum = ParallelWork) =>
        work > minimum && !IsSerial && Environment.ProcessorCount > 1;

    /// <summary>Marks the current thread serial until the returned scope is disposed (scopes nest).</summary>
    public static SerialScope EnterSerial()
    {
        t_serialDepth++;
        return new SerialScope();
    }

    /// <summary>Ends one <see cref="EnterSerial"/>.</summary>
    public readonly struct SerialScope : IDisposable
    {
        public void Dispose() => t_serialDepth--;
    }
}
