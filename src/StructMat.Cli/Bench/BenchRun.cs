using System;
using System.Collections.Generic;
using System.Linq;
using StructMat.Compiler.Inspection;
using StructMat.Runtime;

namespace StructMat.Cli.Bench;

/// <summary>Forward, or forward then backward (dx and every parameter gradient), as one training step runs them.</summary>
public enum Pass
{
    Forward,
    ForwardBackward,
}

/// <summary>One measured case: a layer at a batch size and pass, against its dense baseline.</summary>
public sealed record BenchRow(string Layer, int Batch, Pass Pass, double Seconds, double UsefulFlops, double DenseSeconds, double DenseFlops, double CeilingGflops)
{
    public double Gflops => UsefulFlops / Seconds / 1e9;

    public double DenseGflops => DenseFlops / DenseSeconds / 1e9;

    /// <summary>How many times faster than dense (above 1: the structure wins).</summary>
    public double Speedup => DenseSeconds / Seconds;

    /// <summary>Dense multiply-adds over the structure's: the speedup if both ran at the same GFLOP/s.</summary>
    public double FlopRatio => DenseFlops / UsefulFlops;

    /// <summary>The structure's useful GFLOP/s as a share of the all-cores FMA ceiling measured in this run.</summary>
    public double CeilingShare => Gflops / CeilingGflops;
}

/// <summary>
/// Times one layer and its dense baseline at each batch size. FLOPs: 2 per multiply-add; a forward does the cost model's
/// multiply-adds per row (in·out for dense), forward + backward three times that (dx and the weight gradients each
/// cost about a forward), for the structure and dense alike, so the two columns compare like with like.
/// </summary>
public static class BenchRun
{
    public static IEnumerable<BenchRow> Measure(LayerInfo info, IStructuredLayer layer, IDenseBaseline dense, IReadOnlyList<int> batches,
        CaseTimer timer, double ceilingGflops, Action<string> progress)
    {
        var random = new Random(0);
        foreach (var batch in batches)
        {
            var x = Random(random, (long)batch * info.Shape.In);
            var dy = Random(random, (long)batch * info.Shape.Out);
            var y = new float[(long)batch * info.Shape.Out];
            var dx = new float[(long)batch * info.Shape.In];
            var forwardFlops = 2.0 * info.FlopsPerRow * batch;
            var denseForwardFlops = 2.0 * info.DenseFlopsPerRow * batch;

            progress($"{info.Name}: batch {batch}, forward");
            var seconds = timer.Median(() => layer.Forward(x, y, batch));
            var denseSeconds = timer.Median(() => dense.Forward(x, y, batch));
            yield return new BenchRow(info.Name, batch, Pass.Forward, seconds, forwardFlops, denseSeconds, denseForwardFlops, ceilingGflops);

            progress($"{info.Name}: batch {batch}, forward + backward");
            // Gradients accumulate; start from zero so long runs stay far from overflow.
            layer.ZeroGrad();
            seconds = timer.Median(() =>
            {
                layer.Forward(x, y, batch);
                layer.Backward(x, dy, dx, batch);
            });
            denseSeconds = timer.Median(() => dense.ForwardBackward(x, y, dy, dx, batch));
            yield return new BenchRow(info.Name, batch, Pass.ForwardBackward, seconds, 3 * forwardFlops, denseSeconds, 3 * denseForwardFlops, ceilingGflops);
        }
    }

    /// <summary>The smallest batch from which the structure is faster than dense at every larger batch measured, or null.</summary>
    public static int? BreakEven(IEnumerable<BenchRow> rows)
    {
        int? from = null;
        foreach (var row in rows.OrderByDescending(r => r.Batch))
        {
            if (row.Speedup > 1) from = row.Batch;
            else break;
        }
        return from;
    }

    private static float[] Random(Random random, long length)
    {
        var data = new float[length];
        for (long i = 0; i < length; i++) data[i] = (float)(random.NextDouble() * 2 - 1);
        return data;
    }
}
