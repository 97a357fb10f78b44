using System.Collections.Generic;
using BenchmarkDotNet.Attributes;

namespace StructMat.Bench;

/// <summary>
/// The table: every structure and the dense baseline at n = 1024 and 4096, batch 16 and 1024, Forward and
/// ForwardBackward (Forward then Backward; gradients accumulate, ZeroGrad is not timed — see <see cref="Workload"/>).
/// </summary>
public class LayerBenchmarks
{
    private Workload _work = null!;

    public static IEnumerable<string> Structures() => LayerCatalog.Names();

    [ParamsSource(nameof(Structures))]
    public string Structure { get; set; } = "";

    [Params(1024, 4096)]
    public int N { get; set; }

    [Params(16, 1024)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup() => _work = new Workload(Structure, N, Batch);

    [Benchmark]
    public void Forward() => _work.Forward();

    [Benchmark]
    public void ForwardBackward() => _work.ForwardBackward();
}

/// <summary>
/// The batch sweep for the speedup plot: the batches that <see cref="LayerBenchmarks"/> does not already run
/// (it has 16 and 1024), at n = 1024 and 4096. The report script merges the two classes.
/// </summary>
public class BatchSweepBenchmarks
{
    private Workload _work = null!;

    public static IEnumerable<string> Structures() => LayerCatalog.Names();

    [ParamsSource(nameof(Structures))]
    public string Structure { get; set; } = "";

    [Params(1024, 4096)]
    public int N { get; set; }

    [Params(1, 4, 64, 256)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup() => _work = new Workload(Structure, N, Batch);

    [Benchmark]
    public void Forward() => _work.Forward();

    [Benchmark]
    public void ForwardBackward() => _work.ForwardBackward();
}
