using System;
using System.IO;
using System.Linq;
using StructMat.Runtime;
using StructMat.Runtime.IO;
using StructMat.Runtime.Kernels;
using StructMat.Runtime.Oracle;
using StructMat.Tests.Cases;
using Xunit;

namespace StructMat.Layers.Tests;

/// <summary>
/// Quantised frozen bases: QLoRA's NF4 and StructMat's int8 against tests/fixtures/qlora.safetensors (pure-Python
/// transcriptions of bitsandbytes' quantize_4bit kernel and PEFT's LoRA forward, scripts/make_fixtures.py), the kernels
/// against float64 dequantisation from the definition, and the saved layout.
/// </summary>
public class QuantizedTests
{
    [Theory]
    [InlineData("q_proj")]
    [InlineData("v_proj")]
    public void Quantize_reproduces_bitsandbytes_nf4_codes_and_absmax_and_the_layer_PEFTs_QLoRA_output(string module)
    {
        var file = SafeTensors.Read(WeightsTests.Fixture("qlora.safetensors"));
        var io = SafeTensors.Read(WeightsTests.Fixture("qlora_io.safetensors"));
        IStructuredLayer layer = module == "q_proj" ? new QloraQ() : new QloraV();
        var codes = layer.Parameters[0];
        var absmax = layer.Parameters[1];
        Assert.Equal(ElementType.UInt8, codes.ElementType);
        // Quantize from the float weights: bit-identical codes (packing, nibble order, decision thresholds) and absmax.
        Quantize(layer, file[module + ".w"].Data);
        Assert.Equal(file[module + ".nf4.weight"].Bytes, codes.Bytes);
        Assert.Equal(file[module + ".nf4.absmax"].Data, absmax.Data);
        Array.Copy(file[module + ".lora_A"].Data, layer.Parameters[2].Data, layer.Parameters[2].Length);
        Array.Copy(file[module + ".lora_B"].Data, layer.Parameters[3].Data, layer.Parameters[3].Length);
        AssertForward(layer, io[module + ".x"].Data, io[module + ".y.nf4"].Data);
    }

    [Theory]
    [InlineData("q_proj")]
    [InlineData("v_proj")]
    public void Int8_quantize_matches_the_transcribed_definition_and_the_layer_its_output(string module)
    {
        var file = SafeTensors.Read(WeightsTests.Fixture("qlora.safetensors"));
        var io = SafeTensors.Read(WeightsTests.Fixture("qlora_io.safetensors"));
        IStructuredLayer layer = module == "q_proj" ? new Int8LoraQ() : new Int8LoraV();
        Assert.Equal(ElementType.Int8, layer.Parameters[0].ElementType);
        Quantize(layer, file[module + ".w"].Data);
        Assert.Equal(file[module + ".int8.weight"].Bytes, layer.Parameters[0].Bytes);
        Assert.Equal(file[module + ".int8.scale"].Data, layer.Parameters[1].Data);
        Array.Copy(file[module + ".lora_A"].Data, layer.Parameters[2].Data, layer.Parameters[2].Length);
        Array.Copy(file[module + ".lora_B"].Data, layer.Parameters[3].Data, layer.Parameters[3].Length);
        AssertForward(layer, io[module + ".x"].Data, io[module + ".y.int8"].Data);
    }

