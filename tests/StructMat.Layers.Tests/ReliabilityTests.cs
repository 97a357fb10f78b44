using System;
using System.Linq;
using System.Reflection;
using System.Threading.Tasks;
using ILGPU;
using ILGPU.Runtime;
using StructMat.Runtime;
using StructMat.Runtime.Gpu;
using Xunit;

namespace StructMat.Layers.Tests;

/// <summary>Concurrency guards, accelerator ownership, and non-finite values.</summary>
public class ReliabilityTests : IClassFixture<AcceleratorFixture>
{
    private readonly AcceleratorFixture _fixture;

    public ReliabilityTests(AcceleratorFixture fixture) => _fixture = fixture;

    [Theory]
    [MemberData(nameof(LayerCatalog.Names), MemberType = typeof(LayerCatalog))]
    public void Forward_from_many_threads_at_once_matches_sequential_results(string name)
    {
        var layer = LayerCatalog.CreateRandomized(name);
        const int batch = 3, inputs = 16;
        var xs = Enumerable.Range(0, inputs).Select(k => Oracle.RandomVector(batch * layer.InFeatures, seed: 100 + k)).ToArray();
        var expected = xs.Select(x =>
        {
            var y = new float[batch * layer.OutFeatures];
            layer.Forward(x, y, batch);
            return y;
        }).ToArray();

        var actual = new float[inputs][];
        Parallel.For(0, inputs * 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, k =>
        {
            var y = new float[batch * layer.OutFeatures];
            layer.Forward(xs[k % inputs], y, batch);
            if (k >= inputs * 7) actual[k % inputs] = y;
        });

        for (var k = 0; k < inputs; k++) Assert.Equal(expected[k], actual[k]);
    }

    [Theory]
    [MemberData(nameof(LayerCatalog.Names), MemberType = typeof(LayerCatalog))]
    public void Forward_over_several_batch_tiles_equals_row_by_row_forward_bit_for_bit(string name)
    {
        // 1100 rows: more than the largest forward tile (512 rows), so layers with intermediates run as several
        // tiles on several threads, the last one partial; every row must still come out as it does alone.
        var layer = LayerCatalog.CreateRandomized(name);
        const int batch = 1100;
        var x = Oracle.RandomVector(batch * layer.InFeatures, seed: 7);
        var y = new float[batch * layer.OutFeatures];
        layer.Forward(x, y, batch);

        var row = new float[layer.OutFeatures];
        for (var b = 0; b < batch; b++)
        {
            layer.Forward(x.AsSpan(b * layer.InFeatures, layer.InFeatures), row, 1);
            Assert.Equal(row, y.AsSpan(b * layer.OutFeatures, layer.OutFeatures).ToArray());
        }
    }

