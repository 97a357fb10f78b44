using System;
using System.Reflection;
using ILGPU;
using ILGPU.Runtime;
using Xunit;

namespace StructMat.Layers.Tests;

/// <summary>
/// In-place calls are refused: a layer reads its input while it writes its output and intermediates, so before,
/// <c>Forward(buf, buf, batch)</c> on <c>monarch + lowrank + bias</c> returned numbers off by 0.3–0.6 without an
/// error. Every layer (CPU and its GPU twin) throws an ArgumentException naming the output instead.
/// </summary>
public class AliasingTests : IClassFixture<AcceleratorFixture>
{
    private const int Batch = 2;
    private readonly Accelerator _accelerator;

    public AliasingTests(AcceleratorFixture fixture) => _accelerator = fixture.Accelerator;

    [Theory]
    [MemberData(nameof(LayerCatalog.Names), MemberType = typeof(LayerCatalog))]
    public void Forward_and_Backward_refuse_an_output_that_overlaps_an_input(string name)
    {
        var layer = LayerCatalog.CreateRandomized(name);
        var (i, o) = (layer.InFeatures, layer.OutFeatures);
        var buffer = Oracle.RandomVector(Batch * (i + o), seed: 3);

        // The same memory for x and y, and y starting inside x.
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => layer.Forward(buffer.AsSpan(0, Batch * i), buffer.AsSpan(0, Batch * o), Batch)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => layer.Forward(buffer.AsSpan(0, Batch * i), buffer.AsSpan(Batch * i - 1, Batch * o), Batch)).ParamName);
        // Backward's dx may overlap neither x nor dy; x and dy are only read, so they may share memory.
        var dx = new float[Batch * i];
        var x = buffer.AsSpan(0, Batch * i).ToArray();
        var dy = Oracle.RandomVector(Batch * o, seed: 4);
        Assert.Equal("dx", Assert.Throws<ArgumentException>(() => layer.Backward(x, dy, x, Batch)).ParamName);
        var joined = new float[Batch * (i + o)];
        Assert.Equal("dx", Assert.Throws<ArgumentException>(() => layer.Backward(x, joined.AsSpan(0, Batch * o), joined.AsSpan(Batch * o - 1, Batch * i), Batch)).ParamName);

        // Separate buffers still work, and so do adjacent ones.
        layer.Forward(buffer.AsSpan(0, Batch * i), buffer.AsSpan(Batch * i, Batch * o), Batch);
        layer.Backward(x, dy, dx, Batch);
    }

    [Theory]
    [MemberData(nameof(LayerCatalog.Names), MemberType = typeof(LayerCatalog))]
    public void The_gpu_twin_refuses_an_output_view_that_overlaps_an_input_view(string name)
    {
        var layer = LayerCatalog.CreateRandomized(name);
        var (i, o) = (layer.InFeatures, layer.OutFeatures);
        using var gpu = (IDisposable)layer.GetType().GetMethod("ToAccelerator")!.Invoke(layer, new object[] { _accelerator })!;
        using var buffer = _accelerator.Allocate1D<float>(Batch * (i + o));
        ArrayView<float> view = buffer.View;

        Assert.Equal("y", Refused(gpu, "Forward", view.SubView(0, Batch * i), view.SubView(Batch * i - 1, Batch * o), Batch));
        Assert.Equal("dx", Refused(gpu, "Backward", view.SubView(0, Batch * i), view.SubView(Batch * i, Batch * o), view.SubView(0, Batch * i), Batch));
        Assert.Equal("dx", Refused(gpu, "Backward", view.SubView(Batch * o, Batch * i), view.SubView(0, Batch * o), view.SubView(Batch * o - 1, Batch * i), Batch));
    }

    private static string? Refused(object gpu, string method, params object[] arguments)
    {
        var error = Assert.Throws<TargetInvocationException>(() => gpu.GetType().GetMethod(method)!.Invoke(gpu, arguments));
        return Assert.IsType<ArgumentException>(error.InnerException).ParamName;
    }
}
