using System;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using StructMat.Tests.Tiles;
using Xunit;

namespace StructMat.Layers.Tests;

/// <summary>
/// The generated kernels through ILGPU's PTX backend for an H100 (sm_90), which needs no GPU: what runs on the
/// CPU accelerator must also lower for CUDA, with its shared memory where the tiling says and no local memory
/// (the micro-tile accumulators stay scalars). Whether ptxas and the device accept and run it is checked on a
/// GPU machine, not here.
/// </summary>
public class PtxTests
{
    private static readonly Type[] Layers =
    {
        typeof(GpuMonarch4096), typeof(GpuMonarch8192), typeof(GpuLowRank4096), typeof(TiledMonarch), typeof(TiledSplitSum),
    };

    private static (string Name, bool Grouped, string Ptx)[] CompileKernels(Type layer)
    {
        using var context = Context.Create(builder => builder.Cuda());
        using var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_90), CudaArchitecture.SM_90, CudaInstructionSet.ISA_80, nvvmAPI: null);
        return layer.GetMethods(BindingFlags.NonPublic | BindingFlags.Static)
            .Where(m => m.Name.Contains("Kernel", StringComparison.Ordinal))
            .Select(m =>
            {
                // Grouped (tiled) kernels take no index: their first parameter is a view.
                var grouped = m.GetParameters()[0].ParameterType == typeof(ArrayView<float>);
                var entry = grouped ? EntryPointDescription.FromExplicitlyGroupedKernel(m) : EntryPointDescription.FromImplicitlyGroupedKernel(m);
                var kernel = (PTXCompiledKernel)backend.Compile(entry, default);
                return (m.Name, grouped, kernel.PTXAssembly);
            })
            .ToArray();
    }

    private static int SharedBytes(string ptx) =>
        Regex.Matches(ptx, @"\.shared \.align \d+ \.b8 \w+\[(\d+)\]").Sum(match => int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public void Tiled_kernels_lower_to_ptx_with_shared_tiles_and_no_local_memory()
    {
        foreach (var layer in Layers)
        {
            var kernels = CompileKernels(layer);
            Assert.Contains(kernels, k => k.Grouped);
            foreach (var (name, grouped, ptx) in kernels.Where(k => k.Grouped))
            {
                Assert.Contains("bar.sync", ptx, StringComparison.Ordinal);
                Assert.InRange(SharedBytes(ptx), 1, 48 * 1024); // the static shared-memory limit
                Assert.DoesNotContain(".local", ptx, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void Monarch_4096_tiles_use_8_kilobytes_of_shared_memory()
    {
        var kernels = CompileKernels(typeof(GpuMonarch4096)).ToDictionary(k => k.Name, k => k.Ptx);
        Assert.Equal(16 * (65 + 65) * sizeof(float), SharedBytes(kernels["MatMulKernel0"])); // both tiles padded (transposing stores)
        Assert.Equal(16 * (64 + 64) * sizeof(float), SharedBytes(kernels["WeightGradientKernel3"]));
    }

    /// <summary>
    /// The runtime's own device classes (Householder chains, OFT/BOFT rotations, LoHa, DoRA's norms) launch kernels of
    /// their own; each lowers to PTX for sm_90 too, so nothing in them (Math.Sqrt, double arithmetic, loops over views)
    /// is something only the CPU accelerator accepts.
    /// </summary>
    [Theory]
    [InlineData(typeof(StructMat.Runtime.Gpu.HouseholderDevice))]
    [InlineData(typeof(StructMat.Runtime.Gpu.OrthogonalDevice))]
    [InlineData(typeof(StructMat.Runtime.Gpu.HadamardDevice))]
    [InlineData(typeof(StructMat.Runtime.Gpu.NormalizeDevice))]
    [InlineData(typeof(StructMat.Runtime.Gpu.QuantizedDevice))]
    [InlineData(typeof(StructMat.Runtime.Gpu.ButterflyDevice))]
    public void Runtime_device_kernels_lower_to_ptx(Type device)
    {
        using var context = Context.Create(builder => builder.Cuda());
        using var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_90), CudaArchitecture.SM_90, CudaInstructionSet.ISA_80, nvvmAPI: null);
        var kernels = device.GetMethods(BindingFlags.NonPublic | BindingFlags.Static)
            .Where(m => m.GetParameters() is { Length: > 0 } p && (p[0].ParameterType == typeof(Index1D) || p[0].ParameterType == typeof(Index2D)))
            .ToArray();
        Assert.NotEmpty(kernels);
        foreach (var kernel in kernels)
        {
            var compiled = (PTXCompiledKernel)backend.Compile(EntryPointDescription.FromImplicitlyGroupedKernel(kernel), default);
            Assert.Contains(".entry", compiled.PTXAssembly, StringComparison.Ordinal);
        }
    }
}