    [Theory]
    [MemberData(nameof(LayerCatalog.Names), MemberType = typeof(LayerCatalog))]
    public void Backward_over_several_batch_tiles_matches_row_by_row_backward(string name)
    {
        // 1100 rows run as several backward tiles on several threads. dx rows must come out as they do alone, bit for
        // bit; parameter gradients (summed per tile, then in tile order) must equal the float64 sum of the per-row
        // gradients to float32 accumulation error, and repeat exactly.
        var layer = LayerCatalog.CreateRandomized(name);
        int batch = 1100, n = layer.InFeatures, m = layer.OutFeatures;
        var x = Oracle.RandomVector(batch * n, seed: 8);
        var dy = Oracle.RandomVector(batch * m, seed: 9);
        var dx = new float[batch * n];
        layer.ZeroGrad();
        layer.Backward(x, dy, dx, batch);
        var tiled = layer.Parameters.Select(p => p.Gradient?.ToArray()).ToArray();

        var again = new float[batch * n];
        layer.ZeroGrad();
        layer.Backward(x, dy, again, batch);
        Assert.Equal(dx, again);
        for (var i = 0; i < tiled.Length; i++) Assert.Equal(tiled[i], layer.Parameters[i].Gradient);

        var sums = layer.Parameters.Select(p => p.Gradient is null ? null : new double[p.Gradient.Length]).ToArray();
        var magnitudes = layer.Parameters.Select(p => p.Gradient is null ? null : new double[p.Gradient.Length]).ToArray();
        var rowDx = new float[n];
        for (var b = 0; b < batch; b++)
        {
            layer.ZeroGrad();
            layer.Backward(x.AsSpan(b * n, n), dy.AsSpan(b * m, m), rowDx, 1);
            Assert.Equal(rowDx, dx.AsSpan(b * n, n).ToArray());
            for (var i = 0; i < sums.Length; i++)
            {
                if (layer.Parameters[i].Gradient is not { } g) continue;
                for (var k = 0; k < g.Length; k++)
                {
                    sums[i]![k] += g[k];
                    magnitudes[i]![k] += Math.Abs(g[k]);
                }
            }
        }
        for (var i = 0; i < sums.Length; i++)
        {
            if (sums[i] is null) continue;
            for (var k = 0; k < sums[i]!.Length; k++)
            {
                // Worst-case float32 summation over at most ~1100 terms: a few hundred ulps of the magnitude sum.
                double tolerance = 1e-4 * magnitudes[i]![k] + 1e-6;
                Assert.True(Math.Abs(tiled[i]![k] - sums[i]![k]) <= tolerance,
                    $"{layer.Parameters[i].Name}[{k}]: tiled {tiled[i]![k]} vs row sum {sums[i]![k]} (tolerance {tolerance})");
            }
        }
    }

