using System;
using System.Threading;
using System.Threading.Tasks;
using ILGPU;
using ILGPU.Runtime;
using StructMat.Runtime.Gpu;
using Xunit;

namespace StructMat.Runtime.Tests;

/// <summary>The kernel cache and device helpers, on the ILGPU CPU accelerator (always available).</summary>
public sealed class GpuTests : IDisposable
{
    private readonly Context _context = Devices.CreateContext();
    private readonly Accelerator _cpu;

    public GpuTests() => _cpu = Devices.CreateCpuAccelerator(_context);

    public void Dispose()
    {
        _cpu.Dispose();
        _context.Dispose();
    }

    private static void AddOne(Index1D index, ArrayView<float> data) => data[index] += 1f;

    [Fact]
    public void CheckDisjoint_rejects_overlapping_views_of_one_buffer_and_accepts_separate_ones()
    {
        using var buffer = _cpu.Allocate1D<float>(100);
        using var other = _cpu.Allocate1D<float>(100);
        var view = buffer.View;
        var error = Assert.Throws<ArgumentException>(() => DeviceWorkspace.CheckDisjoint(view, 10, view.SubView(9, 10), 10, "x", "y"));
        Assert.Equal("y", error.ParamName);
        Assert.StartsWith("'y' overlaps 'x'", error.Message);
        Assert.Throws<ArgumentException>(() => DeviceWorkspace.CheckDisjoint(view.SubView(9, 10), 10, view, 10, "x", "y"));
        // Adjacent ranges, the unused tail of a longer view, another buffer, an empty range: no overlap.
        DeviceWorkspace.CheckDisjoint(view, 10, view.SubView(10, 10), 10, "x", "y");
        DeviceWorkspace.CheckDisjoint(view, 10, view.SubView(10, 90), 90, "x", "y");
        DeviceWorkspace.CheckDisjoint(view, 100, other.View, 100, "x", "y");
        DeviceWorkspace.CheckDisjoint(view, 0, view, 100, "x", "y");
    }

    [Fact]
    public void CreateCpuAccelerator_gives_a_cpu_accelerator()
    {
        Assert.Equal(AcceleratorType.CPU, _cpu.AcceleratorType);
    }

    [Fact]
    public void TryCreateCudaAccelerator_returns_a_cuda_accelerator_or_null_without_throwing()
    {
        using var cuda = Devices.TryCreateCudaAccelerator(_context);
        if (cuda is not null) Assert.Equal(AcceleratorType.Cuda, cuda.AcceleratorType);
    }

    [Fact]
    public void KernelCache_loads_a_kernel_once_per_accelerator_and_key()
    {
        int loads = 0;
        Action<Index1D, ArrayView<float>> Load(Accelerator accelerator)
        {
            Interlocked.Increment(ref loads);
            return accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>>(AddOne);
        }

        string key = "add-one-" + Guid.NewGuid();
        var first = KernelCache.GetOrLoad(_cpu, key, Load);
        var second = KernelCache.GetOrLoad(_cpu, key, Load);
        Assert.Same(first, second);
        Assert.Equal(1, loads);

        using var buffer = _cpu.Allocate1D(new float[] { 1f, 2f, 3f });
        second((int)buffer.Length, buffer.View);
        _cpu.Synchronize();
        Assert.Equal(new[] { 2f, 3f, 4f }, buffer.GetAsArray1D());

        KernelCache.GetOrLoad(_cpu, key + "-other", Load);
        Assert.Equal(2, loads);
        using var otherAccelerator = Devices.CreateCpuAccelerator(_context);
        KernelCache.GetOrLoad(otherAccelerator, key, Load);
        Assert.Equal(3, loads);
    }

    [Fact]
    public async Task KernelCache_loads_once_under_concurrent_first_calls()
    {
        int loads = 0;
        string key = "concurrent-" + Guid.NewGuid();
        var results = new object[16];
        using var start = new ManualResetEventSlim();
        var tasks = new Task[results.Length];
        for (int t = 0; t < tasks.Length; t++)
        {
            int slot = t;
            tasks[t] = Task.Run(() =>
            {
                start.Wait();
                results[slot] = KernelCache.GetOrLoad(_cpu, key, _ =>
                {
                    Interlocked.Increment(ref loads);
                    Thread.Sleep(20); // widen the window in which a second loader could start
                    return new object();
                });
            });
        }
        start.Set();
        await Task.WhenAll(tasks);

        Assert.Equal(1, loads);
        Assert.All(results, r => Assert.Same(results[0], r));
    }

    [Fact]
    public void KernelCache_retries_a_load_that_failed()
    {
        string key = "flaky-" + Guid.NewGuid();
        Assert.Throws<InvalidOperationException>(() => KernelCache.GetOrLoad<object>(_cpu, key, _ => throw new InvalidOperationException("compile failed")));
        var loaded = KernelCache.GetOrLoad(_cpu, key, _ => "loaded");
        Assert.Equal("loaded", loaded);
    }

