using System;
using StructMat.Runtime;
using StructMat.Tests.Large;
using Xunit;

namespace StructMat.Layers.Tests;

/// <summary>
/// A layer whose dense weight no .NET array holds (65,536 × 65,536 = 2^32 elements): it runs, its dense forms say
/// why they cannot exist instead of wrapping a 32-bit size around, and it offers no projection from a dense matrix.
/// </summary>
public class HugeLayerTests
{
    [Fact]
    public void Forward_matches_a_float64_rank_one_product()
    {
        var layer = new HugeLowRank();
        var random = new Random(3);
        foreach (var p in layer.Parameters)
        {
            for (var k = 0; k < p.Data.Length; k++) p.Data[k] = (float)(random.NextDouble() - 0.5);
        }
        const int n = 65536, batch = 2;
        var x = new float[batch * n];
        for (var k = 0; k < x.Length; k++) x[k] = (float)(random.NextDouble() - 0.5);
        var y = new float[batch * n];
        layer.Forward(x, y, batch);

        // y = B (A x) + b with A [1, n] (lora_A), B [n, 1] (lora_B), in float64.
        var a = layer.LoraA.Data;
        var b = layer.LoraB.Data;
        var bias = layer.Bias.Data;
        for (var row = 0; row < batch; row++)
        {
            double t = 0;
            for (var j = 0; j < n; j++) t += (double)a[j] * x[row * n + j];
            for (var i = 0; i < n; i += 4099)
            {
                var expected = b[i] * t + bias[i];
                Assert.True(Math.Abs(y[row * n + i] - expected) <= 1e-4 * (1 + Math.Abs(expected)), $"row {row}, output {i}: {y[row * n + i]} vs {expected}");
            }
        }
    }

    [Fact]
    public void The_dense_forms_say_no_array_holds_them()
    {
        var layer = new HugeLowRank();
        foreach (var call in new Action[] { () => layer.ToDenseDouble(), () => layer.ToDense(), () => layer.Merge() })
        {
            var e = Assert.Throws<NotSupportedException>(call);
            Assert.Contains("[65536, 65536]", e.Message);
            Assert.Contains("4,294,967,296 elements", e.Message);
        }
        // A low-rank layer of a size a span holds is projectable; this one, whose dense weight no span holds, is not.
        Assert.True(typeof(IProjectable).IsAssignableFrom(typeof(StructMat.Tests.Cases.LowRank)));
        Assert.False(typeof(IProjectable).IsAssignableFrom(typeof(HugeLowRank)));
    }
}
