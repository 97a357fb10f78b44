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

    /// <summary>
    /// Throws when the first <paramref name="outputLength"/> elements of <paramref name="output"/> share device memory with
    /// the first <paramref name="inputLength"/> of <paramref name="input"/> (the same buffer, overlapping ranges): the
    /// kernels read the input while they write the output, so an in-place call would read overwritten values.
    /// </summary>
    public static void CheckDisjoint(ArrayView<float> input, long inputLength, ArrayView<float> output, long outputLength, string inputName, string outputName)
    {
        if (inputLength == 0 || outputLength == 0 || !input.IsValid || !output.IsValid
            || !ReferenceEquals(((IArrayView)input).Buffer, ((IArrayView)output).Buffer)) return;
        // Addresses in the buffer's own (device) address space: the views' offsets are not public, their addresses are.
        long inputStart = input.LoadEffectiveAddressAsPtr().ToInt64(), outputStart = output.LoadEffectiveAddressAsPtr().ToInt64();
        if (inputStart < outputStart + outputLength * sizeof(float) && outputStart < inputStart + inputLength * sizeof(float))
        {
            throw new ArgumentException(
                $"'{outputName}' overlaps '{inputName}': the layer reads '{inputName}' while it writes '{outputName}', so they must be separate buffers (in-place calls are not supported).",
                outputName);
        }
    }

    public void Dispose()
    {
        foreach (var buffer in _slots) buffer?.Dispose();
    }
}