    [Fact]
    public void A_second_concurrent_Backward_is_refused_instead_of_racing_on_the_gradients()
    {
        var layer = LayerCatalog.CreateRandomized("MonarchSquare");
        var guard = (ExclusiveUse)layer.GetType().GetField("_backwardInUse", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(layer)!;
        var x = new float[16];
        using (guard.Enter()) // as if another thread were inside Backward
        {
            var error = Assert.Throws<InvalidOperationException>(() => layer.Backward(x, new float[16], new float[16], 1));
            Assert.Contains("MonarchSquare.Backward is already running on another thread", error.Message);
        }
        layer.Backward(x, new float[16], new float[16], 1); // released: works again
    }

    [Fact]
    public void The_gpu_twin_refuses_concurrent_calls_and_memory_of_another_accelerator()
    {
        var layer = new StructMat.Tests.Cases.MonarchSquare();
        using var gpu = layer.ToAccelerator(_fixture.Accelerator);
        using var x = _fixture.Accelerator.Allocate1D<float>(16);
        using var y = _fixture.Accelerator.Allocate1D<float>(16);

        var guard = (ExclusiveUse)typeof(StructMat.Runtime.Gpu.DeviceLayer).GetField("_inUse", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(gpu)!;
        using (guard.Enter())
        {
            Assert.Throws<InvalidOperationException>(() => gpu.Forward(x.View, y.View, 1));
        }

        using var other = Devices.CreateCpuAccelerator(_fixture.Context);
        using var foreign = other.Allocate1D<float>(16);
        var error = Assert.Throws<ArgumentException>(() => gpu.Forward(foreign.View, y.View, 1));
        Assert.Equal("x", error.ParamName);
        gpu.Forward(x.View, y.View, 1); // its own memory works
    }

    [Fact]
    public void A_batch_whose_intermediates_overflow_32_bit_indexing_is_rejected_before_any_work()
    {
        // Btt 12 -> 20 has a 24-wide intermediate: batch 100,000,000 fits x (1.2e9) and y (2.0e9) but not 2.4e9.
        var layer = new StructMat.Tests.Cases.Btt();
        const int batch = 100_000_000;
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => layer.Forward(new float[1], new float[1], batch));
        Assert.Equal("batch", error.ParamName);
        Assert.Contains("widest intermediate", error.Message);
        error = Assert.Throws<ArgumentOutOfRangeException>(() => layer.Backward(new float[1], new float[1], new float[1], batch));
        Assert.Equal("batch", error.ParamName);
        // A layer without wider intermediates reports the overflow of its own input or output.
        error = Assert.Throws<ArgumentOutOfRangeException>(() => new StructMat.Tests.Cases.DenseBias().Forward(new float[1], new float[1], int.MaxValue / 4));
        Assert.Equal("batch", error.ParamName);
    }

    [Theory]
    [MemberData(nameof(LayerCatalog.Names), MemberType = typeof(LayerCatalog))]
    public void Every_generated_method_rejects_bad_arguments_by_name(string name)
    {
        var layer = LayerCatalog.Create(name);
        var (n, m) = (layer.InFeatures, layer.OutFeatures);
        string Param(Action call) => Assert.ThrowsAny<ArgumentException>(call).ParamName!;
        Assert.Equal("x", Param(() => layer.Forward(new float[2 * n - 1], new float[2 * m], 2)));
        Assert.Equal("y", Param(() => layer.Forward(new float[2 * n], new float[2 * m - 1], 2)));
        Assert.Equal("batch", Param(() => layer.Forward(new float[n], new float[m], -1)));
        Assert.Equal("x", Param(() => layer.Backward(new float[2 * n - 1], new float[2 * m], new float[2 * n], 2)));
        Assert.Equal("dy", Param(() => layer.Backward(new float[2 * n], new float[2 * m - 1], new float[2 * n], 2)));
        Assert.Equal("dx", Param(() => layer.Backward(new float[2 * n], new float[2 * m], new float[2 * n - 1], 2)));
        string NullParam(string method)
        {
            var wrapped = Assert.Throws<TargetInvocationException>(() => layer.GetType().GetMethod(method)!.Invoke(layer, new object?[] { null }));
            return Assert.IsType<ArgumentNullException>(wrapped.InnerException).ParamName!;
        }
        Assert.Equal("random", NullParam("Initialize"));
        Assert.Equal("accelerator", NullParam("ToAccelerator"));
        if (layer is IProjectable projectable) Assert.Equal("dense", Param(() => projectable.Project(new float[n * m + 1])));
    }

    [Fact]
    public void The_gpu_twin_checks_buffer_lengths_and_batch_naming_the_argument()
    {
        var layer = new StructMat.Tests.Cases.MonarchUp(); // 12 -> 20
        using var gpu = layer.ToAccelerator(_fixture.Accelerator);
        using var x = _fixture.Accelerator.Allocate1D<float>(2 * 12);
        using var y = _fixture.Accelerator.Allocate1D<float>(2 * 20);
        using var shortBuffer = _fixture.Accelerator.Allocate1D<float>(2 * 12 - 1);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => gpu.Forward(shortBuffer.View, y.View, 2)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => gpu.Forward(x.View, x.View, 2)).ParamName);
        Assert.Equal("dx", Assert.Throws<ArgumentException>(() => gpu.Backward(x.View, y.View, shortBuffer.View, 2)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => gpu.Forward(x.View, y.View, -1));
        gpu.Forward(x.View, y.View, 0); // an empty batch is a no-op
    }

    [Theory]
    [MemberData(nameof(LayerCatalog.Names), MemberType = typeof(LayerCatalog))]
    public void Non_finite_inputs_propagate_without_exceptions(string name)
    {
        var layer = LayerCatalog.CreateRandomized(name);
        const int batch = 2;
        var x = Oracle.RandomVector(batch * layer.InFeatures, seed: 61);
        x[0] = float.NaN;
        x[^1] = float.PositiveInfinity;
        var y = new float[batch * layer.OutFeatures];
        layer.Forward(x, y, batch);
        Assert.Contains(y, v => !float.IsFinite(v));

        var dy = Oracle.RandomVector(batch * layer.OutFeatures, seed: 62);
        dy[0] = float.NegativeInfinity;
        var dx = new float[x.Length];
        layer.ZeroGrad();
        layer.Backward(x, dy, dx, batch);
        Assert.Contains(dx, v => !float.IsFinite(v));
    }
}
