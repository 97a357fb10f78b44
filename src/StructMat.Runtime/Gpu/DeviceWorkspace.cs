using System;
using ILGPU;
using ILGPU.Runtime;

namespace StructMat.Runtime.Gpu;

/// <summary>The device-memory counterpart of <see cref="Workspace"/>: one buffer per buffer-plan slot, grown on demand.</summary>
public sealed class DeviceWorkspace : IDisposable
{
    private readonly Accelerator _accelerator;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>?[] _slots;

    public DeviceWorkspace(Accelerator accelerator, int slots)
    {
        _accelerator = accelerator;
        _slots = new MemoryBuffer1D<float, Stride1D.Dense>?[slots];
    }

    public ArrayView<float> Get(int slot, long length)
    {
        ref var buffer = ref _slots[slot];
        if (buffer is null || buffer.Length < length)
        {
            buffer?.Dispose();
            buffer = _accelerator.Allocate1D<float>(Math.Max(1, length));
        }
        return buffer.View.SubView(0, length);
    }

    /// <summary>Throws unless <paramref name="view"/> lives on <paramref name="accelerator"/> (a view of another device would be read as garbage).</summary>
    public static void CheckOwnership(ArrayView<float> view, Accelerator accelerator, string argument)
    {
        if (view.IsValid && view.Length > 0 && !ReferenceEquals(view.GetAccelerator(), accelerator))
        {
            throw new ArgumentException($"'{argument}' is memory of accelerator '{view.GetAccelerator().Name}', but this layer runs on '{accelerator.Name}'.", argument);
        }
    }

    public void Dispose()
    {
        foreach (var buffer in _slots) buffer?.Dispose();
    }
}
