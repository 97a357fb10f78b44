using System;
using System.Collections.Generic;
using System.Linq;
using BenchmarkDotNet.Attributes;
using Microsoft.ML.OnnxRuntime;
using StructMat.Runtime;
using StructMat.Runtime.IO;

namespace StructMat.Bench;

/// <summary>
/// ONNX Runtime as a peer (issue 16, goal 6): each structure's Forward against ONNX Runtime running the same layer
/// exported with <see cref="OnnxExport.ToOnnx"/>, structured (the layer's ops) and merged (one Gemm of the merged
/// weight), in the same process and the same run; the Ratio column is ORT's time over StructMat's.
/// </summary>
public class OnnxRuntimeBenchmarks
{
    private Workload _work = null!;
    private OrtPeer? _structured;
    private OrtPeer? _merged;

    public static IEnumerable<string> Structures() => LayerCatalog.Structures.Select(s => s.Name);

    [ParamsSource(nameof(Structures))]
    public string Structure { get; set; } = "";

    [Params(1024, 4096)]
    public int N { get; set; }

    [Params(1, 16, 1024)]
    public int Batch { get; set; }

    // One setup per method: each builds only what its method runs (a merged model at n = 4096 costs a Forward of
    // 4096 rows and a 64 MB session).
    [GlobalSetup(Target = nameof(StructMat))]
    public void SetupStructMat() => _work = new Workload(Structure, N, Batch);

    [GlobalSetup(Target = nameof(OrtStructured))]
    public void SetupStructured()
    {
        SetupStructMat();
        _structured = new OrtPeer(_work.Layer!, merged: false, _work.X, Batch);
    }

    [GlobalSetup(Target = nameof(OrtMerged))]
    public void SetupMerged()
    {
        SetupStructMat();
        _merged = new OrtPeer(_work.Layer!, merged: true, _work.X, Batch);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _structured?.Dispose();
        _merged?.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void StructMat() => _work.Forward();

    [Benchmark]
    public void OrtStructured() => _structured!.Run();

    [Benchmark]
    public void OrtMerged() => _merged!.Run();
}

/// <summary>
/// One ONNX Runtime session over an exported layer, with its input and output bound to pinned arrays (no copies or
/// allocations per call). Default session options: every graph optimisation, ONNX Runtime's own thread pool.
/// </summary>
public sealed class OrtPeer : IDisposable
{
    private static readonly string[] InputNames = { OnnxExport.InputName };
    private static readonly string[] OutputNames = { OnnxExport.OutputName };
    private readonly InferenceSession _session;
    private readonly RunOptions _options = new();
    private readonly OrtValue _x;
    private readonly OrtValue _y;

    public OrtPeer(IStructuredLayer layer, bool merged, float[] x, int batch)
    {
        _session = new InferenceSession(layer.ToOnnx(merged));
        Y = new float[batch * layer.OutFeatures];
        _x = OrtValue.CreateTensorValueFromMemory(x, new long[] { batch, layer.InFeatures });
        _y = OrtValue.CreateTensorValueFromMemory(Y, new long[] { batch, layer.OutFeatures });
    }

    /// <summary>The output of the last <see cref="Run"/>.</summary>
    public float[] Y { get; }

    public void Run() => _session.Run(_options, InputNames, new[] { _x }, OutputNames, new[] { _y });

    public void Dispose()
    {
        _x.Dispose();
        _y.Dispose();
        _options.Dispose();
        _session.Dispose();
    }
}
