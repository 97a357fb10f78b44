using System;
using System.Reflection;
using ILGPU;
using ILGPU.Runtime;
using StructMat.Runtime;

namespace StructMat.GpuRunner;

/// <summary>
/// A generated layer's nested <c>Gpu</c> class (<c>layer.ToAccelerator(accelerator)</c>) behind one type. Each layer
/// has its own nested class, so its methods are bound once through reflection into typed delegates; a change of the
/// generated API fails here, naming the method, rather than somewhere in a benchmark.
/// </summary>
public sealed class GpuLayer : IDisposable
{
    private readonly IDisposable _gpu;
    private readonly Action<ArrayView<float>, ArrayView<float>, int> _forward;
    private readonly Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, int> _backward;
    private readonly Action _downloadGradients;
    private readonly Action _zeroGrad;

    private GpuLayer(IDisposable gpu)
    {
        _gpu = gpu;
        _forward = Bind<Action<ArrayView<float>, ArrayView<float>, int>>(gpu, "Forward");
        _backward = Bind<Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, int>>(gpu, "Backward");
        _downloadGradients = Bind<Action>(gpu, "DownloadGradients");
        _zeroGrad = Bind<Action>(gpu, "ZeroGrad");
    }

    /// <summary>Uploads <paramref name="layer"/>'s parameters to <paramref name="accelerator"/> (<c>ToAccelerator</c>).</summary>
    public static GpuLayer Create(IStructuredLayer layer, Accelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var toAccelerator = layer.GetType().GetMethod("ToAccelerator", new[] { typeof(Accelerator) })
            ?? throw new MissingMethodException($"{layer.GetType().Name} has no ToAccelerator(Accelerator): the generated GPU API changed.");
        try
        {
            var gpu = toAccelerator.Invoke(layer, new object[] { accelerator }) as IDisposable
                ?? throw new InvalidOperationException($"{layer.GetType().Name}.ToAccelerator returned no IDisposable Gpu object.");
            return new GpuLayer(gpu);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
    }

    /// <summary><c>Gpu.Forward(x, y, batch)</c>.</summary>
    public void Forward(ArrayView<float> x, ArrayView<float> y, int batch) => _forward(x, y, batch);

    /// <summary><c>Gpu.Backward(x, dy, dx, batch)</c>: dx overwritten, device gradients accumulate.</summary>
    public void Backward(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dx, int batch) => _backward(x, dy, dx, batch);

    /// <summary>Overwrites the host layer's gradients with the device's.</summary>
    public void DownloadGradients() => _downloadGradients();

    /// <summary>Sets the device gradients to zero.</summary>
    public void ZeroGrad() => _zeroGrad();

    public void Dispose() => _gpu.Dispose();

    private static T Bind<T>(object target, string name) where T : Delegate
    {
        var parameters = typeof(T).GetMethod("Invoke")!.GetParameters();
        var types = Array.ConvertAll(parameters, p => p.ParameterType);
        var method = target.GetType().GetMethod(name, types)
            ?? throw new MissingMethodException($"{target.GetType().FullName} has no {name}({string.Join(", ", Array.ConvertAll(types, t => t.Name))}): the generated GPU API changed.");
        return (T)Delegate.CreateDelegate(typeof(T), target, method);
    }
}
