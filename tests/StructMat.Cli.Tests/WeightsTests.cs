using System;
using System.Globalization;
using System.IO;
using System.Linq;
using StructMat.Cli.Hosting;
using StructMat.Cli.Tests.Infrastructure;
using StructMat.Runtime;
using StructMat.Runtime.IO;
using Xunit;

namespace StructMat.Cli.Tests;

/// <summary><c>smx project</c> and <c>smx convert</c>: files in, files out, checked by reading them back.</summary>
public class WeightsTests
{
    private static void SaveDense(string path, int outFeatures, int inFeatures, Func<int, int, float> entry, string name = "weight")
    {
        var weight = new Parameter(name, new[] { outFeatures, inFeatures }, trainable: false);
        for (var i = 0; i < outFeatures; i++) for (var j = 0; j < inFeatures; j++) weight.Data[i * inFeatures + j] = entry(i, j);
        SafeTensors.Save(path, new[] { weight });
    }

    private static double RelativeError(SmxResult result) =>
        double.Parse(result.Out.Split('\n').Single(l => l.StartsWith("relative Frobenius error")).Split(" = ")[1].Split(' ')[0], CultureInfo.InvariantCulture);

    [Fact]
    public void Projecting_onto_a_low_rank_leaves_the_Eckart_Young_tail()
    {
        // W [10, 12] with singular values 4, 3, 2, 1 (a scaled partial identity): the best rank-3 approximation drops
        // the 1, so ||W - P(W)|| / ||W|| = 1 / sqrt(16 + 9 + 4 + 1).
        using var temp = new TempFolder("project");
        var dense = temp.Combine("dense.safetensors");
        SaveDense(dense, 10, 12, (i, j) => i == j && i < 4 ? 4 - i : 0);
        var output = temp.Combine("lowrank.safetensors");

        var result = Smx.Run("project", Path.Combine(Repo.Cases, "lowrank.smx"), "--layer", "LowRank", "--from", dense, "-o", output);

        Assert.True(result.ExitCode == ExitCodes.Ok, result.Describe());
        Assert.Equal(1 / Math.Sqrt(30), RelativeError(result), 5);
        var saved = SafeTensors.Read(output);
        Assert.Equal(new[] { "lora_A", "lora_B" }, saved.Keys.OrderBy(k => k, StringComparer.Ordinal));
        Assert.Equal(new[] { 3, 12 }, saved["lora_A"].Shape);
    }

    [Fact]
    public void Projecting_a_weight_that_has_the_structure_reproduces_it()
    {
        using var temp = new TempFolder("project-exact");
        var smx = Path.Combine(Repo.Cases, "blockdiag.smx");
        // A random 4-block block-diagonal [8, 12] weight, written out by hand.
        var random = new Random(3);
        var values = new float[8, 12];
        for (var i = 0; i < 8; i++) for (var j = 0; j < 12; j++) values[i, j] = i / 2 == j / 3 ? (float)(random.NextDouble() * 2 - 1) : 0;
        var dense = temp.Combine("dense.safetensors");
        SaveDense(dense, 8, 12, (i, j) => values[i, j], name: "model.fc.weight");
        var output = temp.Combine("blocks.safetensors");

        var result = Smx.Run("project", smx, "--layer", "Blocks", "--from", dense, "-o", output);

        Assert.True(result.ExitCode == ExitCodes.Ok, result.Describe());
        Assert.True(RelativeError(result) < 1e-6, result.Out);
        var layer = LayerAssembly.Compile(File.ReadAllText(smx), "blockdiag.smx").Create("Blocks");
        layer.LoadSafeTensors(output);
        var back = layer.ToDense();
        for (var i = 0; i < 8; i++) for (var j = 0; j < 12; j++) Assert.Equal(values[i, j], back[i * 12 + j], 6);
    }

    [Fact]
    public void A_weight_of_the_wrong_shape_fails_naming_both_shapes()
    {
        using var temp = new TempFolder("project-shape");
        var dense = temp.Combine("dense.safetensors");
        SaveDense(dense, 12, 10, (i, j) => 1);

        var result = Smx.Run("project", Path.Combine(Repo.Cases, "lowrank.smx"), "--layer", "LowRank", "--from", dense, "-o", temp.Combine("out.safetensors"));

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Contains("tensor 'weight' is [12, 10], but LowRank maps 12 -> 10 and needs a dense weight [out, in] = [10, 12]", result.Error);
    }

