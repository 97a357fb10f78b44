using System;
using System.IO;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using StructMat.Cli.Tests.Infrastructure;
using StructMat.Runtime;
using StructMat.Runtime.IO;
using Xunit;

namespace StructMat.Cli.Tests;

/// <summary><c>smx onnx</c>: the model it writes runs in ONNX Runtime and computes the weights it was given.</summary>
public class OnnxCommandTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_projected_block_diagonal_exported_to_onnx_computes_the_dense_weight_it_came_from(bool merged)
    {
        using var temp = new TempFolder("onnx");
        var smx = Path.Combine(Repo.Cases, "blockdiag.smx");
        // A random 4-block block-diagonal [8, 12] weight, written by hand: projecting it reproduces it exactly.
        var random = new Random(5);
        var weight = new Parameter("weight", new[] { 8, 12 }, trainable: false);
        for (var i = 0; i < 8; i++) for (var j = 0; j < 12; j++) weight.Data[i * 12 + j] = i / 2 == j / 3 ? (float)(random.NextDouble() * 2 - 1) : 0;
        var dense = temp.Combine("dense.safetensors");
        SafeTensors.Save(dense, new[] { weight });
        var blocks = temp.Combine("blocks.safetensors");
        var project = Smx.Run("project", smx, "--layer", "Blocks", "--from", dense, "-o", blocks);
        Assert.True(project.ExitCode == ExitCodes.Ok, project.Describe());

        var model = temp.Combine("blocks.onnx");
        var args = new[] { "onnx", smx, "--layer", "Blocks", "--weights", blocks, "-o", model }.Concat(merged ? new[] { "--merged" } : Array.Empty<string>()).ToArray();
        var result = Smx.Run(args);
        Assert.True(result.ExitCode == ExitCodes.Ok, result.Describe());
        Assert.Contains("opset 17", result.Out);

        const int batch = 5;
        var x = Enumerable.Range(0, batch * 12).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        using var session = new InferenceSession(model);
        using var outputs = session.Run(new[] { NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(x, new[] { batch, 12 })) });
        var y = outputs.Single().AsEnumerable<float>().ToArray();
        Assert.Equal(batch * 8, y.Length);
        for (var b = 0; b < batch; b++)
            for (var o = 0; o < 8; o++)
            {
                double expected = 0;
                for (var i = 0; i < 12; i++) expected += (double)weight.Data[o * 12 + i] * x[b * 12 + i];
                Assert.True(Math.Abs(expected - y[b * 8 + o]) <= 1e-5, $"row {b}, output {o}: {y[b * 8 + o]} vs {expected}");
            }
    }

    [Fact]
    public void Without_an_output_it_is_a_usage_error()
    {
        var result = Smx.Run("onnx", Path.Combine(Repo.Cases, "blockdiag.smx"), "--layer", "Blocks");
        Assert.True(result.ExitCode == ExitCodes.Usage, result.Describe());
        Assert.Contains("-o OUT.onnx", result.Error);
    }

    [Fact]
    public void Weights_of_another_layer_fail_in_one_line()
    {
        using var temp = new TempFolder("onnx-wrong");
        var wrong = temp.Combine("wrong.safetensors");
        SafeTensors.Save(wrong, new[] { new Parameter("weight", new[] { 3, 3 }, trainable: false) });
        var result = Smx.Run("onnx", Path.Combine(Repo.Cases, "blockdiag.smx"), "--layer", "Blocks", "--weights", wrong, "-o", temp.Combine("out.onnx"));
        Assert.True(result.ExitCode == ExitCodes.Failed, result.Describe());
        var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("smx: ", line);
        Assert.False(File.Exists(temp.Combine("out.onnx")));
    }
}
