using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;
using StructMat.Runtime;
using StructMat.Runtime.IO;
using Xunit;

namespace StructMat.Layers.Tests;

/// <summary>
/// Every layer of tests/Cases exported to ONNX and run by ONNX Runtime, an independent implementation of the operators:
/// its output must match the layer's own Forward to 1e-5 relative, structured and merged, at batch 1 and 37.
/// </summary>
public sealed class OnnxTests
{
    private const double Tolerance = 1e-5;

    [Theory]
    [MemberData(nameof(LayerCatalog.Names), MemberType = typeof(LayerCatalog))]
    public void Onnx_runtime_matches_forward(string name)
    {
        var layer = LayerCatalog.CreateRandomized(name);
        foreach (var merged in new[] { false, true })
        {
            using var session = new InferenceSession(layer.ToOnnx(merged));
            foreach (var batch in new[] { 1, 37 })
            {
                var x = Inputs(layer.InFeatures * batch, seed: batch);
                var expected = new float[layer.OutFeatures * batch];
                layer.Forward(x, expected, batch);
                var actual = Run(session, x, batch, layer.InFeatures);
                AssertClose(expected, actual, $"{name}, merged: {merged}, batch {batch}");
            }
        }
    }

    [Fact]
    public void Monarch_stays_two_block_products_unless_merged()
    {
        var layer = LayerCatalog.CreateRandomized("MonarchTwoBlocks");
        var structured = ModelProto.Parser.ParseFrom(layer.ToOnnx());
        Assert.Equal(2, structured.Graph.Node.Count(n => n.OpType == "MatMul"));
        Assert.DoesNotContain(structured.Graph.Node, n => n.OpType == "Gemm");
        var dense = (long)layer.InFeatures * layer.OutFeatures;
        Assert.All(structured.Graph.Initializer, t => Assert.True(t.Dims.Aggregate(1L, (a, d) => a * d) < dense, $"{t.Name} is as large as the dense matrix"));
        Assert.Equal(layer.Parameters.Select(p => p.Name).OrderBy(s => s),
            structured.Graph.Initializer.Where(t => !t.Name.StartsWith("const_", StringComparison.Ordinal)).Select(t => t.Name).OrderBy(s => s));

        var merged = ModelProto.Parser.ParseFrom(layer.ToOnnx(merged: true));
        Assert.Equal(new[] { "Gemm" }, merged.Graph.Node.Select(n => n.OpType));
        var weight = Assert.Single(merged.Graph.Initializer, t => t.Name == "merged.weight");
        Assert.Equal(new long[] { layer.OutFeatures, layer.InFeatures }, weight.Dims);
        // The export takes W from Forward on the identity; Merge() builds it from the float64 definition.
        var exported = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(weight.RawData.Span).ToArray();
        AssertClose(layer.Merge(), exported, "merged.weight vs Merge()");
    }

    [Fact]
    public void Model_declares_opset_dynamic_batch_and_feature_widths()
    {
        var layer = LayerCatalog.CreateRandomized("MonarchTwoBlocks");
        var model = ModelProto.Parser.ParseFrom(layer.ToOnnx());
        Assert.Equal(OnnxExport.IrVersion, model.IrVersion);
        Assert.Equal(OnnxExport.Opset, Assert.Single(model.OpsetImport).Version);
        var input = Assert.Single(model.Graph.Input);
        Assert.Equal("x", input.Name);
        Assert.Equal("batch", input.Type.TensorType.Shape.Dim[0].DimParam);
        Assert.Equal(layer.InFeatures, input.Type.TensorType.Shape.Dim[1].DimValue);
        var output = Assert.Single(model.Graph.Output);
        Assert.Equal("y", output.Name);
        Assert.Equal(layer.OutFeatures, output.Type.TensorType.Shape.Dim[1].DimValue);
    }

    private static float[] Run(InferenceSession session, float[] x, int batch, int features)
    {
        var input = new DenseTensor<float>(x, new[] { batch, features });
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("x", input) });
        return results.Single(r => r.Name == "y").AsEnumerable<float>().ToArray();
    }

    private static float[] Inputs(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }

    /// <summary>Every element within 1e-5 of the output's largest magnitude (elementwise relative error is meaningless near zero).</summary>
    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} outputs, expected {expected.Length}");
        var scale = expected.Max(v => Math.Abs((double)v));
        Assert.True(scale > 0 && double.IsFinite(scale), $"{what}: the layer's output is {scale} in magnitude");
        var worst = 0.0;
        var at = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            var d = Math.Abs((double)expected[i] - actual[i]);
            if (!(d <= worst)) { worst = d; at = i; }
        }
        Assert.True(worst <= Tolerance * scale, $"{what}: |ORT − Forward| = {worst:G3} at {at} ({actual[at]} vs {expected[at]}), {worst / scale:G3} of the largest output {scale:G3}");
    }
}