    [Fact]
    public void KernelCache_rejects_a_key_reused_with_another_kernel_type()
    {
        string key = "typed-" + Guid.NewGuid();
        KernelCache.GetOrLoad(_cpu, key, _ => "a string");
        Assert.Throws<InvalidCastException>(() => KernelCache.GetOrLoad(_cpu, key, _ => new object[1]));
    }

    [Fact]
    public void TiledLaunch_group_size_is_the_largest_power_of_two_the_device_and_the_tile_allow()
    {
        Assert.Equal(16, _cpu.MaxNumThreadsPerGroup); // CPUDeviceKind.Default: 4 warps of 4 threads
        Assert.Equal(16, TiledLaunch.GroupSize(_cpu, 256)); // a 256-micro-tile tile runs in 16 passes here
        Assert.Equal(8, TiledLaunch.GroupSize(_cpu, 8));
        Assert.Equal(1, TiledLaunch.GroupSize(_cpu, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => TiledLaunch.GroupSize(_cpu, 48));
        Assert.Throws<ArgumentOutOfRangeException>(() => TiledLaunch.GroupSize(_cpu, 0));

        var config = TiledLaunch.Config(_cpu, rowTiles: 3, columnTiles: 5, microTiles: 64);
        Assert.Equal(new Index3D(3, 5, 1), config.GridDim);
        Assert.Equal(new Index3D(16, 1, 1), config.GroupDim);
    }

    [Fact]
    public void SplitPartials_sums_the_planes_in_order_then_scales_and_stores_or_accumulates()
    {
        using var partials = new SplitPartials(_cpu);
        Assert.Throws<InvalidOperationException>(() => partials.SumInto(default, splits: 1, planeLength: 1, alpha: 1f, accumulate: false));
        var planes = partials.Get(splits: 3, planeLength: 2);
        Assert.Equal(6, planes.Length);
        planes.CopyFromCPU(new[] { 1f, 2f, 10f, 20f, 100f, 200f });
        using var output = _cpu.Allocate1D(new[] { 5f, 7f, -1f });

        partials.SumInto(output.View, splits: 3, planeLength: 2, alpha: 2f, accumulate: true);
        Assert.Equal(new[] { 5f + 222f, 7f + 444f, -1f }, output.GetAsArray1D()); // past the plane: untouched
        partials.SumInto(output.View, splits: 2, planeLength: 2, alpha: 1f, accumulate: false);
        Assert.Equal(new[] { 11f, 22f, -1f }, output.GetAsArray1D());
        Assert.Throws<InvalidOperationException>(() => partials.SumInto(output.View, splits: 4, planeLength: 2, alpha: 1f, accumulate: false));
    }

    /// <summary>The adapters' device classes check their arguments as the CPU kernels do, before any launch (ILGPU does not bounds-check in Release).</summary>
    [Fact]
    public void Adapter_device_classes_reject_short_views_and_bad_arguments_by_name()
    {
        using var big = _cpu.Allocate1D<float>(256);
        using var small = _cpu.Allocate1D<float>(7);
        var (v, s) = (big.View, small.View);
        using var orthogonal = new OrthogonalDevice(_cpu);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => orthogonal.Apply(v, s, v, 2, 2, 4, 5, false, false)).ParamName);
        Assert.Equal("packed", Assert.Throws<ArgumentException>(() => orthogonal.Apply(v, v, s, 2, 2, 4, 5, false, false)).ParamName);
        Assert.Equal("terms", Assert.Throws<ArgumentException>(() => orthogonal.Apply(v, v, v, 2, 2, 4, 17, false, false)).ParamName);
        Assert.Equal("dPacked", Assert.Throws<ArgumentException>(() => orthogonal.Gradient(v, v, v, s, 2, 2, 4, 5, Kernels.SkewLayout.Full)).ParamName);
        using var hadamard = new HadamardDevice(_cpu);
        Assert.Equal("a2", Assert.Throws<ArgumentException>(() => hadamard.Apply(v, v, v, v, s, v, 2, 8, 8, 1, 2, false, false)).ParamName);
        Assert.Equal("target", Assert.Throws<ArgumentException>(() => hadamard.Gradient(v, v, v, v, v, v, v, 4, 2, 8, 8, 1, 1)).ParamName);
        using var normalize = new NormalizeDevice(_cpu);
        Assert.Equal("w0", Assert.Throws<ArgumentException>(() => normalize.Apply(v, v, s, v, v, 1f, 2, 4, 4, 1, false)).ParamName);
        Assert.Equal("target", Assert.Throws<ArgumentException>(() => normalize.Gradient(v, v, v, default, default, 0f, v, 0, 2, 4, 4, 0)).ParamName);
    }
}
