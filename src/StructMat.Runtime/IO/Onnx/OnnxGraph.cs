using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace StructMat.Runtime.IO.Onnx;

/// <summary>
/// The ONNX node and tensor plumbing under <see cref="OnnxGraphBuilder"/>: fresh names, nodes with attributes, constants,
/// and the initializers of a layer's parameters (each added once, under its saved name).
/// </summary>
internal sealed class OnnxGraph
{
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _constants = new(StringComparer.Ordinal);
    private int _next;

    public GraphProto Proto { get; } = new();

    /// <summary>A tensor name not used before, from <paramref name="hint"/>.</summary>
    public string Fresh(string hint)
    {
        string name;
        do name = hint + "_" + (_next++).ToString(CultureInfo.InvariantCulture);
        while (!_names.Add(name));
        return name;
    }

    /// <summary>Reserves a name a caller chose (the graph's input and output).</summary>
    public void Reserve(string name)
    {
        if (!_names.Add(name)) throw new InvalidOperationException($"The ONNX tensor name '{name}' is used twice.");
    }

    /// <summary>Adds a node with one output and returns that output's name.</summary>
    public string Node(string opType, IEnumerable<string> inputs, params AttributeProto[] attributes) =>
        NodeInto(Fresh(opType.ToLowerInvariant()), opType, inputs, attributes);

    /// <summary>Adds a node writing <paramref name="output"/> (a name the caller reserved).</summary>
    public string NodeInto(string output, string opType, IEnumerable<string> inputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = output };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        Proto.Node.Add(node);
        return output;
    }

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    /// <summary>A one-dimensional int64 constant (shapes, axes, indices), shared between nodes that use the same values.</summary>
    public string Int64s(long[] values) =>
        Constant("const_i64", TensorProto.Types.DataType.Int64, MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), new long[] { values.Length });

    /// <summary>A float32 constant (a scalar when <paramref name="shape"/> is empty and there is one value).</summary>
    public string Floats(float[] values, params long[] shape) =>
        Constant("const_f32", TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), shape);

    public string Scalar(float value) => Floats(new[] { value });

    public string Shape(params long[] dims) => Int64s(dims);

    private string Constant(string hint, TensorProto.Types.DataType type, byte[] raw, long[] shape)
    {
        var key = ((int)type).ToString(CultureInfo.InvariantCulture) + ":" + string.Join(",", shape) + ":" + Convert.ToBase64String(raw);
        if (_constants.TryGetValue(key, out var existing)) return existing;
        var name = Fresh(hint);
        AddInitializer(name, type, raw, shape);
        _constants.Add(key, name);
        return name;
    }

    /// <summary>The initializer holding <paramref name="parameter"/>, added on first use under its saved name.</summary>
    public string Parameter(Parameter parameter)
    {
        if (_names.Contains(parameter.Name)) return parameter.Name;
        Reserve(parameter.Name);
        var shape = parameter.Shape.Select(d => (long)d).ToArray();
        switch (parameter.ElementType)
        {
            case ElementType.Float32:
                AddInitializer(parameter.Name, TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes(parameter.Data.AsSpan()).ToArray(), shape);
                break;
            case ElementType.UInt8:
                AddInitializer(parameter.Name, TensorProto.Types.DataType.Uint8, parameter.Bytes, shape);
                break;
            case ElementType.Int8:
                AddInitializer(parameter.Name, TensorProto.Types.DataType.Int8, parameter.Bytes, shape);
                break;
            default:
                throw new NotSupportedException($"Parameter '{parameter.Name}' has element type {parameter.ElementType}, which the ONNX export does not know.");
        }
        return parameter.Name;
    }

    /// <summary>A float32 tensor the export computed from the parameters (OFT's rotations), under a name of its own.</summary>
    public string Derived(string name, float[] values, params long[] shape)
    {
        if (_names.Contains(name)) return name;
        Reserve(name);
        AddInitializer(name, TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), shape);
        return name;
    }

    private void AddInitializer(string name, TensorProto.Types.DataType type, byte[] raw, long[] shape)
    {
        // The raw bytes are little-endian, as ONNX requires; every platform .NET runs these kernels on is.
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("The ONNX export writes little-endian tensors.");
        var tensor = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(raw) };
        tensor.Dims.AddRange(shape);
        Proto.Initializer.Add(tensor);
    }

    /// <summary>A float32 <c>[batch, width]</c> graph input or output.</summary>
    public static ValueInfoProto Rows(string name, int width)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = width });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}
