using System;
using System.Threading;
using System.Threading.Tasks;

namespace StructMat.Runtime.Kernels;

/// <summary>
/// Whether the CPU kernels may split a call over the thread pool. Code that already runs one piece of a
/// parallel loop (a batch tile of a fused layer, say) marks its thread as serial, so the kernels it calls
/// do not nest a second parallel loop inside the first. <see cref="Split"/> is how a kernel cuts its work into
/// contiguous ranges of independent units (rows, groups, strips) and runs them over the thread pool.
/// </summary>
/// <remarks>
/// No kernel's bits depend on how it is split: every output element is computed by one thread, in an order fixed by the
/// shapes. <see cref="BatchTiles"/> does not split through here: its tiles are handed out one at a time to workers that
/// each keep a pack cache and a serial mark for all their tiles, and the backward tile size, unlike a chunk count,
/// decides how the weight gradients are summed.
/// </remarks>
public static class KernelThreading
{
    [ThreadStatic]
    private static int t_serialDepth;

    /// <summary>True while the current thread is inside <see cref="EnterSerial"/>.</summary>
    public static bool IsSerial => t_serialDepth > 0;

    private static int s_warmedUp;

    /// <summary>
    /// Starts the machinery the kernels' first parallel call needs — thread-pool workers, the Task Parallel Library's
    /// state — and compiles the register micro-kernels, on a pool thread, without waiting for it, once per process.
    /// Layers call it when they are constructed (<see cref="Workspace"/>), so that a layer's first <c>Forward</c> does
    /// not pay for it: on a 2-core machine a cold first <c>Parallel.For</c> cost 12–15 ms of a 24–47 ms first call
    /// (docs/benchmarks.md, "First call").
    /// </summary>
    public static void WarmUp()
    {
        if (Environment.ProcessorCount < 2 || Interlocked.Exchange(ref s_warmedUp, 1) != 0) return;
        ThreadPool.UnsafeQueueUserWorkItem(static _ =>
        {
            Parallel.For(0, Environment.ProcessorCount, static _ => { });
            // The register micro-kernels are AggressiveOptimization (never Tier 0, never ReadyToRun): each first use pays a
            // full JIT, so compile them here, beside the layer's construction, rather than inside its first Forward.
            foreach (var type in new[] { typeof(MicroKernels), typeof(GroupLanes), typeof(Gemm) })
            {
                foreach (var method in type.GetMethods(System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static))
                {
                    if ((method.MethodImplementationFlags & System.Reflection.MethodImplAttributes.AggressiveOptimization) != 0 && !method.IsGenericMethodDefinition)
                        System.Runtime.CompilerServices.RuntimeHelpers.PrepareMethod(method.MethodHandle);
                }
            }
        }, null);
    }

    /// <summary>Multiply-adds below which a product stays on the calling thread: splitting it would cost more than it saves.</summary>
    internal const long ParallelWork = 1L << 18;

    /// <summary>Whether a call with <paramref name="work"/> units may split over the thread pool: it exceeds <paramref name="minimum"/>, there is more than one core, and the thread is not marked serial.</summary>
    internal static bool MaySplit(long work, long minimum = ParallelWork) =>
        work > minimum && !IsSerial && Environment.ProcessorCount > 1;

    /// <summary>
    /// Chunks a kernel may cut its units into when the units cost about the same: four per core. With more chunks than
    /// cores, a core slowed by other load on the shared machine holds up a smaller share of the call. No measurement is
    /// recorded for the factor; it is the one every kernel used before this helper.
    /// </summary>
    internal static int BalancingChunks => 4 * Environment.ProcessorCount;

    /// <summary>
    /// Chunks for a product of <paramref name="work"/> multiply-adds: one per half of <see cref="ParallelWork"/>, so that
    /// each is worth a thread, and at most <see cref="BalancingChunks"/>.
    /// </summary>
    internal static int ChunksForWork(long work) =>
        (int)Math.Min(Math.Max(1, work / (ParallelWork / 2)), BalancingChunks);

    /// <summary>
    /// Runs <paramref name="body"/> over units <c>[0, units)</c>: as <c>min(units, maxChunks)</c> contiguous ranges in
    /// parallel when a call of <paramref name="work"/> may split (<see cref="MaySplit"/> with <paramref name="minimum"/>),
    /// otherwise as the one range <c>[0, units)</c> on this thread.
    /// </summary>
    internal static void Split(long work, int units, int maxChunks, RangeAction body, long minimum = ParallelWork) =>
        RunChunks(units, MaySplit(work, minimum) ? Math.Min(units, maxChunks) : 1, body);

    /// <summary>
    /// Runs <paramref name="body"/> over <paramref name="chunks"/> contiguous ranges of <c>[0, units)</c> in parallel,
    /// chunk <c>c</c> being <c>[units·c / chunks, units·(c + 1) / chunks)</c>; one chunk (or fewer) runs on this thread.
    /// </summary>
    internal static void RunChunks(int units, int chunks, RangeAction body)
    {
        if (chunks <= 1)
        {
            body(0, units);
            return;
        }
        Parallel.For(0, chunks, c => body((int)((long)units * c / chunks), (int)((long)units * (c + 1) / chunks)));
    }

    /// <summary>One contiguous range <c>[start, end)</c> of a split call's units.</summary>
    internal delegate void RangeAction(int start, int end);

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
