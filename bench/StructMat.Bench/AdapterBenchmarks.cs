using System;
using System.Collections.Generic;
using BenchmarkDotNet.Attributes;
using StructMat.Bench.Adapters;
using StructMat.Runtime;

namespace StructMat.Bench;

/// <summary>
/// Adapters on a frozen 4096 x 4096 base (adapters.smx), forward + backward, against LoRA r = 16 in the same run
/// (BenchmarkDotNet's Ratio column): the comparison issue 14 sets targets on (OFT and BOFT ≤ 1.5× LoRA's time,
/// DoRA ≤ 1.3×; PEFT's own benchmark measured 1.26×, 7.4× and 1.26×). Gradients accumulate across calls, as in <see cref="Workload"/>.
/// <code>dotnet run -c Release --project bench/StructMat.Bench -- --filter '*AdapterBenchmarks*'</code>
/// </summary>
public class AdapterBenchmarks
{
    private IStructuredLayer _layer = null!;
    private float[] _x = Array.Empty<float>(), _y = Array.Empty<float>(), _dy = Array.Empty<float>(), _dx = Array.Empty<float>();

    public static IEnumerable<string> Adapters() => new[] { "oft64", "oft32", "oft64-exact", "boft16x2", "hra32", "dora16", "loha8" };

    [Params(16, 1024)]
    public int Batch { get; set; }

    [ParamsSource(nameof(Adapters))]
    public string Adapter { get; set; } = "";

    public static IStructuredLayer Create(string name) => name switch
    {
        "lora16" => new Lora(),
        "oft64" => new Oft64(),
        "oft32" => new Oft32(),
        "oft64-exact" => new Oft64Exact(),
        "boft16x2" => new Boft16x2(),
        "hra32" => new Hra32(),
        "dora16" => new Dora16(),
        "loha8" => new Loha8(),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "not in adapters.smx"),
    };

    private void Setup(string name)
    {
        _layer = Create(name);
        // Adapter parameters away from their identity start, so no kernel meets only zeros.
        var random = new Random(2);
        foreach (var p in _layer.Parameters)
            if (p.Trainable) for (var i = 0; i < p.Data.Length; i++) p.Data[i] = (float)(random.NextDouble() - 0.5) * 0.1f;
        var n = _layer.InFeatures;
        _x = Fill(new float[Batch * n], random);
        _dy = Fill(new float[Batch * n], random);
        _y = new float[Batch * n];
        _dx = new float[Batch * n];
    }

    [GlobalSetup(Target = nameof(Lora16))]
    public void SetupLora() => Setup("lora16");

    [GlobalSetup(Target = nameof(Structured))]
    public void SetupStructured() => Setup(Adapter);

    /// <summary>LoRA r = 16 (the same for every <see cref="Adapter"/> value: BenchmarkDotNet's baseline per row group).</summary>
    [Benchmark(Baseline = true)]
    public void Lora16()
    {
        _layer.Forward(_x, _y, Batch);
        _layer.Backward(_x, _dy, _dx, Batch);
    }

    [Benchmark]
    public void Structured()
    {
        _layer.Forward(_x, _y, Batch);
        _layer.Backward(_x, _dy, _dx, Batch);
    }

    private static float[] Fill(float[] a, Random random)
    {
        for (var i = 0; i < a.Length; i++) a[i] = (float)(random.NextDouble() * 2 - 1);
        return a;
    }
}
