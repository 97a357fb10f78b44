using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Text.Json.Nodes;
using ILGPU;
using ILGPU.Runtime;
using StructMat.Runtime;

namespace StructMat.GpuRunner;

/// <summary>
/// <c>check</c>: for every structure and size, forward y, backward dx and every trainable parameter's gradient on the
/// accelerator against the generated CPU path (itself tested against float64 oracles), on random parameters and
/// inputs. The error of a tensor is max |gpu − cpu| / max |cpu| over that tensor; a non-finite value always fails
/// (outputs start as NaN, so an element a kernel never writes fails too).
/// </summary>
public static class CheckMode
{
    public static int Run(RunnerOptions options, Accelerator accelerator, DeviceInfo device)
    {
        var total = Stopwatch.StartNew();
        var batch = options.CheckBatch;
        var rows = new List<string[]>();
        var records = new JsonArray();
        var failures = new List<string>();
        Console.WriteLine($"check: batch {batch}, tolerance {Output.Sci(options.Tolerance)} (max |gpu − cpu| / max |cpu| per tensor)");
        foreach (var n in options.Sizes)
        {
            foreach (var name in options.Structures)
            {
                var structure = LayerCatalog.Find(name);
                var watch = Stopwatch.StartNew();
                try
                {
                    var errors = Compare(structure.Create(n), accelerator, batch);
                    var gradients = errors.Skip(2).OrderByDescending(e => Severity(e.Error)).ToList();
                    var failed = errors.Where(e => !(e.Error <= options.Tolerance)).ToList();
                    foreach (var e in failed) failures.Add($"{name} n={n}: {e.Tensor} error {Output.Sci(e.Error)} > {Output.Sci(options.Tolerance)}");
                    rows.Add(new[]
                    {
                        name, n.ToString(Output.Invariant), Output.Sci(errors[0].Error), Output.Sci(errors[1].Error),
                        gradients.Count == 0 ? "-" : $"{Output.Sci(gradients[0].Error)} ({gradients[0].Tensor})",
                        Output.Num(watch.Elapsed.TotalSeconds, "F1"), failed.Count == 0 ? "ok" : "FAIL",
                    });
                    foreach (var e in errors)
                    {
                        records.Add(new JsonObject
                        {
                            ["structure"] = name, ["n"] = n, ["batch"] = batch, ["tensor"] = e.Tensor,
                            ["error"] = double.IsFinite(e.Error) ? e.Error : null, ["finite"] = double.IsFinite(e.Error),
                            ["ok"] = e.Error <= options.Tolerance,
                        });
                    }
                }
                catch (Exception e)
                {
                    failures.Add($"{name} n={n}: {e.GetType().Name}: {e.Message}");
                    rows.Add(new[] { name, n.ToString(Output.Invariant), "-", "-", "-", Output.Num(watch.Elapsed.TotalSeconds, "F1"), "ERROR" });
                    records.Add(new JsonObject { ["structure"] = name, ["n"] = n, ["batch"] = batch, ["tensor"] = null, ["error"] = null, ["ok"] = false, ["exception"] = $"{e.GetType().Name}: {e.Message}" });
                }
            }
        }

        Console.WriteLine();
        Output.PrintTable(new[] { "structure", "n", "y error", "dx error", "worst gradient error", "s", "status" }, rows);
        Output.WriteJson(options.OutPath, new JsonObject
        {
            ["schema"] = "structmat-gpu-check/1",
            ["tool"] = "StructMat.GpuRunner check",
            ["command_line"] = Environment.CommandLine,
            ["dry_run"] = options.Cpu,
            ["utc"] = DateTime.UtcNow.ToString("O", Output.Invariant),
            ["device"] = device.ToJson(),
            ["batch"] = batch,
            ["tolerance"] = options.Tolerance,
            ["results"] = records,
            ["passed"] = failures.Count == 0,
        });
        Console.WriteLine();
        Console.WriteLine($"Wrote {options.OutPath}. {rows.Count} layers in {total.Elapsed.TotalSeconds:F1} s.");
        if (failures.Count == 0)
        {
            Console.WriteLine($"check passed: every y, dx and gradient within {Output.Sci(options.Tolerance)} of the CPU path.");
            return ExitCodes.Ok;
        }
        Console.WriteLine($"check FAILED ({failures.Count}):");
        foreach (var f in failures) Console.WriteLine("  " + f);
        return ExitCodes.Failed;
    }

    /// <summary>y, dx, then every trainable parameter's gradient: (tensor name, error). NaN or infinity when non-finite.</summary>
    private static List<(string Tensor, double Error)> Compare(IStructuredLayer layer, Accelerator accelerator, int batch)
    {
        var random = new Random(1);
        foreach (var p in layer.Parameters)
        {
            if (p.ElementType != ElementType.Float32)
            {
                random.NextBytes(p.Bytes); // the codes of a quantised base: any byte is valid
                continue;
            }
            for (var i = 0; i < p.Data.Length; i++) p.Data[i] = (float)(random.NextDouble() * 2 - 1);
        }
        var x = DeviceData.Random((long)batch * layer.InFeatures, seed: 11);
        var dy = DeviceData.Random((long)batch * layer.OutFeatures, seed: 12);

        // The CPU path.
        var y = new float[batch * layer.OutFeatures];
        var dx = new float[x.Length];
        layer.ZeroGrad();
        layer.Forward(x, y, batch);
        layer.Backward(x, dy, dx, batch);
        var trainable = layer.Parameters.Where(p => p.Trainable).ToList();
        var cpuGradients = trainable.Select(p => (float[])p.Gradient!.Clone()).ToList();

        // The accelerator: device gradients start at zero; host gradients are overwritten by DownloadGradients.
        layer.ZeroGrad();
        foreach (var p in trainable) Array.Fill(p.Gradient!, float.NaN);
        using var gpu = GpuLayer.Create(layer, accelerator);
        using var xBuffer = accelerator.Allocate1D(x);
        using var dyBuffer = accelerator.Allocate1D(dy);
        using var yBuffer = DeviceData.AllocatePoisoned(accelerator, y.Length);
        using var dxBuffer = DeviceData.AllocatePoisoned(accelerator, dx.Length);
        gpu.Forward(xBuffer.View, yBuffer.View, batch);
        gpu.Backward(xBuffer.View, dyBuffer.View, dxBuffer.View, batch);
        accelerator.Synchronize();
        gpu.DownloadGradients();

        var errors = new List<(string, double)>
        {
            ("y", Error(yBuffer.GetAsArray1D(), y)),
            ("dx", Error(dxBuffer.GetAsArray1D(), dx)),
        };
        for (var i = 0; i < trainable.Count; i++) errors.Add(("grad " + trainable[i].Name, Error(trainable[i].Gradient!, cpuGradients[i])));
        return errors;
    }

    /// <summary>max |actual − expected| / max |expected|; NaN when any value is non-finite; absolute when expected is all zero.</summary>
    public static double Error(float[] actual, float[] expected)
    {
        if (actual.Length != expected.Length) throw new ArgumentException($"Length {actual.Length} against {expected.Length}.");
        double worst = 0, scale = 0;
        for (var i = 0; i < actual.Length; i++)
        {
            if (!float.IsFinite(actual[i]) || !float.IsFinite(expected[i])) return double.NaN;
            worst = Math.Max(worst, Math.Abs((double)actual[i] - expected[i]));
            scale = Math.Max(scale, Math.Abs((double)expected[i]));
        }
        return scale > 0 ? worst / scale : worst;
    }

    private static double Severity(double error) => double.IsNaN(error) ? double.PositiveInfinity : error;
}
