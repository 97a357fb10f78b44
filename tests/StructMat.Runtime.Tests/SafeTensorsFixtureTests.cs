using System;
using System.IO;
using System.Linq;
using StructMat.Runtime.IO;
using StructMat.Runtime.Oracle;
using Xunit;

namespace StructMat.Runtime.Tests;

/// <summary>
/// Interoperability: the files of <c>tests/fixtures/</c>, written by <c>scripts/make_fixtures.py</c> with the tensor
/// names and layouts of fly's <c>MonarchLinear</c> and PEFT's LoRA and HRA layers and their expected outputs computed
/// in the script (fly's <c>blockdiag_butterfly_multiply_reference</c> version 2, PEFT's formulas). Reading each file
/// and applying the design's interpretation of its tensors (the dense oracle) must reproduce the script's y.
/// </summary>
public class SafeTensorsFixtureTests
{
    private const double Tolerance = 1e-5;

    private static string Fixture(string name)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "StructMat.sln")))
            {
                string path = Path.Combine(directory.FullName, "tests", "fixtures", name);
                Assert.True(File.Exists(path), $"Fixture {path} is missing; run python3 scripts/make_fixtures.py.");
                return path;
            }
        }
        throw new InvalidOperationException($"No StructMat.sln above {AppContext.BaseDirectory}.");
    }

    private static Tensor Expect(SafeTensorsContent content, string name, params int[] shape)
    {
        Assert.True(content.Tensors.TryGetValue(name, out var tensor), $"tensor '{name}' missing; the file has {string.Join(", ", content.Tensors.Keys)}");
        Assert.Equal("F32", tensor!.DType);
        Assert.Equal(shape, tensor.Shape);
        return tensor;
    }

    /// <summary>y [batch, out] = x [batch, in] · wᵀ (w [out, in]) + bias, in float64.</summary>
    private static double[] Apply(double[] w, float[] x, float[]? bias, int batch, int inFeatures, int outFeatures)
    {
        var y = new double[batch * outFeatures];
        for (int b = 0; b < batch; b++)
            for (int o = 0; o < outFeatures; o++)
            {
                double sum = bias is null ? 0 : bias[o];
                for (int i = 0; i < inFeatures; i++) sum += w[o * inFeatures + i] * x[b * inFeatures + i];
                y[b * outFeatures + o] = sum;
            }
        return y;
    }

    private static void AssertClose(float[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int k = 0; k < expected.Length; k++)
            Assert.True(Math.Abs(expected[k] - actual[k]) <= Tolerance * Math.Max(1.0, Math.Abs(expected[k])),
                $"y[{k}]: fixture {expected[k]}, computed {actual[k]}");
    }

    [Fact]
    public void MonarchFly_FlysLayoutReadFromTheFile_GivesFlysOutput()
    {
        var weights = SafeTensors.ReadContent(Fixture("monarch_fly.safetensors"));
        Assert.Equal(new[] { "bias", "blkdiag1", "blkdiag2" }, weights.Tensors.Keys.ToArray());
        var blkdiag1 = Expect(weights, "blkdiag1", 4, 3, 3);
        var blkdiag2 = Expect(weights, "blkdiag2", 4, 5, 3);
        var bias = Expect(weights, "bias", 20);

        var io = SafeTensors.ReadContent(Fixture("monarch_fly_io.safetensors"));
        var x = Expect(io, "x", 2, 12);
        var y = Expect(io, "y", 2, 20);

        var dense = DenseMath.Monarch(blkdiag1.Data, 4, 3, 3, blkdiag2.Data, 4, 5, 3);
        var computed = Apply(dense, x.Data, bias.Data, 2, 12, 20);
        AssertClose(y.Data, computed);

        // The check can fail: blkdiag2 read with the wrong inner layout ([l, r, s] instead of [l, s, r]) disagrees.
        var transposed = new float[blkdiag2.Data.Length];
        for (int l = 0; l < 4; l++)
            for (int s = 0; s < 5; s++)
                for (int r = 0; r < 3; r++)
                    transposed[(l * 5 + s) * 3 + r] = blkdiag2.Data[(l * 3 + r) * 5 + s];
        var wrong = Apply(DenseMath.Monarch(blkdiag1.Data, 4, 3, 3, transposed, 4, 5, 3), x.Data, bias.Data, 2, 12, 20);
        Assert.Contains(Enumerable.Range(0, wrong.Length), k => Math.Abs(wrong[k] - y.Data[k]) > 1e-2);
    }

    [Fact]
    public void MonarchFly_LoadsIntoParametersNamedAsTheDesignSays()
    {
        var parameters = new[]
        {
            new Parameter("blkdiag1", new[] { 4, 3, 3 }, trainable: true),
            new Parameter("blkdiag2", new[] { 4, 5, 3 }, trainable: true),
            new Parameter("bias", new[] { 20 }, trainable: true),
        };
        SafeTensors.Load(Fixture("monarch_fly.safetensors"), parameters);
        var tensors = SafeTensors.Read(Fixture("monarch_fly.safetensors"));
        foreach (var parameter in parameters) Assert.Equal(tensors[parameter.Name].Data, parameter.Data);
        Assert.Contains(parameters[0].Data, v => v != 0f);
    }

    [Fact]
    public void LoraPeft_W0PlusScaleTimesBA_GivesTheExpectedOutput()
    {
        var weights = SafeTensors.ReadContent(Fixture("lora_peft.safetensors"));
        Assert.Equal(3, weights.Tensors.Count);
        var w0 = Expect(weights, "base_layer.weight", 8, 10);
        var a = Expect(weights, "lora_A.weight", 3, 10);
        var b = Expect(weights, "lora_B.weight", 8, 3);
        Assert.Equal("3", weights.Metadata["r"]);
        Assert.Equal("6", weights.Metadata["lora_alpha"]);
        double scale = double.Parse(weights.Metadata["scale"], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(2.0, scale);

        var io = SafeTensors.ReadContent(Fixture("lora_peft_io.safetensors"));
        var x = Expect(io, "x", 2, 10);
        var y = Expect(io, "y", 2, 8);

        var w = DenseMath.Add(DenseMath.FromFloat(w0.Data), DenseMath.Scale(DenseMath.MatMul(DenseMath.FromFloat(b.Data), DenseMath.FromFloat(a.Data), 8, 3, 10), scale));
        AssertClose(y.Data, Apply(w, x.Data, null, 2, 10, 8));

        // Without the adapter the output is different: the fixture exercises lora_A and lora_B.
        var baseOnly = Apply(DenseMath.FromFloat(w0.Data), x.Data, null, 2, 10, 8);
        Assert.Contains(Enumerable.Range(0, baseOnly.Length), k => Math.Abs(baseOnly[k] - y.Data[k]) > 1e-2);
    }

    [Fact]
    public void HraPeft_W0TimesHouseholderChain_GivesTheExpectedOutput()
    {
        var weights = SafeTensors.ReadContent(Fixture("hra_peft.safetensors"));
        Assert.Equal(2, weights.Tensors.Count);
        var w0 = Expect(weights, "base_layer.weight", 6, 6);
        var u = Expect(weights, "hra_u", 6, 4);

        var io = SafeTensors.ReadContent(Fixture("hra_peft_io.safetensors"));
        var x = Expect(io, "x", 2, 6);
        var y = Expect(io, "y", 2, 6);

        var h = DenseMath.Householder(u.Data, 6, 4);
        var w = DenseMath.MatMul(DenseMath.FromFloat(w0.Data), h, 6, 6, 6);
        AssertClose(y.Data, Apply(w, x.Data, null, 2, 6, 6));

        // H · W0 (the other order) does not match: the order is what the fixture pins down.
        var reversed = DenseMath.MatMul(h, DenseMath.FromFloat(w0.Data), 6, 6, 6);
        var wrong = Apply(reversed, x.Data, null, 2, 6, 6);
        Assert.Contains(Enumerable.Range(0, wrong.Length), k => Math.Abs(wrong[k] - y.Data[k]) > 1e-2);
    }

    [Theory]
    [InlineData("monarch_fly.safetensors")]
    [InlineData("monarch_fly_io.safetensors")]
    [InlineData("lora_peft.safetensors")]
    [InlineData("lora_peft_io.safetensors")]
    [InlineData("hra_peft.safetensors")]
    [InlineData("hra_peft_io.safetensors")]
    public void Writer_ReproducesThePythonWritersBytes(string name)
    {
        // Two independent writers (the script's and ours) agree byte for byte, padding included.
        string path = Fixture(name);
        var content = SafeTensors.ReadContent(path);
        var parameters = content.Tensors.Select(t =>
        {
            var parameter = new Parameter(t.Key, t.Value.Shape, trainable: false);
            t.Value.Data.CopyTo(parameter.Data, 0);
            return parameter;
        });
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(0UL, System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(bytes) % 8);
        Assert.Equal(bytes, SafeTensors.Serialize(parameters, content.Metadata));
    }
}
