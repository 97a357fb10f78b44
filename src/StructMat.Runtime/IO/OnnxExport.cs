using System;
using System.IO;
using System.Linq;
using Google.Protobuf;
using Onnx;
using StructMat.Runtime.IO.Onnx;

namespace StructMat.Runtime.IO;

/// <summary>
/// Writes a layer as an ONNX model (opset <see cref="Opset"/>, IR version <see cref="IrVersion"/>): one input
/// <c>x [batch, in]</c> and one output <c>y [batch, out]</c>, float32, batch dynamic. By default the graph keeps the
/// structure — the layer's forward program op by op, its parameters as initializers under their saved names (see
/// <see cref="OnnxGraphBuilder"/> for what each op becomes); <c>merged: true</c> writes one Gemm with the merged dense
/// weight and the layer's bias.
/// </summary>
public static class OnnxExport
{
    /// <summary>The ONNX operator set the graphs use (the default domain only).</summary>
    public const int Opset = 17;

    /// <summary>The ONNX IR version written (the one that goes with <see cref="Opset"/>).</summary>
    public const int IrVersion = 8;

    public const string InputName = "x";

    public const string OutputName = "y";

    /// <summary>protobuf's limit on one message: larger models would need ONNX's external data, which is not written.</summary>
    private const long MaxModelBytes = int.MaxValue;

    /// <summary>Writes <paramref name="layer"/> to <paramref name="path"/> as an ONNX model (see <see cref="OnnxExport"/>).</summary>
    public static void SaveOnnx(this IStructuredLayer layer, string path, bool merged = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        var bytes = ToOnnx(layer, merged);
        File.WriteAllBytes(path, bytes);
    }

    /// <summary>The ONNX model of <paramref name="layer"/>, serialised.</summary>
    public static byte[] ToOnnx(this IStructuredLayer layer, bool merged = false)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var model = Model(layer, merged);
        var size = model.CalculateSize();
        if (size >= MaxModelBytes)
            throw new NotSupportedException($"The ONNX model of {layer.GetType().Name} would take {size} bytes; a model over 2 GiB needs ONNX external data, which SaveOnnx does not write.");
        return model.ToByteArray();
    }

    private static ModelProto Model(IStructuredLayer layer, bool merged)
    {
        var graph = new OnnxGraph();
        graph.Reserve(InputName);
        graph.Reserve(OutputName);
        var name = layer.GetType().Name;
        if (merged)
        {
            Merged(graph, layer);
        }
        else
        {
            if (layer is not IOnnxExportable exportable)
                throw new NotSupportedException($"{layer.GetType().FullName} does not implement {nameof(IOnnxExportable)}: only generated layers can be exported op by op (merged: true works for any layer).");
            var builder = new OnnxGraphBuilder(graph);
            exportable.WriteOnnx(builder);
            builder.End();
            if (builder.InputWidth != layer.InFeatures || builder.OutputWidth != layer.OutFeatures)
                throw new InvalidOperationException($"{name}'s ONNX program maps {builder.InputWidth} to {builder.OutputWidth} features; the layer maps {layer.InFeatures} to {layer.OutFeatures}.");
        }
        graph.Proto.Name = name + (merged ? " (merged)" : "");
        graph.Proto.Input.Add(OnnxGraph.Rows(InputName, layer.InFeatures));
        graph.Proto.Output.Add(OnnxGraph.Rows(OutputName, layer.OutFeatures));
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "StructMat",
            ProducerVersion = typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "",
            DocString = $"{layer.GetType().FullName}: {layer.InFeatures} -> {layer.OutFeatures}, {layer.ParameterCount} parameters, {layer.FlopsPerRow} multiply-adds per row" + (merged ? " (merged to one dense weight)" : ""),
            Graph = graph.Proto,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return model;
    }

    /// <summary>
    /// <c>y = x Wᵀ + b</c>: the layer applied to the identity gives each input's column of W plus the bias b (its output at
    /// x = 0), so the merged weight costs one Forward of <c>in</c> rows on the layer's own kernels. (<see cref="IStructuredLayer.Merge"/>
    /// gives the same W from the float64 definition, but at O(n³) for products of factors: minutes at n = 4096.)
    /// </summary>
    private static void Merged(OnnxGraph graph, IStructuredLayer layer)
    {
        int inFeatures = layer.InFeatures, outFeatures = layer.OutFeatures;
        var bias = new float[outFeatures];
        layer.Forward(new float[inFeatures], bias, 1);
        var weight = new float[(long)outFeatures * inFeatures];
        // The identity's rows a chunk at a time, so the scratch stays small for wide layers.
        const int Chunk = 256;
        var rows = new float[(long)Math.Min(Chunk, inFeatures) * inFeatures];
        var columns = new float[(long)Math.Min(Chunk, inFeatures) * outFeatures];
        for (var first = 0; first < inFeatures; first += Chunk)
        {
            var count = Math.Min(Chunk, inFeatures - first);
            Array.Clear(rows);
            for (var r = 0; r < count; r++) rows[(long)r * inFeatures + first + r] = 1f;
            layer.Forward(rows.AsSpan(0, count * inFeatures), columns.AsSpan(0, count * outFeatures), count);
            for (var r = 0; r < count; r++)
                for (var o = 0; o < outFeatures; o++)
                    weight[(long)o * inFeatures + first + r] = columns[(long)r * outFeatures + o] - bias[o];
        }
        var w = graph.Derived("merged.weight", weight, outFeatures, inFeatures);
        var inputs = bias.Any(b => b != 0f) ? new[] { InputName, w, graph.Derived("merged.bias", bias, outFeatures) } : new[] { InputName, w };
        graph.NodeInto(OutputName, "Gemm", inputs, OnnxGraph.Int("transB", 1));
    }
}
