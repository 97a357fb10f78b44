using System;
using ILGPU;
using ILGPU.Runtime;

namespace StructMat.Runtime.Gpu;

/// <summary>
/// A generated layer on an ILGPU accelerator (its nested <c>Gpu</c> class, from <c>layer.ToAccelerator(accelerator)</c>):
/// parameters and gradients live in device memory; <see cref="UploadParameters"/> and <see cref="DownloadGradients"/>
/// move them to and from the host layer. One call at a time: it owns one device workspace, and a concurrent call
/// throws <see cref="InvalidOperationException"/>. What each layer adds is its kernels and its launch sequence.
/// </summary>
public abstract class DeviceLayer : IDisposable
{
    private readonly ExclusiveUse _inUse;

    /// <param name="accelerator">The device.</param>
    /// <param name="layer">The host layer, whose parameters are uploaded now.</param>
    /// <param name="workspaceSlots">Device buffers for the intermediates (the layer's buffer plan).</param>
    /// <param name="name">The twin's name in the message of a concurrent call, e.g. <c>Mixer.Gpu</c>.</param>
    protected DeviceLayer(Accelerator accelerator, IStructuredLayer layer, int workspaceSlots, string name)
    {
        ArgumentNullException.ThrowIfNull(layer);
        Accelerator = accelerator ?? throw new ArgumentNullException(nameof(accelerator));
        _inUse = new ExclusiveUse(name);
        InFeatures = layer.InFeatures;
        OutFeatures = layer.OutFeatures;
        DeviceParameters = new DeviceParameters(accelerator, layer.Parameters);
        Workspace = new DeviceWorkspace(accelerator, workspaceSlots);
    }

    /// <summary>The accelerator that holds this twin's parameters, gradients, workspace and kernels.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>Input features: the length of one row of <c>x</c>.</summary>
    public int InFeatures { get; }

    /// <summary>Output features: the length of one row of <c>y</c>.</summary>
    public int OutFeatures { get; }

    /// <summary>The parameters and gradients on the device, in the host layer's order.</summary>
    protected DeviceParameters DeviceParameters { get; }

    /// <summary>The device buffers the intermediates live in.</summary>
    protected DeviceWorkspace Workspace { get; }

    /// <summary>Copies the host layer's parameter values to the device.</summary>
    public void UploadParameters() => DeviceParameters.Upload();

    /// <summary>Overwrites the host layer's gradients with the ones accumulated on the device.</summary>
    public void DownloadGradients() => DeviceParameters.DownloadGradients();

    /// <summary>Sets the device gradients to zero.</summary>
    public void ZeroGrad() => DeviceParameters.ZeroGrad();

    /// <summary>The forward pass on the device (<c>y = W x (+ bias)</c> for each of <paramref name="batch"/> rows); see the host layer's <c>Forward</c>.</summary>
    public abstract void Forward(ArrayView<float> x, ArrayView<float> y, int batch);

    /// <summary>The backward pass on the device: <paramref name="dx"/> is overwritten, device gradients accumulate; see the host layer's <c>Backward</c>.</summary>
    public abstract void Backward(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dx, int batch);

    /// <summary>Checks <see cref="Forward"/>'s arguments (lengths, device, no overlap) and marks the twin busy until the scope ends.</summary>
    protected ExclusiveUse.Scope EnterForward(ArrayView<float> x, ArrayView<float> y, int batch)
    {
        Checks.Activation(x.Length, batch, InFeatures, nameof(x));
        Checks.Activation(y.Length, batch, OutFeatures, nameof(y));
        DeviceWorkspace.CheckOwnership(x, Accelerator, nameof(x));
        DeviceWorkspace.CheckOwnership(y, Accelerator, nameof(y));
        DeviceWorkspace.CheckDisjoint(x, (long)batch * InFeatures, y, (long)batch * OutFeatures, nameof(x), nameof(y));
        return _inUse.Enter();
    }

    /// <summary>Checks <see cref="Backward"/>'s arguments (lengths, device, no overlap) and marks the twin busy until the scope ends.</summary>
    protected ExclusiveUse.Scope EnterBackward(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dx, int batch)
    {
        Checks.Activation(x.Length, batch, InFeatures, nameof(x));
        Checks.Activation(dy.Length, batch, OutFeatures, nameof(dy));
        Checks.Activation(dx.Length, batch, InFeatures, nameof(dx));
        DeviceWorkspace.CheckOwnership(x, Accelerator, nameof(x));
        DeviceWorkspace.CheckOwnership(dy, Accelerator, nameof(dy));
        DeviceWorkspace.CheckOwnership(dx, Accelerator, nameof(dx));
        DeviceWorkspace.CheckDisjoint(x, (long)batch * InFeatures, dx, (long)batch * InFeatures, nameof(x), nameof(dx));
        DeviceWorkspace.CheckDisjoint(dy, (long)batch * OutFeatures, dx, (long)batch * InFeatures, nameof(dy), nameof(dx));
        return _inUse.Enter();
    }

    /// <summary>Frees the device memory of this twin; the host layer and its values are not affected.</summary>
    public void Dispose()
    {
        Workspace.Dispose();
        DeviceParameters.Dispose();
        DisposeResources();
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees what a layer's twin holds beyond its parameters and workspace (index maps, device helpers).</summary>
    protected virtual void DisposeResources()
    {
    }
}
