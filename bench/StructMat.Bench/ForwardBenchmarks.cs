using System;
using BenchmarkDotNet.Attributes;
using StructMat.Bench.Layers;
using StructMat.Runtime;

namespace StructMat.Bench;

/// <summary>
/// Forward of 1024 -> 1024 layers at batch 256 on the CPU path, each against the dense
/// layer of the same shape (the baseline) in the same run.
/// </summary>
[MemoryDiagnoser]
public class ForwardBenchmarks
{
    private const int Batch = 256;
    private readonly IStructuredLayer _dense = new Dense1024();
    private readonly IStructuredLayer _monarch = new Monarch1024();
    private readonly IStructuredLayer _lowRank = new LowRank1024();
    private readonly IStructuredLayer _blocks = new Blocks1024();
    private readonly float[] _x = new float[Batch * 1024];
    private readonly float[] _y = new float[Batch * 1024];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        for (var i = 0; i < _x.Length; i++) _x[i] = (float)(random.NextDouble() * 2 - 1);
    }

    [Benchmark(Baseline = true)]
    public void Dense() => _dense.Forward(_x, _y, Batch);

    [Benchmark]
    public void Monarch() => _monarch.Forward(_x, _y, Batch);

    [Benchmark]
    public void LowRank() => _lowRank.Forward(_x, _y, Batch);

    [Benchmark]
    public void BlockDiagonal() => _blocks.Forward(_x, _y, Batch);
}
