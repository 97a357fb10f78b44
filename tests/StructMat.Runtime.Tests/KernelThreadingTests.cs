using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using StructMat.Runtime.Kernels;
using Xunit;

namespace StructMat.Runtime.Tests;

/// <summary>The chunking helper every kernel splits its work with (<see cref="KernelThreading.Split"/>).</summary>
public class KernelThreadingTests
{
    private const long Large = 1L << 40;

    [Fact]
    public void Chunks_are_contiguous_ranges_of_units_times_c_over_chunks()
    {
        var ranges = Ranges(units: 10, body => KernelThreading.RunChunks(10, 4, body));
        Assert.Equal(new[] { (0, 2), (2, 5), (5, 7), (7, 10) }, ranges);
    }

    [Fact]
    public void One_chunk_runs_the_whole_range_on_the_calling_thread()
    {
        int caller = Environment.CurrentManagedThreadId;
        var threads = new ConcurrentBag<int>();
        var ranges = Ranges(units: 7, body => KernelThreading.RunChunks(7, 1, (s, e) =>
        {
            threads.Add(Environment.CurrentManagedThreadId);
            body(s, e);
        }));
        Assert.Equal(new[] { (0, 7) }, ranges);
        Assert.Equal(new[] { caller }, threads);
    }

    [Fact]
    public void A_split_makes_at_most_one_chunk_per_unit()
    {
        var ranges = Ranges(units: 3, body => KernelThreading.Split(Large, 3, 100, body));
        Assert.Equal(Environment.ProcessorCount > 1 ? new[] { (0, 1), (1, 2), (2, 3) } : new[] { (0, 3) }, ranges);
    }

    [Fact]
    public void A_split_makes_at_most_max_chunks()
    {
        var ranges = Ranges(units: 100, body => KernelThreading.Split(Large, 100, 2, body));
        Assert.Equal(Environment.ProcessorCount > 1 ? new[] { (0, 50), (50, 100) } : new[] { (0, 100) }, ranges);
    }

    [Fact]
    public void Work_up_to_the_minimum_runs_as_one_range()
    {
        Assert.Equal(new[] { (0, 100) }, Ranges(100, body => KernelThreading.Split(KernelThreading.ParallelWork, 100, 8, body)));
        Assert.Equal(new[] { (0, 100) }, Ranges(100, body => KernelThreading.Split(1000, 100, 8, body, minimum: 1000)));
        if (Environment.ProcessorCount > 1)
            Assert.Equal(8, Ranges(100, body => KernelThreading.Split(1001, 100, 8, body, minimum: 1000)).Length);
    }

    [Fact]
    public void A_thread_marked_serial_runs_one_range()
    {
        using (KernelThreading.EnterSerial())
            Assert.Equal(new[] { (0, 100) }, Ranges(100, body => KernelThreading.Split(Large, 100, 8, body)));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(KernelThreading.ParallelWork / 2 * 3, 3)]
    [InlineData(KernelThreading.ParallelWork / 2 * 3 - 1, 2)]
    public void Products_get_a_chunk_per_half_of_the_parallel_work(long work, int expected)
    {
        Assert.Equal(Math.Min(expected, KernelThreading.BalancingChunks), KernelThreading.ChunksForWork(work));
    }

    [Fact]
    public void Products_get_at_most_four_chunks_per_core()
    {
        Assert.Equal(4 * Environment.ProcessorCount, KernelThreading.ChunksForWork(Large));
    }

    /// <summary>The ranges a split called <c>body</c> with, in order, checked to cover <c>[0, units)</c> once.</summary>
    private static (int Start, int End)[] Ranges(int units, Action<KernelThreading.RangeAction> split)
    {
        var seen = new ConcurrentBag<(int, int)>();
        int calls = 0;
        split((s, e) =>
        {
            Interlocked.Increment(ref calls);
            seen.Add((s, e));
        });
        var ranges = seen.OrderBy(r => r.Item1).ToArray();
        Assert.Equal(calls, ranges.Length);
        int next = 0;
        foreach (var (s, e) in ranges)
        {
            Assert.Equal(next, s);
            next = e;
        }
        Assert.Equal(units, next);
        return ranges;
    }
}