    [Fact]
    public void A_layer_without_a_projection_fails_clearly()
    {
        using var temp = new TempFolder("project-none");
        var dense = temp.Combine("dense.safetensors");
        SaveDense(dense, 16, 16, (i, j) => 1);

        var result = Smx.Run("project", Path.Combine(Repo.Cases, "butterfly.smx"), "--layer", "Butterfly16", "--from", dense, "-o", temp.Combine("out.safetensors"));

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Contains("Butterfly16 has no projection from dense weights", result.Error);
    }

    [Fact]
    public void A_truncated_safetensors_file_fails_in_one_line_as_a_process()
    {
        using var temp = new TempFolder("project-truncated");
        var dense = temp.Combine("dense.safetensors");
        SaveDense(dense, 10, 12, (i, j) => i + j);
        var bytes = File.ReadAllBytes(dense);
        File.WriteAllBytes(dense, bytes[..(bytes.Length / 2)]);

        var result = Smx.Process("project", Path.Combine(Repo.Cases, "lowrank.smx"), "--layer", "LowRank", "--from", dense, "-o", temp.Combine("out.safetensors"));

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.StartsWith("smx: " + dense + ": ", result.Error);
        Assert.Single(result.Error.Trim().Split('\n'));
        Assert.False(result.HasStackTrace, result.Describe());
    }

    [Fact]
    public void Project_without_its_options_is_a_usage_error()
    {
        var result = Smx.Run("project", Path.Combine(Repo.Cases, "lowrank.smx"), "--layer", "LowRank");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("project needs --from", result.Error);
    }

    [Fact]
    public void Convert_to_peft_and_back_keeps_every_tensor()
    {
        using var temp = new TempFolder("convert");
        var smx = Path.Combine(Repo.Cases, "interop.smx");
        var layer = LayerAssembly.Compile(File.ReadAllText(smx), "interop.smx").Create("PeftLora", seed: 5);
        var random = new Random(5);
        foreach (var p in layer.Parameters) for (var i = 0; i < p.Length; i++) p.Data[i] = (float)random.NextDouble();
        var own = temp.Combine("own.safetensors");
        layer.SaveSafeTensors(own);
        const string prefix = "base_model.model.layers.0.q_proj";

        var toPeft = Smx.Run("convert", smx, "--layer", "PeftLora", "--in", own, "--out", temp.Combine("peft.safetensors"), "--to", "peft", "--prefix", prefix);

        Assert.True(toPeft.ExitCode == ExitCodes.Ok, toPeft.Describe());
        var peft = SafeTensors.Read(temp.Combine("peft.safetensors"));
        // PEFT's keys for a LoRA module in an adapter file (no adapter name): written here from PEFT's layout.
        Assert.Equal(new[] { prefix + ".base_layer.weight", prefix + ".lora_A.weight", prefix + ".lora_B.weight" }, peft.Keys.OrderBy(k => k, StringComparer.Ordinal));
        foreach (var p in layer.Parameters) Assert.Equal(p.Data, peft[PeftNames.Key(p, prefix, adapter: null)].Data);

        var back = Smx.Run("convert", smx, "--layer", "PeftLora", "--in", temp.Combine("peft.safetensors"), "--out", temp.Combine("back.safetensors"), "--to", "structmat", "--prefix", prefix);

        Assert.True(back.ExitCode == ExitCodes.Ok, back.Describe());
        var original = SafeTensors.Read(own);
        var roundTrip = SafeTensors.Read(temp.Combine("back.safetensors"));
        Assert.Equal(original.Keys.OrderBy(k => k), roundTrip.Keys.OrderBy(k => k));
        foreach (var key in original.Keys) Assert.Equal(original[key].Data, roundTrip[key].Data);
    }

    [Fact]
    public void Convert_of_a_layer_that_is_no_peft_form_fails_clearly()
    {
        using var temp = new TempFolder("convert-none");
        var smx = Path.Combine(Repo.Cases, "monarch.smx");
        var file = temp.Combine("m.safetensors");
        LayerAssembly.Compile(File.ReadAllText(smx), "monarch.smx").Create("MonarchSquare").SaveSafeTensors(file);

        var result = Smx.Run("convert", smx, "--layer", "MonarchSquare", "--in", file, "--out", temp.Combine("o.safetensors"), "--to", "peft");

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Contains("MonarchSquare is not a PEFT form", result.Error);
    }
}
