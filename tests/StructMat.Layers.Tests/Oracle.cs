using System;
using System.Linq;
using StructMat.Runtime;

namespace StructMat.Layers.Tests;

/// <summary>float64 references: the dense weight from ToDenseDouble, applied by plain loops.</summary>
public static class Oracle
{
    public static float[] RandomVector(int length, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }

    /// <summary>y = W x + bias in float64 for every row; the bias is the parameter named "bias", if any.</summary>
    public static double[] Forward(IStructuredLayer layer, double[] weight, ReadOnlySpan<float> x, int batch)
    {
        var (n, m) = (layer.InFeatures, layer.OutFeatures);
        var bias = layer.Parameters.FirstOrDefault(p => p.Name == "bias")?.Data;
        var y = new double[batch * m];
        for (var b = 0; b < batch; b++)
        {
            for (var o = 0; o < m; o++)
            {
                var sum = bias is null ? 0.0 : bias[o];
                for (var i = 0; i < n; i++) sum += weight[o * n + i] * x[b * n + i];
                y[b * m + o] = sum;
            }
        }
        return y;
    }

    /// <summary>L = Σ dy ⊙ (W x + bias), evaluated in float64 from the layer's current parameters.</summary>
    public static double Loss(IStructuredLayer layer, float[] x, float[] dy, int batch)
    {
        var y = Forward(layer, layer.ToDenseDouble(), x, batch);
        return y.Select((v, k) => v * dy[k]).Sum();
    }

    /// <summary>‖a − b‖∞ / max(‖b‖∞, 1e-30): one relative error for a whole tensor.</summary>
    public static double RelativeError(ReadOnlySpan<float> actual, double[] expected)
    {
        double diff = 0, scale = 1e-30;
        for (var k = 0; k < expected.Length; k++)
        {
            diff = Math.Max(diff, Math.Abs(actual[k] - expected[k]));
            scale = Math.Max(scale, Math.Abs(expected[k]));
        }
        return diff / scale;
    }
}
