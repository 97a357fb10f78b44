using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using StructMat.Runtime;
using StructMat.Runtime.IO;
using StructMat.Tests.Cases;
using Xunit;

namespace StructMat.Layers.Tests;

/// <summary>
/// .safetensors weights: generated layers round-trip, and files with fly's MonarchLinear and PEFT's
/// LoRA/HRA names and layouts (tests/fixtures, made by scripts/make_fixtures.py) load and reproduce the
/// outputs those modules compute.
/// </summary>
public class WeightsTests
{
    internal static string Fixture(string name)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "StructMat.sln"))) directory = directory.Parent;
        return Path.Combine(directory?.FullName ?? throw new InvalidOperationException("repository root not found"), "tests", "fixtures", name);
    }

    private static void AssertReproduces(IStructuredLayer layer, string ioFile)
    {
        var io = SafeTensors.Read(Fixture(ioFile));
        var batch = io["x"].Shape[0];
        var y = new float[batch * layer.OutFeatures];
        layer.Forward(io["x"].Data, y, batch);
        var expected = io["y"].Data.Select(v => (double)v).ToArray();
        Assert.True(Oracle.RelativeError(y, expected) < 1e-5, $"{layer.GetType().Name}: {Oracle.RelativeError(y, expected):E2}");
    }

    [Fact]
    public void A_fly_MonarchLinear_file_loads_by_its_own_names_and_gives_fly_outputs()
    {
        var layer = new FlyMonarch();
        layer.LoadSafeTensors(Fixture("monarch_fly.safetensors")); // strict: blkdiag1, blkdiag2, bias and nothing else
        AssertReproduces(layer, "monarch_fly_io.safetensors");
    }

    [Fact]
    public void A_PEFT_LoRA_file_loads_with_the_PEFT_name_map_and_gives_PEFT_outputs()
    {
        var layer = new PeftLora();
        layer.LoadSafeTensors(Fixture("lora_peft.safetensors"), new Dictionary<string, string>
        {
            ["base_layer.weight"] = "terms.0.weight", ["lora_A.weight"] = "terms.1.lora_A", ["lora_B.weight"] = "terms.1.lora_B",
        });
        AssertReproduces(layer, "lora_peft_io.safetensors");
    }

    [Fact]
    public void A_PEFT_HRA_file_loads_with_the_PEFT_name_map_and_gives_PEFT_outputs()
    {
        var layer = new PeftHra();
        layer.LoadSafeTensors(Fixture("hra_peft.safetensors"), new Dictionary<string, string>
        {
            ["base_layer.weight"] = "factors.0.weight", ["hra_u"] = "factors.1.hra_u",
        });
        AssertReproduces(layer, "hra_peft_io.safetensors");
    }

    public static IEnumerable<object[]> PeftOftModules => new[]
    {
        new object[] { nameof(PeftOftQ), "q_proj", "neumann5" }, new object[] { nameof(PeftOftQExact), "q_proj", "exact" },
        new object[] { nameof(PeftOftV), "v_proj", "neumann5" }, new object[] { nameof(PeftOftVExact), "v_proj", "exact" },
    };

    /// <summary>
    /// One module of a two-module PEFT OFT state dict (keys with the adapter name "default") loads; forward and merge give
    /// what PEFT's OFTRotationModule.forward and Linear.merge compute, transcribed in scripts/make_fixtures.py from
    /// huggingface/peft src/peft/tuners/oft/layer.py at 5d602fdbff04c33c1c4de55cda9d4ae1d7cb7e40, for a rectangular
    /// (q_proj, 12 -> 8) and a square (v_proj, 12 -> 12) base, in PEFT's default series mode and its exact mode.
    /// </summary>
    [Theory]
    [MemberData(nameof(PeftOftModules))]
    public void A_PEFT_OFT_module_loads_and_gives_PEFT_outputs_and_merge(string layerName, string module, string mode)
    {
        var layer = LayerCatalog.Create(layerName);
        layer.LoadPeft(Fixture("oft_peft.safetensors"), "base_model.model.layers.0." + module); // the file also holds the other module
        var io = SafeTensors.Read(Fixture("oft_peft_io.safetensors"));
        var batch = io["x"].Shape[0];
        var y = new float[batch * layer.OutFeatures];
        layer.Forward(io["x"].Data, y, batch);
        var expected = io[module + ".y." + mode].Data.Select(v => (double)v).ToArray();
        Assert.True(Oracle.RelativeError(y, expected) < 1e-5, $"forward: {Oracle.RelativeError(y, expected):E2}");
        var merged = io[module + ".merged." + mode].Data.Select(v => (double)v).ToArray();
        Assert.True(Oracle.RelativeError(layer.Merge(), merged) < 1e-6, $"merge: {Oracle.RelativeError(layer.Merge(), merged):E2}");
    }

    /// <summary>
    /// PEFT BOFT modules (boft_R [3, 8, 2, 2], boft_s [out, 1] into the [out] diag, the base bias of q_proj into the
    /// layer's bias) load by PEFT's keys and give what BOFT's Linear.forward computes (transcribed in
    /// scripts/make_fixtures.py from huggingface/peft src/peft/tuners/boft/layer.py at 5d602fdbff04c33c1c4de55cda9d4ae1d7cb7e40).
    /// </summary>
    [Theory]
    [InlineData(nameof(PeftBoftQ), "q_proj")]
    [InlineData(nameof(PeftBoftV), "v_proj")]
    public void A_PEFT_BOFT_module_loads_and_gives_PEFT_outputs(string layerName, string module)
    {
        var layer = LayerCatalog.Create(layerName);
        layer.LoadPeft(Fixture("boft_peft.safetensors"), "base_model.model.layers.0." + module);
        var io = SafeTensors.Read(Fixture("boft_peft_io.safetensors"));
        var y = new float[2 * layer.OutFeatures];
        layer.Forward(io["x"].Data, y, 2);
        var expected = io[module + ".y"].Data.Select(v => (double)v).ToArray();
        Assert.True(Oracle.RelativeError(y, expected) < 1e-5, $"forward: {Oracle.RelativeError(y, expected):E2}");
    }

    /// <summary>
    /// PEFT LoHa modules (hada_w1_a = operand 0's lora_B, hada_w1_b its lora_A, hada_w2_* operand 1's) load by PEFT's
    /// keys and give base_layer(x) + x ((w1a w1b) ∘ (w2a w2b) · scale)ᵀ, transcribed in scripts/make_fixtures.py from
    /// huggingface/peft src/peft/tuners/loha/layer.py at 5d602fdbff04c33c1c4de55cda9d4ae1d7cb7e40.
    /// </summary>
    [Theory]
    [InlineData(nameof(PeftLohaQ), "q_proj")]
    [InlineData(nameof(PeftLohaV), "v_proj")]
    public void A_PEFT_LoHa_module_loads_and_gives_PEFT_outputs(string layerName, string module)
    {
        var layer = LayerCatalog.Create(layerName);
        layer.LoadPeft(Fixture("loha_peft.safetensors"), "base_model.model.layers.0." + module);
        var io = SafeTensors.Read(Fixture("loha_peft_io.safetensors"));
        var y = new float[2 * layer.OutFeatures];
        layer.Forward(io["x"].Data, y, 2);
        var expected = io[module + ".y"].Data.Select(v => (double)v).ToArray();
        Assert.True(Oracle.RelativeError(y, expected) < 1e-5, $"forward: {Oracle.RelativeError(y, expected):E2}");
    }

    /// <summary>
    /// PEFT DoRA modules (lora_magnitude_vector into the diag, the base bias of q_proj into the layer's bias) load by
    /// PEFT's keys and give Linear.forward with DoraLinearLayer (base_result plus (m / ‖W + sBA‖ − 1)·(base_result − bias)
    /// + m / ‖W + sBA‖ · s·B A x), transcribed in scripts/make_fixtures.py from huggingface/peft
    /// src/peft/tuners/lora/dora.py and variants.py at 5d602fdbff04c33c1c4de55cda9d4ae1d7cb7e40.
    /// </summary>
    [Theory]
    [InlineData(nameof(PeftDoraQ), "q_proj")]
    [InlineData(nameof(PeftDoraV), "v_proj")]
    public void A_PEFT_DoRA_module_loads_and_gives_PEFT_outputs(string layerName, string module)
    {
        var layer = LayerCatalog.Create(layerName);
        layer.LoadPeft(Fixture("dora_peft.safetensors"), "base_model.model.layers.0." + module);
        var io = SafeTensors.Read(Fixture("dora_peft_io.safetensors"));
        var y = new float[2 * layer.OutFeatures];
        layer.Forward(io["x"].Data, y, 2);
        var expected = io[module + ".y"].Data.Select(v => (double)v).ToArray();
        Assert.True(Oracle.RelativeError(y, expected) < 1e-5, $"forward: {Oracle.RelativeError(y, expected):E2}");
    }

    /// <summary>A saved DoRA adapter (PEFT's save_pretrained: no base, no adapter name, the magnitude without ".weight") loads.</summary>
    [Fact]
    public void A_saved_PEFT_DoRA_adapter_file_loads_its_magnitude_under_PEFTs_saved_key()
    {
        var layer = new PeftDoraV();
        layer.LoadPeft(Fixture("dora_peft.safetensors"), "base_model.model.layers.0.v_proj"); // the base, from the full state dict
        var expected = layer.Parameters.Select(p => p.Data.ToArray()).ToList();
        foreach (var p in layer.Parameters.Where(p => p.Trainable)) Array.Clear(p.Data);
        layer.LoadPeft(Fixture("dora_peft_adapter.safetensors"), "base_model.model.layers.0.v_proj", adapter: null, adapterOnly: true);
        for (var k = 0; k < expected.Count; k++) Assert.Equal(expected[k], layer.Parameters[k].Data);
        Assert.Equal("m.lora_magnitude_vector", PeftNames.Key(layer.Factors0Diag, "m", adapter: null));
    }

    /// <summary>DoRA's init (the magnitude at the row norms of W0 + sBA, B = 0) makes a new layer equal to its frozen base.</summary>
    [Fact]
    public void A_new_DoRA_layer_starts_equal_to_its_frozen_base()
    {
        var layer = new PeftDoraV(seed: 3);
        var dense = layer.ToDenseDouble();
        var w0 = layer.Factors1Terms0Weight.Data;
        for (var e = 0; e < w0.Length; e++) Assert.True(Math.Abs(dense[e] - w0[e]) < 1e-6, $"element {e}: {dense[e]} vs {w0[e]}");
        Assert.NotEqual(1f, layer.Factors0Diag.Data[0]); // the norms, not the diag's usual ones
    }

    [Fact]
    public void A_saved_PEFT_adapter_file_loads_its_module_without_the_base_and_without_the_adapter_name()
    {
        var layer = new PeftOftV();
        layer.LoadPeft(Fixture("oft_peft.safetensors"), "base_model.model.layers.0.v_proj"); // the base, from the full state dict
        Array.Clear(layer.Factors1OftR.Data);
        layer.LoadPeft(Fixture("oft_peft_adapter.safetensors"), "base_model.model.layers.0.v_proj", adapter: null, adapterOnly: true);
        var io = SafeTensors.Read(Fixture("oft_peft_io.safetensors"));
        var y = new float[2 * layer.OutFeatures];
        layer.Forward(io["x"].Data, y, 2);
        Assert.True(Oracle.RelativeError(y, io["v_proj.y.neumann5"].Data.Select(v => (double)v).ToArray()) < 1e-5);
    }

    [Fact]
    public void The_PEFT_name_map_uses_PEFTs_keys_with_or_without_the_adapter_name()
    {
        Assert.Equal(new Dictionary<string, string>
        {
            ["m.q.base_layer.weight"] = "terms.0.weight", ["m.q.lora_A.default.weight"] = "terms.1.lora_A", ["m.q.lora_B.default.weight"] = "terms.1.lora_B",
        }, PeftNames.Map(new PeftLora(), "m.q"));
        Assert.Equal(new Dictionary<string, string> { ["m.q.base_layer.weight"] = "factors.0.weight", ["m.q.hra_u"] = "factors.1.hra_u" },
            PeftNames.Map(new PeftHra(), "m.q.", adapter: null));
        Assert.Equal("x.oft_R.second.weight", PeftNames.Key(new PeftOftQ().Factors1OftR, "x", "second"));
    }

    [Fact]
    public void PEFT_loading_names_what_is_wrong()
    {
        var notPeft = Assert.Throws<ArgumentException>(() => PeftNames.Map(LayerCatalog.Create("MonarchSquare"), "m"));
        Assert.Contains("is not a PEFT form", notPeft.Message);
        var layer = new PeftOftQ();
        var before = layer.Factors0Weight.Data.ToArray();
        // One level of prefix too few: the key is named, and the file's keys that end like it show the right prefix.
        var missing = Assert.Throws<InvalidDataException>(() => layer.LoadPeft(Fixture("oft_peft.safetensors"), "base_model.layers.0.q_proj"));
        Assert.Contains("'base_model.layers.0.q_proj.oft_R.default.weight' for factors.1.oft_R (the file has 'base_model.model.layers.0.q_proj.oft_R.default.weight'", missing.Message);
        // The wrong module: v_proj's base is 12 x 12, this layer's 8 x 12.
        var shape = Assert.Throws<InvalidDataException>(() => layer.LoadPeft(Fixture("oft_peft.safetensors"), "base_model.model.layers.0.v_proj"));
        Assert.Contains("tensor 'factors.0.weight' expected shape [8, 12], file has [12, 12]", shape.Message);
        Assert.Equal(before, layer.Factors0Weight.Data);
        Assert.Throws<ArgumentException>(() => layer.LoadPeft(Fixture("oft_peft.safetensors"), "base_model.model.layers.0.q_proj", adapter: ""));
    }

    [Fact]
    public void A_failed_load_leaves_a_live_layer_unchanged_and_names_the_problem()
    {
        var path = Path.Combine(Path.GetTempPath(), $"structmat-{Guid.NewGuid():N}.safetensors");
        try
        {
            LayerCatalog.CreateRandomized("MonarchSquare", seed: 3).SaveSafeTensors(path);
            var live = LayerCatalog.CreateRandomized("MonarchSquare", seed: 4);
            var before = live.Parameters.Select(p => (float[])p.Data.Clone()).ToList();
            void AssertUnchanged()
            {
                for (var p = 0; p < before.Count; p++) Assert.Equal(before[p], live.Parameters[p].Data);
            }

            // Truncated: the header promises more bytes than the file has.
            var bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes.AsSpan(0, bytes.Length - 7).ToArray());
            Assert.Throws<InvalidDataException>(() => live.LoadSafeTensors(path));
            AssertUnchanged();

            // Another layer's weights: the missing tensors are named.
            LayerCatalog.CreateRandomized("DenseBias").SaveSafeTensors(path);
            var error = Assert.Throws<InvalidDataException>(() => live.LoadSafeTensors(path));
            Assert.Contains("missing tensors: blkdiag1, blkdiag2", error.Message);
            AssertUnchanged();

            // Same names, wrong shape: the tensor and both shapes are named.
            LayerCatalog.CreateRandomized("MonarchDown").SaveSafeTensors(path); // blkdiag1, blkdiag2, bias of 20 -> 12
            error = Assert.Throws<InvalidDataException>(() => live.LoadSafeTensors(path));
            Assert.Contains("'blkdiag1' expected shape [4, 4, 4], file has [4, 3, 5]", error.Message);
            AssertUnchanged();
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [MemberData(nameof(LayerCatalog.Names), MemberType = typeof(LayerCatalog))]
    public void Every_layer_round_trips_through_safetensors(string name)
    {
        var source = LayerCatalog.CreateRandomized(name, seed: 12);
        var target = LayerCatalog.Create(name, seed: 13);
        var path = Path.Combine(Path.GetTempPath(), $"structmat-{name}-{Guid.NewGuid():N}.safetensors");
        try
        {
            source.SaveSafeTensors(path);
            target.LoadSafeTensors(path);
        }
        finally
        {
            File.Delete(path);
        }
        for (var p = 0; p < source.Parameters.Count; p++)
        {
            if (source.Parameters[p].ElementType == ElementType.Float32) Assert.Equal(source.Parameters[p].Data, target.Parameters[p].Data);
            else Assert.Equal(source.Parameters[p].Bytes, target.Parameters[p].Bytes);
        }
    }
}
