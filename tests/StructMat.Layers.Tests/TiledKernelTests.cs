using System;
using System.Collections.Generic;
using System.Linq;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using StructMat.Runtime;
using StructMat.Runtime.Gpu;
using StructMat.Tests.Tiles;
using Xunit;

namespace StructMat.Layers.Tests;

/// <summary>
/// The runtime's shared-memory tiled block-product kernel (<see cref="TiledGemmDevice"/>, specialised per layer shape) on shapes that the catalogue's batch-3 test does not reach:
/// several row tiles (batches 67 and 130 against 64-row tiles; 37 fills part of one), partial edge tiles in every dimension, strided
/// layouts, alpha with accumulation, kron sub-rows (Tiles/tiles.smx). Compared with the CPU path, which
/// <see cref="NumericTests"/> checks against float64 oracles.
/// </summary>
public class TiledKernelTests : IClassFixture<AcceleratorFixture>
{
    private const double Tolerance = 1e-5;
    private readonly AcceleratorFixture _fixture;

    public TiledKernelTests(AcceleratorFixture fixture) => _fixture = fixture;

    public static IEnumerable<object[]> Cases => new[]
    {
        new object[] { nameof(TiledMonarch), 37 },
        new object[] { nameof(TiledMonarch), 67 },
        new object[] { nameof(TiledMonarchUp), 67 },
        new object[] { nameof(TiledSum), 130 },
        new object[] { nameof(TiledKron), 37 },
        new object[] { nameof(TiledSplit), 37 },
        new object[] { nameof(TiledSplitSum), 67 },
    };

    private static readonly Type[] Types =
    {
        typeof(TiledMonarch), typeof(TiledMonarchUp), typeof(TiledSum), typeof(TiledKron), typeof(TiledSplit), typeof(TiledSplitSum),
    };

    private static IStructuredLayer Create(string name)
    {
        var layer = (IStructuredLayer)Activator.CreateInstance(Types.Single(t => t.Name == name), 0)!;
        var random = new Random(5);
        foreach (var p in layer.Parameters)
        {
            for (var i = 0; i < p.Data.Length; i++) p.Data[i] = (float)(random.NextDouble() * 2 - 1);
        }
        return layer;
    }

    /// <summary>The <see cref="GemmShape"/>s a layer's GPU twin runs its block products with (its private static fields).</summary>
    internal static Dictionary<string, GemmShape> Shapes(Type layer) =>
        layer.GetNestedType("Gpu")!.GetFields(System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)
            .Where(f => f.FieldType == typeof(GemmShape))
            .ToDictionary(f => f.Name, f => (GemmShape)f.GetValue(null)!);

