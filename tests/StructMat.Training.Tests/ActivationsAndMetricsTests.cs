using System;
using StructMat.Runtime.Training;
using Xunit;

namespace StructMat.Training.Tests;

public class ActivationsAndMetricsTests
{
    [Fact]
    public void Relu_clamps_negatives_to_zero()
    {
        float[] x = [-2f, -0f, 0f, 0.5f, 3f];
        var y = new float[5];
        Activations.Relu(x, y);
        Assert.Equal([0f, 0f, 0f, 0.5f, 3f], y);
    }

    [Fact]
    public void Relu_works_in_place()
    {
        float[] x = [-1f, 2f, -3f, 4f];
        Activations.Relu(x, x);
        Assert.Equal([0f, 2f, 0f, 4f], x);
    }

    [Fact]
    public void ReluBackward_passes_gradient_only_where_the_input_was_positive()
    {
        float[] x = [-1f, 0f, 2f, 5f];
        float[] dy = [10f, 20f, 30f, 40f];
        var dx = new float[4];
        Activations.ReluBackward(x, dy, dx);
        Assert.Equal([0f, 0f, 30f, 40f], dx);
    }

    [Fact]
    public void Relu_rejects_mismatched_lengths()
    {
        Assert.Throws<ArgumentException>("y", () => Activations.Relu(new float[3], new float[2]));
        Assert.Throws<ArgumentException>("dx", () => Activations.ReluBackward(new float[3], new float[3], new float[4]));
    }

    [Fact]
    public void Accuracy_counts_rows_whose_argmax_is_the_label()
    {
        float[] scores = [0.1f, 0.9f, 0f, /**/ 5f, 1f, 2f, /**/ 0f, 0f, 1f, /**/ 3f, 3f, 1f];
        int[] labels = [1, 2, 2, 0];
        Assert.Equal(3, Metrics.CountCorrect(scores, labels, 4, 3));
        Assert.Equal(0.75, Metrics.Accuracy(scores, labels, 4, 3));
        Assert.Equal(0, Metrics.ArgMax([3f, 3f, 1f])); // first on ties
    }
}
