using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using StructMat.Runtime.Gpu;
using StructMat.Tests.Tiles;
using Xunit;

namespace StructMat.Layers.Tests;

/// <summary>
/// The GPU kernels through ILGPU's PTX backend for an H100 (sm_90), which needs no GPU: what runs on the CPU accelerator
/// must also lower for CUDA. The tiled block product is the runtime's <see cref="TiledGemmDevice"/>, which ILGPU
/// specialises per <see cref="GemmShape"/> at launch; here each shape below is a literal in a wrapper kernel, which gives
/// the backend the same constants: its shared memory must be static and where the tiling says, and there must be no
/// local memory (the micro-tile accumulators stay scalars). The literals are checked to be the layers' own shapes.
/// Whether ptxas and the device accept and run it is checked on a GPU machine, not here.
/// </summary>
public class PtxTests
{
    private static readonly Type[] Layers =
    {
        typeof(GpuMonarch4096), typeof(GpuMonarch8192), typeof(GpuLowRank4096), typeof(TiledMonarch), typeof(TiledSplitSum),
    };

    // Monarch n = 4096, first factor: 64 blocks of 64 x 64, both tiles staged transposed (padded).
    private static readonly GemmShape Monarch4096Forward = new(A: new(64, 4096, 1), B: new(4096, 1, 64), C: new(64, 4096, 1), Rows: 0, Cols: 64, K: 64, Groups: 64,
        Tile: new(64, 64, 16), Alpha: 1.0f, Flags: GemmFlags.PadA | GemmFlags.PadB);

    // Its first factor's weight gradient: split over 4 slices of the batch.
    private static readonly GemmShape Monarch4096Gradient = new(A: new(64, 1, 4096), B: new(64, 4096, 1), C: new(4096, 64, 1), Rows: 64, Cols: 64, K: 0, Groups: 64,
        Tile: new(64, 64, 16, Splits: 4), Alpha: 1.0f, Flags: GemmFlags.Accumulate);

    // 144 -> 144 Monarch's second factor: strided layouts, two column tiles per block (the second 8 wide: guarded columns).
    private static readonly GemmShape MonarchStrided = new(A: new(1, 144, 2), B: new(5184, 1, 72), C: new(1, 144, 2), Rows: 0, Cols: 72, K: 72, Groups: 2,
        Tile: new(64, 64, 16), Alpha: 1.0f, Flags: GemmFlags.PadA | GemmFlags.PadB);

    // 0.5 · dense 1024 -> 16, accumulated: split-K over 4 compile-time slices of 256.
    private static readonly GemmShape ScaledSplit = new(A: new(1024, 1024, 1), B: new(16384, 1, 1024), C: new(16, 16, 1), Rows: 0, Cols: 16, K: 1024, Groups: 1,
        Tile: new(64, 16, 16, Splits: 4, SliceK: 256), Alpha: 0.5f, Flags: GemmFlags.Accumulate | GemmFlags.PadA | GemmFlags.PadB);

    // Its weight gradient: 16 slices of the batch, scaled.
    private static readonly GemmShape ScaledGradient = new(A: new(16, 1, 16), B: new(1024, 1024, 1), C: new(16384, 1024, 1), Rows: 16, Cols: 1024, K: 0, Groups: 1,
        Tile: new(16, 64, 16, Splits: 16), Alpha: 0.5f, Flags: GemmFlags.Accumulate);

    // Wrapper kernels: the same body with the shape as a constant (ILGPU reads static readonly fields as constants).
    private static void Monarch4096ForwardKernel(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int rows) => TiledGemmDevice.Tile(a, b, c, rows, Monarch4096Forward);
    private static void Monarch4096GradientKernel(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int rows) => TiledGemmDevice.Tile(a, b, c, rows, Monarch4096Gradient);
    private static void MonarchStridedKernel(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int rows) => TiledGemmDevice.Tile(a, b, c, rows, MonarchStrided);
    private static void ScaledSplitKernel(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int rows) => TiledGemmDevice.Tile(a, b, c, rows, ScaledSplit);
    private static void ScaledGradientKernel(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int rows) => TiledGemmDevice.Tile(a, b, c, rows, ScaledGradient);

    public static IEnumerable<object[]> Shapes => new[]
    {
        new object[] { nameof(Monarch4096ForwardKernel), typeof(GpuMonarch4096), "MatMul0", 16 * (65 + 65) * sizeof(float) },
        new object[] { nameof(Monarch4096GradientKernel), typeof(GpuMonarch4096), "WeightGradient5", 16 * (64 + 64) * sizeof(float) },
        new object[] { nameof(MonarchStridedKernel), typeof(TiledMonarch), "MatMul1", 16 * (65 + 65) * sizeof(float) },
        new object[] { nameof(ScaledSplitKernel), typeof(TiledSplitSum), "MatMul2", 16 * (65 + 17) * sizeof(float) },
        new object[] { nameof(ScaledGradientKernel), typeof(TiledSplitSum), "WeightGradient4", 16 * (16 + 64) * sizeof(float) },
    };

    private static int SharedBytes(string ptx) =>
        Regex.Matches(ptx, @"\.shared \.align \d+ \.b8 \w+\[(\d+)\]").Sum(match => int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Tiled_kernel_lowers_to_ptx_with_static_shared_tiles_and_no_local_memory(string wrapper, Type layer, string field, int sharedBytes)
    {
        var method = typeof(PtxTests).GetMethod(wrapper, BindingFlags.NonPublic | BindingFlags.Static)!;
        var shape = (GemmShape)typeof(PtxTests).GetField(wrapper.Replace("Kernel", ""), BindingFlags.NonPublic | BindingFlags.Static)!.GetValue(null)!;
        // The literal is the shape the layer's GPU twin launches.
        Assert.Equal(TiledKernelTests.Shapes(layer)[field], shape);
        Assert.Equal(sharedBytes, shape.SharedBytes);

        using var context = Context.Create(builder => builder.Cuda());
        using var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_90), CudaArchitecture.SM_90, CudaInstructionSet.ISA_80, nvvmAPI: null);
        var ptx = ((PTXCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(method), default)).PTXAssembly;
        Assert.Contains("bar.sync", ptx, StringComparison.Ordinal);
        Assert.Equal(sharedBytes, SharedBytes(ptx));
        Assert.DoesNotContain(".local", ptx, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_layer_here_launches_tiled_products_and_generated_kernels_lower_too()
    {
        using var context = Context.Create(builder => builder.Cuda());
        using var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_90), CudaArchitecture.SM_90, CudaInstructionSet.ISA_80, nvvmAPI: null);
        foreach (var layer in Layers)
        {
            Assert.NotEmpty(TiledKernelTests.Shapes(layer));
            // What a layer still generates (bias, elementwise, tiny blocks) is auto-grouped, one thread per element.
            foreach (var kernel in layer.GetMethods(BindingFlags.NonPublic | BindingFlags.Static).Where(m => m.Name.Contains("Kernel", StringComparison.Ordinal)))
            {
                var compiled = (PTXCompiledKernel)backend.Compile(EntryPointDescription.FromImplicitlyGroupedKernel(kernel), default);
                Assert.Contains(".entry", compiled.PTXAssembly, StringComparison.Ordinal);
            }
        }
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
    [InlineData(typeof(StructMat.Runtime.Gpu.SplitPartials))]
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