    [Fact]
    public void A_saved_quantised_layer_stores_its_codes_as_U8_and_I8_and_loads_back_from_a_name_map()
    {
        var nf4 = LayerCatalog.CreateRandomized(nameof(QloraQ), seed: 3);
        var int8 = LayerCatalog.CreateRandomized(nameof(Int8LoraQ), seed: 4);
        var path = Path.Combine(Path.GetTempPath(), $"structmat-quant-{Guid.NewGuid():N}.safetensors");
        try
        {
            nf4.SaveSafeTensors(path);
            var content = SafeTensors.Read(path);
            Assert.Equal("U8", content["terms.0.weight"].DType);
            Assert.Equal(new[] { 24, 64 }, content["terms.0.weight"].Shape);
            Assert.Equal("F32", content["terms.0.absmax"].DType);
            Assert.Equal(new[] { 24, 2 }, content["terms.0.absmax"].Shape);
            int8.SaveSafeTensors(path);
            Assert.Equal("I8", SafeTensors.Read(path)["terms.0.weight"].DType);

            // The fixture's tensors load through a name map, and a dtype that does not fit is refused by name.
            var target = new QloraQ();
            var map = new System.Collections.Generic.Dictionary<string, string>
            {
                ["q_proj.nf4.weight"] = "terms.0.weight", ["q_proj.nf4.absmax"] = "terms.0.absmax",
                ["q_proj.lora_A"] = "terms.1.lora_A", ["q_proj.lora_B"] = "terms.1.lora_B",
            };
            SafeTensors.Load(WeightsTests.Fixture("qlora.safetensors"), target.Parameters, map, strict: false);
            Assert.Equal(SafeTensors.Read(WeightsTests.Fixture("qlora.safetensors"))["q_proj.nf4.weight"].Bytes, target.Parameters[0].Bytes);
            map["q_proj.int8.weight"] = "terms.0.weight";
            map.Remove("q_proj.nf4.weight");
            var error = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(WeightsTests.Fixture("qlora.safetensors"), target.Parameters, map, strict: false));
            Assert.Contains("'terms.0.weight' expected dtype U8, file has I8", error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_QLoRA_layer_carries_PEFTs_adapter_keys_and_its_base_none_so_only_the_adapter_loads_by_PEFT_keys()
    {
        var layer = new QloraQ();
        Assert.Null(layer.Terms0Weight.PeftKey);
        Assert.Null(layer.Terms0Absmax.PeftKey);
        Assert.Equal("lora_A.{adapter}.weight", layer.Terms1LoraA.PeftKey);
        Assert.Equal("lora_B.{adapter}.weight", layer.Terms1LoraB.PeftKey);
        var file = SafeTensors.Read(WeightsTests.Fixture("qlora.safetensors"));
        var path = Path.Combine(Path.GetTempPath(), $"structmat-qlora-{Guid.NewGuid():N}.safetensors");
        try
        {
            // An adapter_model.safetensors as save_pretrained writes it: no adapter name, no base.
            var adapter = new Parameter[]
            {
                new("base_model.model.q_proj.lora_A.weight", new[] { 4, 128 }, trainable: false),
                new("base_model.model.q_proj.lora_B.weight", new[] { 24, 4 }, trainable: false),
            };
            file["q_proj.lora_A"].Data.CopyTo(adapter[0].Data, 0);
            file["q_proj.lora_B"].Data.CopyTo(adapter[1].Data, 0);
            SafeTensors.Save(path, adapter);
            layer.LoadPeft(path, "base_model.model.q_proj", adapter: null, adapterOnly: true);
            Assert.Equal(file["q_proj.lora_A"].Data, layer.Terms1LoraA.Data);
            var error = Assert.Throws<ArgumentException>(() => layer.LoadPeft(path, "base_model.model.q_proj", adapter: null));
            Assert.Contains("'terms.0.weight' has no PEFT key", error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(QuantFormat.Nf4, 40, 400, 16, 1)]
    [InlineData(QuantFormat.Nf4, 40, 400, 16, 37)]
    [InlineData(QuantFormat.Nf4, 17, 12, 4, 300)]   // groups of 4: the element-by-element path; 300 rows: two 256-row tiles
    [InlineData(QuantFormat.Int8, 33, 20, 0, 9)]    // 20 = two 8-wide runs and a tail
    [InlineData(QuantFormat.Int8, 24, 800, 0, 5)]   // three KC slices
    [InlineData(QuantFormat.Int8, 27, 800, 0, 1)]   // one row: decoded in registers, the last 3 outputs one by one
    [InlineData(QuantFormat.Nf4, 27, 448, 64, 11)]
    public void Kernels_match_float64_dequantisation_forward_and_transposed(QuantFormat format, int outFeatures, int inFeatures, int group, int batch)
    {
        var random = new Random(outFeatures * 1000 + inFeatures);
        var (codeLength, scaleLength) = QuantizedKernels.Lengths(format, outFeatures, inFeatures, group);
        var codes = new byte[codeLength];
        random.NextBytes(codes);
        var scales = Enumerable.Range(0, (int)scaleLength).Select(_ => (float)random.NextDouble()).ToArray();
        var w = format == QuantFormat.Nf4
            ? DenseMath.DequantizeNf4(codes, scales, outFeatures, inFeatures, group)
            : DenseMath.DequantizeInt8(codes, scales, outFeatures, inFeatures);
        var x = Oracle.RandomVector(batch * inFeatures, seed: 1);
        var dy = Oracle.RandomVector(batch * outFeatures, seed: 2);
        var y = Oracle.RandomVector(batch * outFeatures, seed: 3);
        var dx = Oracle.RandomVector(batch * inFeatures, seed: 4);
        var y0 = y.ToArray();
        var dx0 = dx.ToArray();
        QuantizedKernels.Apply(x, y, codes, scales, format, batch, outFeatures, inFeatures, group, alpha: 0.5f, accumulate: true);
        QuantizedKernels.ApplyTransposed(dy, dx, codes, scales, format, batch, outFeatures, inFeatures, group, alpha: 2f, accumulate: false);
        var yExpected = new double[batch * outFeatures];
        var dxExpected = new double[batch * inFeatures];
        for (var b = 0; b < batch; b++)
        {
            for (var o = 0; o < outFeatures; o++)
            {
                double s = 0;
                for (var i = 0; i < inFeatures; i++) s += w[o * inFeatures + i] * x[b * inFeatures + i];
                yExpected[b * outFeatures + o] = y0[b * outFeatures + o] + 0.5 * s;
            }
            for (var i = 0; i < inFeatures; i++)
            {
                double s = 0;
                for (var o = 0; o < outFeatures; o++) s += w[o * inFeatures + i] * dy[b * outFeatures + o];
                dxExpected[b * inFeatures + i] = 2 * s;
            }
        }
        Assert.True(Oracle.RelativeError(y, yExpected) < 1e-5, $"forward {Oracle.RelativeError(y, yExpected):E2}");
        Assert.True(Oracle.RelativeError(dx, dxExpected) < 1e-5, $"transposed {Oracle.RelativeError(dx, dxExpected):E2}");
        Assert.Equal(dx0.Length, dx.Length);
    }

    [Theory]
    [InlineData(QuantFormat.Nf4, 29, 784, 16, true)]
    [InlineData(QuantFormat.Nf4, 40, 768, 64, false)]
    [InlineData(QuantFormat.Int8, 29, 784, 0, true)]
    [InlineData(QuantFormat.Int8, 45, 392, 0, false)]
    public void A_row_alone_and_in_a_batch_of_forty_come_out_bit_for_bit_the_same(QuantFormat format, int outFeatures, int inFeatures, int group, bool accumulate)
    {
        // A few rows decode into registers, many run on dequantised panels: the sums must be the same chain.
        var random = new Random(5);
        var (codeLength, scaleLength) = QuantizedKernels.Lengths(format, outFeatures, inFeatures, group);
        var codes = new byte[codeLength];
        random.NextBytes(codes);
        var scales = Enumerable.Range(0, (int)scaleLength).Select(_ => (float)random.NextDouble()).ToArray();
        const int batch = 40;
        var x = Oracle.RandomVector(batch * inFeatures, seed: 6);
        var y = Oracle.RandomVector(batch * outFeatures, seed: 7);
        var start = y.ToArray();
        QuantizedKernels.Apply(x, y, codes, scales, format, batch, outFeatures, inFeatures, group, alpha: 1.5f, accumulate);
        foreach (var rows in new[] { 1, 3, 8, 16 })
        {
            for (var b0 = 0; b0 + rows <= batch; b0 += rows)
            {
                var part = start.AsSpan(b0 * outFeatures, rows * outFeatures).ToArray();
                QuantizedKernels.Apply(x.AsSpan(b0 * inFeatures, rows * inFeatures), part, codes, scales, format, rows, outFeatures, inFeatures, group, alpha: 1.5f, accumulate);
                Assert.Equal(y.AsSpan(b0 * outFeatures, rows * outFeatures).ToArray(), part);
            }
        }
    }

    [Fact]
    public void Quantisation_picks_the_nearest_level_over_the_group_absmax_and_packs_the_first_weight_high()
    {
        // Independent of the kernels' thresholds: the nearest level by distance in float64, absmax per group of 8.
        double[] levels =
        {
            -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334,
            -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
            0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
        };
        var w = Oracle.RandomVector(3 * 16, seed: 9);
        w[5] = 0f; // a zero weight is code 7
        var codes = new byte[3 * 8];
        var absmax = new float[3 * 2];
        QuantizedKernels.QuantizeNf4(w, 3, 16, 8, codes, absmax);
        for (var e = 0; e < w.Length; e++)
        {
            var m = w.Skip(e / 8 * 8).Take(8).Max(Math.Abs);
            Assert.Equal(m, absmax[e / 8]);
            var nearest = Enumerable.Range(0, 16).OrderBy(c => Math.Abs(levels[c] - w[e] / (double)m)).First();
            var code = e % 2 == 0 ? codes[e / 2] >> 4 : codes[e / 2] & 15;
            Assert.Equal(nearest, code);
        }
        Assert.Equal(7, codes[2] & 15);
        // An all-zero group: absmax 0 and code 0, as bitsandbytes' kernel writes it (0 · (1/0) is NaN, its tree's last
        // branch), and zeros back.
        var zeros = new byte[] { 0xFF, 0xFF, 0xFF, 0xFF };
        var zeroMax = new float[1];
        QuantizedKernels.QuantizeNf4(new float[8], 1, 8, 8, zeros, zeroMax);
        Assert.Equal(0f, zeroMax[0]);
        Assert.All(zeros, b => Assert.Equal(0, b));
        Assert.All(DenseMath.DequantizeNf4(zeros, zeroMax, 1, 8, 8), v => Assert.Equal(0.0, v));
    }

    [Fact]
    public void Code_tensors_are_bytes_frozen_and_refuse_a_float_view()
    {
        var layer = new Qlora();
        var codes = layer.Parameters.Single(p => p.Name == "terms.0.weight");
        Assert.False(codes.Trainable);
        Assert.Equal(new[] { 24, 8 }, codes.Shape);
        var error = Assert.Throws<InvalidOperationException>(() => codes.Data);
        Assert.Contains("holds UInt8 codes", error.Message);
        Assert.Throws<ArgumentException>(() => new Parameter("q", new[] { 4 }, trainable: true, elementType: ElementType.Int8));
        Assert.Throws<ArgumentException>(() => layer.Quantize(new float[3]));
        Assert.Throws<ArgumentException>(() => layer.Quantize(new float[24 * 16], "terms.1.lora_A"));
    }

    private static void Quantize(IStructuredLayer layer, float[] weight)
    {
        switch (layer)
        {
            case QloraQ q: q.Quantize(weight); break;
            case QloraV v: v.Quantize(weight); break;
            case Int8LoraQ q: q.Quantize(weight); break;
            case Int8LoraV v: v.Quantize(weight); break;
            default: throw new ArgumentException(layer.GetType().Name);
        }
    }

    private static void AssertForward(IStructuredLayer layer, float[] x, float[] expectedY)
    {
        var batch = x.Length / layer.InFeatures;
        var y = new float[batch * layer.OutFeatures];
        layer.Forward(x, y, batch);
        var expected = expectedY.Select(v => (double)v).ToArray();
        Assert.True(Oracle.RelativeError(y, expected) < 1e-5, $"{layer.GetType().Name}: {Oracle.RelativeError(y, expected):E2}");
    }
}
