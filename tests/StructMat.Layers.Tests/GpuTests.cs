using System;
using System.Linq;
using ILGPU;
using ILGPU.Runtime;
using StructMat.Runtime;
using StructMat.Runtime.Gpu;
using Xunit;

namespace StructMat.Layers.Tests;

/// <summary>One ILGPU context and CPU accelerator (the kernel emulator) for all GPU-path tests.</summary>
public sealed class AcceleratorFixture : IDisposable
{
    public AcceleratorFixture()
    {
        Context = Devices.CreateContext();
        Accelerator = Devices.CreateCpuAccelerator(Context);
    }

    public Context Context { get; }

    public Accelerator Accelerator { get; }

    public void Dispose()
    {
        Accelerator.Dispose();
        Context.Dispose();
    }
}

/// <summary>
/// The generated ILGPU kernels, run on ILGPU's CPU accelerator, against the generated CPU path.
/// (The CPU path is itself checked against float64 oracles in <see cref="NumericTests"/>.)
/// </summary>
public class GpuTests : IClassFixture<AcceleratorFixture>
{
    private const int Batch = 3;
    private const double Tolerance = 1e-5;
    private readonly Accelerator _accelerator;

    public GpuTests(AcceleratorFixture fixture) => _accelerator = fixture.Accelerator;

    [Theory]
    [MemberData(nameof(LayerCatalog.Names), MemberType = typeof(LayerCatalog))]
    public void Gpu_kernels_match_the_cpu_path_forward_and_backward(string name)
    {
        var layer = LayerCatalog.CreateRandomized(name);
        var x = Oracle.RandomVector(Batch * layer.InFeatures, seed: 11);
        var dy = Oracle.RandomVector(Batch * layer.OutFeatures, seed: 12);

        // CPU path.
        var y = new float[Batch * layer.OutFeatures];
        var dx = new float[x.Length];
        layer.ZeroGrad();
        layer.Forward(x, y, Batch);
        layer.Backward(x, dy, dx, Batch);
        var cpuGradients = layer.Parameters.Where(p => p.Trainable).Select(p => (float[])p.Gradient!.Clone()).ToList();

        // GPU path: the generated nested Gpu class, reached through reflection because each case is its own type.
        layer.ZeroGrad();
        using var gpu = (IDisposable)layer.GetType().GetMethod("ToAccelerator")!.Invoke(layer, new object[] { _accelerator })!;
        using var xBuffer = _accelerator.Allocate1D(x);
        using var dyBuffer = _accelerator.Allocate1D(dy);
        using var yBuffer = _accelerator.Allocate1D<float>(y.Length);
        using var dxBuffer = _accelerator.Allocate1D<float>(dx.Length);
        dxBuffer.View.CopyFromCPU(Enumerable.Repeat(float.NaN, dx.Length).ToArray()); // must be overwritten
        Invoke(gpu, "Forward", (ArrayView<float>)xBuffer.View, (ArrayView<float>)yBuffer.View, Batch);
        Invoke(gpu, "Backward", (ArrayView<float>)xBuffer.View, (ArrayView<float>)dyBuffer.View, (ArrayView<float>)dxBuffer.View, Batch);
        _accelerator.Synchronize();
        Invoke(gpu, "DownloadGradients");

        // Errors are relative to the largest value this layer computed: a gradient that is exactly 0 in the
        // CPU path's float64 arithmetic (hra_u for n = 1, where H = −1 for every u) is ~5e-8 in float32.
        var trainable = layer.Parameters.Where(p => p.Trainable).ToList();
        var scale = new[] { y, dx }.Concat(cpuGradients).SelectMany(t => t).Select(Math.Abs).DefaultIfEmpty(0f).Max();
        AssertClose($"{name}: y", yBuffer.GetAsArray1D(), y, scale);
        AssertClose($"{name}: dx", dxBuffer.GetAsArray1D(), dx, scale);
        for (var n = 0; n < trainable.Count; n++) AssertClose($"{name}: grad {trainable[n].Name}", trainable[n].Gradient!, cpuGradients[n], scale);
    }

    private static void Invoke(object target, string method, params object[] arguments) =>
        target.GetType().GetMethod(method)!.Invoke(target, arguments);

    private static void AssertClose(string what, float[] actual, float[] expected, float scale)
    {
        var error = actual.Zip(expected, (a, e) => Math.Abs((double)a - e)).DefaultIfEmpty(0).Max() / Math.Max(scale, 1e-30);
        Assert.True(error < Tolerance, $"{what}: error {error:E2} relative to the layer's largest value; actual [{string.Join(", ", actual.Take(4))}], expected [{string.Join(", ", expected.Take(4))}]");
    }
}