    [Fact]
    public void Tiles_layers_run_their_block_products_as_tiled_kernels()
    {
        // Guards the tests below: they are about the runtime's tiled kernel, so these shapes must select it.
        foreach (var type in Types)
        {
            var shapes = Shapes(type);
            Assert.NotEmpty(shapes);
            var split = shapes.Values.Count(s => s.Tile.Splits > 1);
            Assert.True(type.Name.StartsWith("TiledSplit", StringComparison.Ordinal) == split > 0, $"{type.Name}: {split} split-K products");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Tiled_kernels_match_the_cpu_path(string name, int batch)
    {
        var layer = Create(name);
        var x = Oracle.RandomVector(batch * layer.InFeatures, seed: 21);
        var dy = Oracle.RandomVector(batch * layer.OutFeatures, seed: 22);

        // CPU path; backward twice, so that gradient accumulation is compared too.
        var y = new float[batch * layer.OutFeatures];
        var dx = new float[x.Length];
        layer.ZeroGrad();
        layer.Forward(x, y, batch);
        layer.Backward(x, dy, dx, batch);
        layer.Backward(x, dy, dx, batch);
        var cpuGradients = layer.Parameters.Where(p => p.Trainable).Select(p => (float[])p.Gradient!.Clone()).ToList();

        var gpu = Run(layer, _fixture.Accelerator, x, dy, batch, backwardTwice: true);

        var scale = new[] { y, dx }.Concat(cpuGradients).SelectMany(t => t).Select(Math.Abs).Max();
        AssertClose($"{name}: y", gpu.Y, y, scale);
        AssertClose($"{name}: dx", gpu.Dx, dx, scale);
        for (var n = 0; n < cpuGradients.Count; n++) AssertClose($"{name}: gradient {n}", gpu.Gradients[n], cpuGradients[n], scale);
    }

    [Theory]
    [InlineData(nameof(TiledMonarch), 37)]
    [InlineData(nameof(TiledSum), 67)]
    [InlineData(nameof(TiledSplit), 37)]
    public void Tiled_kernels_give_identical_bits_for_every_group_size(string name, int batch)
    {
        // Each output, weight gradients included, is summed by one thread in a fixed order, so the result cannot
        // depend on how many threads share a tile (4: four passes of a 16-micro-tile slice; 16: the default CPU
        // accelerator; 64: one pass for tiles of up to 64 micro-tiles, as on a GPU). Split-K slices are summed in
        // slice order, so they do not change that.
        var layer = Create(name);
        var x = Oracle.RandomVector(batch * layer.InFeatures, seed: 31);
        var dy = Oracle.RandomVector(batch * layer.OutFeatures, seed: 32);
        var reference = Run(layer, _fixture.Accelerator, x, dy, batch, backwardTwice: false);
        foreach (var (threadsPerWarp, warps) in new[] { (2, 2), (8, 8) })
        {
            using var accelerator = new CPUDevice(threadsPerWarp, warps, 1).CreateAccelerator(_fixture.Context);
            Assert.Equal(threadsPerWarp * warps, accelerator.MaxNumThreadsPerGroup);
            var other = Run(layer, accelerator, x, dy, batch, backwardTwice: false);
            Assert.Equal(reference.Y, other.Y);
            Assert.Equal(reference.Dx, other.Dx);
            for (var n = 0; n < reference.Gradients.Count; n++) Assert.Equal(reference.Gradients[n], other.Gradients[n]);
        }
    }

    private static (float[] Y, float[] Dx, List<float[]> Gradients) Run(IStructuredLayer layer, Accelerator accelerator, float[] x, float[] dy, int batch, bool backwardTwice)
    {
        layer.ZeroGrad();
        using var gpu = (IDisposable)layer.GetType().GetMethod("ToAccelerator")!.Invoke(layer, new object[] { accelerator })!;
        using var xBuffer = accelerator.Allocate1D(x);
        using var dyBuffer = accelerator.Allocate1D(dy);
        using var yBuffer = accelerator.Allocate1D<float>(batch * layer.OutFeatures);
        using var dxBuffer = accelerator.Allocate1D<float>(x.Length);
        Invoke(gpu, "Forward", (ArrayView<float>)xBuffer.View, (ArrayView<float>)yBuffer.View, batch);
        for (var pass = 0; pass < (backwardTwice ? 2 : 1); pass++)
        {
            Invoke(gpu, "Backward", (ArrayView<float>)xBuffer.View, (ArrayView<float>)dyBuffer.View, (ArrayView<float>)dxBuffer.View, batch);
        }
        accelerator.Synchronize();
        Invoke(gpu, "DownloadGradients");
        var gradients = layer.Parameters.Where(p => p.Trainable).Select(p => (float[])p.Gradient!.Clone()).ToList();
        return (yBuffer.GetAsArray1D(), dxBuffer.GetAsArray1D(), gradients);
    }

    private static void Invoke(object target, string method, params object[] arguments) =>
        target.GetType().GetMethod(method)!.Invoke(target, arguments);

    private static void AssertClose(string what, float[] actual, float[] expected, float scale)
    {
        Assert.Equal(expected.Length, actual.Length);
        var error = actual.Zip(expected, (a, e) => Math.Abs((double)a - e)).Max() / Math.Max(scale, 1e-30);
        Assert.True(error < Tolerance, $"{what}: error {error:E2} relative to the largest value");
    }
}
