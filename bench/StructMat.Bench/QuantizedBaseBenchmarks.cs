using System;
using System.Collections.Generic;
using BenchmarkDotNet.Attributes;
using StructMat.Bench.Adapters;
using StructMat.Runtime;

namespace StructMat.Bench;

/// <summary>
/// LoRA r = 16 on a quantised frozen 4096 x 4096 base (adapters.smx: <c>Qlora</c> on NF4 with one absmax per 64, <c>Int8Lora</c>
/// on int8) against the same LoRA on the float32 base (<c>Lora</c>, the baseline of each row group), forward at batch 1, 16 and
/// 1024: issue 14's targets are ≥ 3× the float32 base at batch 1 and 16 and ≥ 0.7× at 1024. Both bases are quantised from
/// the same float32 weights. <see cref="QuantizedBaseTrainingBenchmarks"/> times forward + backward.
/// <code>dotnet run -c Release --project bench/StructMat.Bench -- --filter '*QuantizedBase*'</code>
/// </summary>
public class QuantizedBaseBenchmarks : QuantizedBaseWorkload
{
    [Params(1, 16, 1024)]
    public int Batch { get => Rows; set => Rows = value; }

    /// <summary>LoRA r = 16 on the float32 base: the baseline of each row group.</summary>
    [Benchmark(Baseline = true)]
    public void Float32Forward() => Layer.Forward(X, Y, Rows);

    [Benchmark]
    public void QuantizedForward() => Layer.Forward(X, Y, Rows);

    [GlobalSetup(Target = nameof(Float32Forward))]
    public void SetupFloat() => Setup("float32");

    [GlobalSetup(Target = nameof(QuantizedForward))]
    public void SetupQuantized() => Setup(Base);
}

/// <summary>Forward + backward (the LoRA gradients and the frozen base's input gradient) of the same layers at batch 16 and 1024.</summary>
public class QuantizedBaseTrainingBenchmarks : QuantizedBaseWorkload
{
    [Params(16, 1024)]
    public int Batch { get => Rows; set => Rows = value; }

    [Benchmark(Baseline = true)]
    public void Float32ForwardBackward()
    {
        Layer.Forward(X, Y, Rows);
        Layer.Backward(X, Dy, Dx, Rows);
    }

    [Benchmark]
    public void QuantizedForwardBackward()
    {
        Layer.Forward(X, Y, Rows);
        Layer.Backward(X, Dy, Dx, Rows);
    }

    [GlobalSetup(Target = nameof(Float32ForwardBackward))]
    public void SetupFloat() => Setup("float32");

    [GlobalSetup(Target = nameof(QuantizedForwardBackward))]
    public void SetupQuantized() => Setup(Base);
}

/// <summary>The layers and buffers both quantised-base benchmarks share.</summary>
public abstract class QuantizedBaseWorkload
{
    protected IStructuredLayer Layer { get; private set; } = null!;

    protected float[] X { get; private set; } = Array.Empty<float>();

    protected float[] Y { get; private set; } = Array.Empty<float>();

    protected float[] Dy { get; private set; } = Array.Empty<float>();

    protected float[] Dx { get; private set; } = Array.Empty<float>();

    protected int Rows { get; set; }

    public static IEnumerable<string> Bases() => new[] { "nf4", "int8" };

    [ParamsSource(nameof(Bases))]
    public string Base { get; set; } = "";

    /// <summary>Creates <paramref name="name"/>'s layer; a quantised base is quantised from the float32 layer's own base.</summary>
    protected void Setup(string name)
    {
        var random = new Random(3);
        var lora = new Lora();
        Layer = name switch
        {
            "float32" => lora,
            "nf4" => new Qlora(),
            "int8" => new Int8Lora(),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, "not in adapters.smx"),
        };
        switch (Layer)
        {
            case Qlora q: q.Quantize(lora.Terms0Weight.Data); break;
            case Int8Lora q: q.Quantize(lora.Terms0Weight.Data); break;
        }
        foreach (var p in Layer.Parameters)
            if (p.Trainable) for (var i = 0; i < p.Data.Length; i++) p.Data[i] = (float)(random.NextDouble() - 0.5) * 0.1f;
        var n = Layer.InFeatures;
        X = Fill(new float[Rows * n], random);
        Dy = Fill(new float[Rows * n], random);
        Y = new float[Rows * n];
        Dx = new float[Rows * n];
    }

    private static float[] Fill(float[] a, Random random)
    {
        for (var i = 0; i < a.Length; i++) a[i] = (float)(random.NextDouble() * 2 - 1);
        return a;
    }
}
