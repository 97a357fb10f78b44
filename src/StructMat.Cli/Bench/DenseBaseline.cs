using System;
using StructMat.Measurement;
using StructMat.Runtime;

namespace StructMat.Cli.Bench;

/// <summary>The dense layer a structured one is timed against: same shape, same passes.</summary>
public interface IDenseBaseline
{
    /// <summary>What it is, as the table labels it ("OpenBLAS sgemm" or "generated dense").</summary>
    string Label { get; }

    void Forward(float[] x, float[] y, int batch);

    /// <summary>Forward, then dx = dy·W and dW += dyᵀ·x, as a training step runs them.</summary>
    void ForwardBackward(float[] x, float[] y, float[] dy, float[] dx, int batch);
}

/// <summary>The generated code's own dense layer (<c>layer Dense : in -> out = dense;</c>), compiled the same way.</summary>
public sealed class GeneratedDense(IStructuredLayer layer) : IDenseBaseline
{
    public const string Name = "generated dense";

    public string Label => Name;

    public void Forward(float[] x, float[] y, int batch) => layer.Forward(x, y, batch);

    public void ForwardBackward(float[] x, float[] y, float[] dy, float[] dx, int batch)
    {
        layer.Forward(x, y, batch);
        layer.Backward(x, dy, dx, batch);
    }
}

/// <summary>OpenBLAS's sgemm on a random [out, in] weight (found as the benchmark suite finds it).</summary>
internal sealed class OpenBlasDense : IDenseBaseline
{
    public const string Name = "OpenBLAS sgemm";
    private readonly OpenBlas _blas;
    private readonly float[] _weight;
    private readonly float[] _gradient;
    private readonly int _in;
    private readonly int _out;

    public OpenBlasDense(OpenBlas blas, int inFeatures, int outFeatures)
    {
        (_blas, _in, _out) = (blas, inFeatures, outFeatures);
        _weight = new float[(long)inFeatures * outFeatures];
        _gradient = new float[_weight.Length];
        var random = new Random(0);
        var scale = 1 / MathF.Sqrt(inFeatures);
        for (var i = 0; i < _weight.Length; i++) _weight[i] = (float)(random.NextDouble() * 2 - 1) * scale;
    }

    public string Label => Name;

    public void Forward(float[] x, float[] y, int batch) => _blas.Forward(x, _weight, y, batch, _in, _out);

    public void ForwardBackward(float[] x, float[] y, float[] dy, float[] dx, int batch)
    {
        _blas.Forward(x, _weight, y, batch, _in, _out);
        _blas.Backward(x, _weight, dy, dx, _gradient, batch, _in, _out);
    }
}
