using System;
using System.Collections.Generic;
using ILGPU;
using ILGPU.Runtime;

namespace StructMat.Runtime.Gpu;

/// <summary>
/// A layer's parameters in device memory: one buffer per parameter and one per trainable parameter's
/// gradient, in the order of <see cref="IStructuredLayer.Parameters"/>. A byte parameter (the codes of a quantised
/// base) is held as its bytes in a float buffer of ⌈bytes/4⌉ words, padded with zeros: its kernels read the words as
/// four little-endian bytes each (<see cref="QuantizedDevice"/>).
/// </summary>
public sealed class DeviceParameters : IDisposable
{
    private readonly IReadOnlyList<Parameter> _parameters;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>[] _values;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>?[] _gradients;

    public DeviceParameters(Accelerator accelerator, IReadOnlyList<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        ArgumentNullException.ThrowIfNull(parameters);
        _parameters = parameters;
        _values = new MemoryBuffer1D<float, Stride1D.Dense>[parameters.Count];
        _gradients = new MemoryBuffer1D<float, Stride1D.Dense>?[parameters.Count];
        for (var i = 0; i < parameters.Count; i++)
        {
            _values[i] = accelerator.Allocate1D<float>(Words(parameters[i]));
            if (parameters[i].Trainable)
            {
                _gradients[i] = accelerator.Allocate1D<float>(parameters[i].Length);
                _gradients[i]!.MemSetToZero();
            }
        }
        Upload();
    }

    /// <summary>The values of parameter <paramref name="index"/>.</summary>
    public ArrayView<float> Value(int index) => _values[index].View;

    /// <summary>The gradient of trainable parameter <paramref name="index"/>.</summary>
    public ArrayView<float> Gradient(int index) =>
        _gradients[index]?.View ?? throw new InvalidOperationException($"Parameter '{_parameters[index].Name}' is frozen and has no gradient.");

    /// <summary>Copies the host values to the device.</summary>
    public void Upload()
    {
        for (var i = 0; i < _values.Length; i++)
        {
            var parameter = _parameters[i];
            if (parameter.ElementType == ElementType.Float32)
            {
                _values[i].View.CopyFromCPU(parameter.Data);
                continue;
            }
            var words = new float[Words(parameter)];
            parameter.Bytes.AsSpan().CopyTo(System.Runtime.InteropServices.MemoryMarshal.AsBytes(words.AsSpan()));
            _values[i].View.CopyFromCPU(words);
        }
    }

    /// <summary>The float words that hold a parameter on the device.</summary>
    private static long Words(Parameter parameter) =>
        parameter.ElementType == ElementType.Float32 ? parameter.Length : (parameter.Length + 3L) / 4;

    /// <summary>Overwrites the host gradients with the ones accumulated on the device.</summary>
    public void DownloadGradients()
    {
        for (var i = 0; i < _gradients.Length; i++) _gradients[i]?.View.CopyToCPU(_parameters[i].Gradient!);
    }

    /// <summary>Sets the device gradients to zero.</summary>
    public void ZeroGrad()
    {
        foreach (var gradient in _gradients) gradient?.MemSetToZero();
    }

    public void Dispose()
    {
        foreach (var value in _values) value.Dispose();
        foreach (var gradient in _gradients) gradient?.Dispose();
    }
}
