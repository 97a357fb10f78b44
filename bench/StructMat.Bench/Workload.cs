using System;
using System.Linq;
using StructMat.Runtime;

namespace StructMat.Bench;

/// <summary>
/// One benchmark body: a structure at size n and a batch, with its activations. The BenchmarkDotNet classes and
/// the quick mode both run exactly these two methods.
/// <para>
/// <see cref="ForwardBackward"/> is <c>Forward</c> then <c>Backward</c> with a fixed dy. <c>ZeroGrad</c> is not
/// called: parameter gradients accumulate across calls (the layers' contract), and the sgemm baseline
/// accumulates its weight gradient too (beta = 1), so both sides do the same work.
/// </para>
/// </summary>
public sealed class Workload
{
    private readonly IStructuredLayer? _layer;
    private readonly OpenBlas? _blas;
    private readonly float[] _w = Array.Empty<float>();
    private readonly float[] _dw = Array.Empty<float>();

    public Workload(string structure, int n, int batch, int seed = 1)
    {
        if (batch <= 0) throw new ArgumentOutOfRangeException(nameof(batch));
        Structure = structure;
        N = n;
        Batch = batch;
        if (structure == LayerCatalog.Sgemm)
        {
            _blas = OpenBlas.Instance ?? throw new InvalidOperationException(
                $"Structure '{LayerCatalog.Sgemm}' needs OpenBLAS (libopenblas.so.0), which did not load in this process.");
            var dense = LayerCatalog.Create("dense", n); // the same weight distribution as the generated dense layer
            _w = dense.Parameters.Single().Data;
            _dw = new float[_w.Length];
        }
        else
        {
            _layer = LayerCatalog.Create(structure, n);
        }
        var random = new Random(seed);
        X = Fill(new float[batch * n], random);
        Dy = Fill(new float[batch * n], random);
        Y = new float[batch * n];
        Dx = new float[batch * n];
    }

    public string Structure { get; }

    public int N { get; }

    public int Batch { get; }

    public float[] X { get; }

    public float[] Y { get; }

    public float[] Dy { get; }

    public float[] Dx { get; }

    /// <summary>The generated layer (null for the OpenBLAS baseline).</summary>
    public IStructuredLayer? Layer => _layer;

    /// <summary>The OpenBLAS baseline's weight [out, in] (empty otherwise).</summary>
    public float[] BaselineWeight => _w;

    /// <summary>The OpenBLAS baseline's weight gradient (empty otherwise).</summary>
    public float[] BaselineWeightGradient => _dw;

    public void Forward()
    {
        if (_blas is not null) _blas.Forward(X, _w, Y, Batch, N);
        else _layer!.Forward(X, Y, Batch);
    }

    public void ForwardBackward()
    {
        if (_blas is not null)
        {
            _blas.Forward(X, _w, Y, Batch, N);
            _blas.Backward(X, _w, Dy, Dx, _dw, Batch, N);
        }
        else
        {
            _layer!.Forward(X, Y, Batch);
            _layer.Backward(X, Dy, Dx, Batch);
        }
    }

    /// <summary>Sets the accumulated weight gradients to zero (outside any timed region).</summary>
    public void ZeroGrad()
    {
        if (_blas is not null) Array.Clear(_dw);
        else _layer!.ZeroGrad();
    }

    private static float[] Fill(float[] a, Random random)
    {
        for (var i = 0; i < a.Length; i++) a[i] = (float)(random.NextDouble() * 2 - 1);
        return a;
    }
}
