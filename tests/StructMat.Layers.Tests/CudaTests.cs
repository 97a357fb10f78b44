using System;
using System.Linq;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using StructMat.Runtime;
using StructMat.Runtime.Gpu;
using Xunit;

namespace StructMat.Layers.Tests;

/// <summary>
/// Whether a CUDA accelerator opens in this process, probed once. CI has no GPU, so there the CUDA tests are skipped
/// with this reason in the test output; GPU machines without .NET run bench/StructMat.GpuRunner instead
/// (docs/gpu-benchmarks.md).
/// </summary>
public static class CudaProbe
{
    private static readonly Lazy<string?> s_skipReason = new(Probe);

    /// <summary>Null when a CUDA accelerator opened; otherwise why not.</summary>
    public static string? SkipReason => s_skipReason.Value;

    private static string? Probe()
    {
        try
        {
            // ILGPU imports the driver as "cuda" (probed as libcuda.so); driver-only installs have libcuda.so.1.
            NativeLibrary.SetDllImportResolver(typeof(Context).Assembly, static (name, _, _) =>
                name == "cuda" && NativeLibrary.TryLoad("libcuda.so.1", out var handle) ? handle : IntPtr.Zero);
        }
        catch (InvalidOperationException)
        {
            // A resolver is already set for ILGPU: keep it.
        }
        try
        {
            using var context = Devices.CreateContext();
            using var accelerator = Devices.TryCreateCudaAccelerator(context);
            return accelerator is null
                ? "no CUDA accelerator: ILGPU opened no CUDA device here (no NVIDIA GPU or driver); the ILGPU kernels are tested on the CPU accelerator in GpuTests, and on GPUs by bench/StructMat.GpuRunner (docs/gpu-benchmarks.md)"
                : null;
        }
        catch (Exception e)
        {
            return $"no CUDA accelerator: probing CUDA failed with {e.GetType().Name}: {e.Message}";
        }
    }
}

/// <summary>A theory that is skipped, with <see cref="CudaProbe.SkipReason"/>, where no CUDA accelerator opens.</summary>
public sealed class CudaTheoryAttribute : TheoryAttribute
{
    public CudaTheoryAttribute()
    {
        if (CudaProbe.SkipReason is { } reason) Skip = reason;
    }
}

/// <summary>One ILGPU context and CUDA accelerator for the CUDA tests (null where there is none: the tests are skipped).</summary>
public sealed class CudaAcceleratorFixture : IDisposable
{
    public CudaAcceleratorFixture()
    {
        if (CudaProbe.SkipReason is not null) return;
        Context = Devices.CreateContext();
        Accelerator = Devices.TryCreateCudaAccelerator(Context);
    }

    public Context? Context { get; }

    public Accelerator? Accelerator { get; }

    public void Dispose()
    {
        Accelerator?.Dispose();
        Context?.Dispose();
    }
}

/// <summary>The generated ILGPU kernels on a CUDA device against the generated CPU path (as <see cref="GpuTests"/> on the CPU accelerator).</summary>
public class CudaTests : IClassFixture<CudaAcceleratorFixture>
{
    private const int Batch = 5;
    private const double Tolerance = 1e-5; // relative to the layer's largest value; fp32 with another summation order
    private readonly CudaAcceleratorFixture _fixture;

    public CudaTests(CudaAcceleratorFixture fixture) => _fixture = fixture;

    [CudaTheory]
    [MemberData(nameof(LayerCatalog.Names), MemberType = typeof(LayerCatalog))]
    public void Cuda_kernels_match_the_cpu_path_forward_and_backward(string name)
    {
        var accelerator = _fixture.Accelerator ?? throw new InvalidOperationException("The CUDA accelerator did not open a second time.");
        var layer = LayerCatalog.CreateRandomized(name);
        var x = Oracle.RandomVector(Batch * layer.InFeatures, seed: 21);
        var dy = Oracle.RandomVector(Batch * layer.OutFeatures, seed: 22);
        var y = new float[Batch * layer.OutFeatures];
        var dx = new float[x.Length];
        layer.ZeroGrad();
        layer.Forward(x, y, Batch);
        layer.Backward(x, dy, dx, Batch);
        var trainable = layer.Parameters.Where(p => p.Trainable).ToList();
        var cpuGradients = trainable.Select(p => (float[])p.Gradient!.Clone()).ToList();

        layer.ZeroGrad();
        using var gpu = (IDisposable)layer.GetType().GetMethod("ToAccelerator")!.Invoke(layer, new object[] { accelerator })!;
        using var xBuffer = accelerator.Allocate1D(x);
        using var dyBuffer = accelerator.Allocate1D(dy);
        using var yBuffer = accelerator.Allocate1D(Enumerable.Repeat(float.NaN, y.Length).ToArray()); // must be overwritten
        using var dxBuffer = accelerator.Allocate1D(Enumerable.Repeat(float.NaN, dx.Length).ToArray());
        gpu.GetType().GetMethod("Forward")!.Invoke(gpu, new object[] { (ArrayView<float>)xBuffer.View, (ArrayView<float>)yBuffer.View, Batch });
        gpu.GetType().GetMethod("Backward")!.Invoke(gpu, new object[] { (ArrayView<float>)xBuffer.View, (ArrayView<float>)dyBuffer.View, (ArrayView<float>)dxBuffer.View, Batch });
        accelerator.Synchronize();
        gpu.GetType().GetMethod("DownloadGradients")!.Invoke(gpu, null);

        var scale = new[] { y, dx }.Concat(cpuGradients).SelectMany(t => t).Select(Math.Abs).DefaultIfEmpty(0f).Max();
        AssertClose($"{name}: y", yBuffer.GetAsArray1D(), y, scale);
        AssertClose($"{name}: dx", dxBuffer.GetAsArray1D(), dx, scale);
        for (var i = 0; i < trainable.Count; i++) AssertClose($"{name}: grad {trainable[i].Name}", trainable[i].Gradient!, cpuGradients[i], scale);
    }

    private static void AssertClose(string what, float[] actual, float[] expected, float scale)
    {
        Assert.True(actual.All(float.IsFinite), $"{what}: a non-finite value (an element no kernel wrote stays NaN)");
        var error = actual.Zip(expected, (a, e) => Math.Abs((double)a - e)).DefaultIfEmpty(0).Max() / Math.Max(scale, 1e-30);
        Assert.True(error < Tolerance, $"{what}: error {error:E2} relative to the layer's largest value");
    }
}
