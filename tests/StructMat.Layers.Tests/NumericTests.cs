using System;
using System.Linq;
using StructMat.Runtime;
using Xunit;

namespace StructMat.Layers.Tests;

/// <summary>
/// Every generated layer against independent float64 references: forward vs ToDense()·x, backward vs
/// central finite differences of the float64 loss, and gradient bookkeeping.
/// </summary>
public class NumericTests
{
    private const int Batch = 5;

    // float32 kernels against a float64 oracle on O(10)-term dot products of values in [-1, 1]:
    // rounding is ~1e-7 relative per operation, so 1e-5 leaves room without hiding an indexing bug (which is O(1)).
    private const double ForwardTolerance = 1e-5;

    // Gradients sum over the batch and through up to four factors: a little more rounding.
    private const double GradientTolerance = 1e-4;

    [Theory]
    [MemberData(nameof(LayerCatalog.Names), MemberType = typeof(LayerCatalog))]
    public void Forward_matches_dense_oracle(string name)
    {
        var layer = LayerCatalog.CreateRandomized(name);
        var x = Oracle.RandomVector(Batch * layer.InFeatures, seed: 2);
        var y = new float[Batch * layer.OutFeatures];

        layer.Forward(x, y, Batch);

        var expected = Oracle.Forward(layer, layer.ToDenseDouble(), x, Batch);
        Assert.True(Oracle.RelativeError(y, expected) < ForwardTolerance, $"{name}: relative error {Oracle.RelativeError(y, expected):E2}");
    }

    [Theory]
    [MemberData(nameof(LayerCatalog.Names), MemberType = typeof(LayerCatalog))]
    public void Backward_input_gradient_matches_finite_differences(string name)
    {
        var layer = LayerCatalog.CreateRandomized(name);
        var x = Oracle.RandomVector(Batch * layer.InFeatures, seed: 3);
        var dy = Oracle.RandomVector(Batch * layer.OutFeatures, seed: 4);
        var dx = Enumerable.Repeat(float.NaN, x.Length).ToArray(); // Backward must overwrite, not accumulate.

        layer.Backward(x, dy, dx, Batch);

        var expected = new double[x.Length];
        for (var k = 0; k < x.Length; k++) expected[k] = CentralDifference(layer, x, dy, () => ref x[k]);
        Assert.True(Oracle.RelativeError(dx, expected) < GradientTolerance, $"{name}: dx relative error {Oracle.RelativeError(dx, expected):E2}");
    }

    [Theory]
    [MemberData(nameof(LayerCatalog.Names), MemberType = typeof(LayerCatalog))]
    public void Backward_parameter_gradients_match_finite_differences(string name)
    {
        var layer = LayerCatalog.CreateRandomized(name);
        var x = Oracle.RandomVector(Batch * layer.InFeatures, seed: 5);
        var dy = Oracle.RandomVector(Batch * layer.OutFeatures, seed: 6);

        layer.ZeroGrad();
        layer.Backward(x, dy, new float[x.Length], Batch);

        foreach (var p in layer.Parameters.Where(p => p.Trainable))
        {
            var expected = new double[p.Length];
            for (var k = 0; k < p.Length; k++) expected[k] = CentralDifference(layer, x, dy, () => ref p.Data[k]);
            var error = Oracle.RelativeError(p.Gradient!, expected);
            Assert.True(error < GradientTolerance, $"{name}.{p.Name}: relative error {error:E2}");
        }
    }

    [Theory]
    [MemberData(nameof(LayerCatalog.Names), MemberType = typeof(LayerCatalog))]
    public void Parameter_gradients_accumulate_until_ZeroGrad(string name)
    {
        var layer = LayerCatalog.CreateRandomized(name);
        var x = Oracle.RandomVector(Batch * layer.InFeatures, seed: 7);
        var dy = Oracle.RandomVector(Batch * layer.OutFeatures, seed: 8);
        var dx = new float[x.Length];

        layer.ZeroGrad();
        layer.Backward(x, dy, dx, Batch);
        var once = layer.Parameters.Where(p => p.Trainable).Select(p => (float[])p.Gradient!.Clone()).ToList();
        layer.Backward(x, dy, dx, Batch);
        var trainable = layer.Parameters.Where(p => p.Trainable).ToList();
        for (var n = 0; n < trainable.Count; n++)
        {
            for (var k = 0; k < once[n].Length; k++) Assert.Equal(2 * once[n][k], trainable[n].Gradient![k], 1e-5f * (1 + Math.Abs(once[n][k])));
        }
        layer.ZeroGrad();
        Assert.All(trainable, p => Assert.All(p.Gradient!, g => Assert.Equal(0f, g)));
    }

    [Theory]
    [MemberData(nameof(LayerCatalog.Names), MemberType = typeof(LayerCatalog))]
    public void Counts_agree_with_the_parameter_tensors_and_ToDense_rounds_ToDenseDouble(string name)
    {
        var layer = LayerCatalog.Create(name);
        Assert.Equal(layer.Parameters.Sum(p => (long)p.Length), layer.ParameterCount);
        Assert.Equal(layer.Parameters.Where(p => p.Trainable).Sum(p => (long)p.Length), layer.TrainableParameterCount);
        Assert.All(layer.Parameters, p => Assert.Equal(p.Shape.Aggregate(1, (a, d) => a * d), p.Length));
        Assert.Equal(layer.ToDenseDouble().Select(v => (float)v), layer.ToDense());
        Assert.Equal(layer.InFeatures * layer.OutFeatures, layer.ToDense().Length);
    }

    [Fact]
    public void Zero_batch_is_a_no_op_and_short_buffers_are_rejected_with_the_argument_name()
    {
        var layer = LayerCatalog.Create("MonarchSquare");
        layer.Forward(ReadOnlySpan<float>.Empty, Span<float>.Empty, 0);
        var error = Assert.Throws<ArgumentException>(() => layer.Forward(new float[15], new float[16], 1));
        Assert.Equal("x", error.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => layer.Forward(new float[16], new float[16], -1));
        error = Assert.Throws<ArgumentException>(() => layer.Backward(new float[16], new float[16], new float[3], 1));
        Assert.Equal("dx", error.ParamName);
    }

    /// <summary>
    /// dL/dθ by central differences of the float64 loss, dividing by the actual float32 step. Most
    /// structures are multilinear in their parameters, so the loss is affine in any one coordinate and
    /// the quotient is exact up to rounding; Householder vectors enter through a normalisation, where
    /// the O(h²) truncation error at h = 1e-3 stays near 1e-6, far under the tolerance.
    /// </summary>
    private static double CentralDifference(IStructuredLayer layer, float[] x, float[] dy, RefGetter coordinate)
    {
        ref var value = ref coordinate();
        var original = value;
        var step = 1e-3f * Math.Max(1f, Math.Abs(original));
        value = original + step;
        var plus = value;
        var lossPlus = Oracle.Loss(layer, x, dy, Batch);
        value = original - step;
        var minus = value;
        var lossMinus = Oracle.Loss(layer, x, dy, Batch);
        value = original;
        return (lossPlus - lossMinus) / ((double)plus - minus);
    }

    private delegate ref float RefGetter();
}
