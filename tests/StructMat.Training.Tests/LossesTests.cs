using System;
using StructMat.Runtime.Training;
using Xunit;

namespace StructMat.Training.Tests;

public class LossesTests
{
    /// <summary>Reference loss in float64, straight from the definition (no max shift).</summary>
    private static double ReferenceLoss(double[] logits, int[] labels, int batch, int classes)
    {
        double total = 0;
        for (int r = 0; r < batch; r++)
        {
            double sum = 0;
            for (int c = 0; c < classes; c++) sum += Math.Exp(logits[r * classes + c]);
            total += Math.Log(sum) - logits[r * classes + labels[r]];
        }
        return total / batch;
    }

    private static float[] RandomLogits(int n, int seed, float scale = 3f)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return x;
    }

    [Fact]
    public void Loss_matches_the_float64_definition()
    {
        const int batch = 5, classes = 7;
        var logits = RandomLogits(batch * classes, seed: 1);
        int[] labels = [0, 6, 3, 3, 1];
        var grad = new float[logits.Length];

        float loss = Losses.SoftmaxCrossEntropy(logits, labels, batch, classes, grad);

        double expected = ReferenceLoss(Array.ConvertAll(logits, v => (double)v), labels, batch, classes);
        Assert.Equal(expected, loss, 1e-5);
    }

    [Fact]
    public void Gradient_matches_central_finite_differences_in_float64()
    {
        const int batch = 4, classes = 6;
        var logits = RandomLogits(batch * classes, seed: 2);
        int[] labels = [5, 0, 2, 2];
        var grad = new float[logits.Length];
        Losses.SoftmaxCrossEntropy(logits, labels, batch, classes, grad);

        var x = Array.ConvertAll(logits, v => (double)v);
        const double h = 1e-5;
        for (int i = 0; i < x.Length; i++)
        {
            double saved = x[i];
            x[i] = saved + h;
            double plus = ReferenceLoss(x, labels, batch, classes);
            x[i] = saved - h;
            double minus = ReferenceLoss(x, labels, batch, classes);
            x[i] = saved;
            double numeric = (plus - minus) / (2 * h);
            Assert.True(Math.Abs(numeric - grad[i]) < 1e-6, $"element {i}: analytic {grad[i]}, numeric {numeric}");
        }
    }

    [Fact]
    public void Gradient_rows_sum_to_zero_and_equal_softmax_minus_onehot_over_batch()
    {
        const int batch = 2, classes = 3;
        float[] logits = [1f, 2f, 3f, 0f, 0f, 0f];
        int[] labels = [2, 0];
        var grad = new float[6];
        Losses.SoftmaxCrossEntropy(logits, labels, batch, classes, grad);

        double z = Math.Exp(1) + Math.Exp(2) + Math.Exp(3);
        Assert.Equal(Math.Exp(1) / z / 2, grad[0], 1e-6);
        Assert.Equal(Math.Exp(2) / z / 2, grad[1], 1e-6);
        Assert.Equal((Math.Exp(3) / z - 1) / 2, grad[2], 1e-6);
        Assert.Equal((1.0 / 3 - 1) / 2, grad[3], 1e-6);
        Assert.Equal(1.0 / 3 / 2, grad[4], 1e-6);
        Assert.Equal(0, grad[0] + grad[1] + grad[2], 1e-6);
    }

    [Fact]
    public void Huge_logits_stay_finite()
    {
        float[] logits = [1000f, -1000f, 999f, 88f, 89f, 3e4f];
        int[] labels = [1, 0];
        var grad = new float[6];

        float loss = Losses.SoftmaxCrossEntropy(logits, labels, 2, 3, grad);

        Assert.True(float.IsFinite(loss));
        Assert.All(grad, g => Assert.True(float.IsFinite(g)));
        // Row 0: loss ≈ 2000 + log(1 + e^-1); row 1: loss ≈ 3e4 − 88.
        double expected = ((2000 + Math.Log(1 + Math.Exp(-1))) + (3e4 - 88)) / 2;
        Assert.Equal(expected, loss, 0.5);
    }

    [Fact]
    public void Bad_arguments_are_rejected_with_their_names()
    {
        var grad = new float[6];
        Assert.Throws<ArgumentOutOfRangeException>("labels", () => Losses.SoftmaxCrossEntropy(new float[6], [0, 3], 2, 3, grad));
        Assert.Throws<ArgumentException>("labels", () => Losses.SoftmaxCrossEntropy(new float[6], [0], 2, 3, grad));
        Assert.Throws<ArgumentException>("logits", () => Losses.SoftmaxCrossEntropy(new float[5], [0, 1], 2, 3, grad));
        Assert.Throws<ArgumentException>("dLogits", () => Losses.SoftmaxCrossEntropy(new float[6], [0, 1], 2, 3, new float[5]));
        Assert.Throws<ArgumentOutOfRangeException>("batch", () => Losses.SoftmaxCrossEntropy(new float[6], [0, 1], 0, 3, grad));
    }
}
