using System;
using System.Collections.Generic;
using System.Linq;
using StructMat.Runtime;
using StructMat.Runtime.Training;

namespace QuickStart;

/// <summary>
/// A two-layer perceptron <c>logits = Out(ReLU(Hidden(x)))</c> over any two StructMat layers, with the
/// activation buffers for minibatches of up to <c>maxBatch</c> rows.
/// </summary>
internal sealed class Mlp
{
    private readonly IStructuredLayer _hidden;
    private readonly IStructuredLayer _out;
    private readonly float[] _preActivation, _activation, _logits, _dLogits, _dActivation, _dPreActivation, _dInput;

    public Mlp(string name, IStructuredLayer hidden, IStructuredLayer output, int maxBatch)
    {
        if (hidden.OutFeatures != output.InFeatures)
            throw new ArgumentException($"{name}: the hidden layer has {hidden.OutFeatures} outputs but the output layer takes {output.InFeatures}.");
        Name = name;
        _hidden = hidden;
        _out = output;
        MaxBatch = maxBatch;
        _preActivation = new float[maxBatch * hidden.OutFeatures];
        _activation = new float[_preActivation.Length];
        _dActivation = new float[_preActivation.Length];
        _dPreActivation = new float[_preActivation.Length];
        _logits = new float[maxBatch * output.OutFeatures];
        _dLogits = new float[_logits.Length];
        _dInput = new float[maxBatch * hidden.InFeatures];
    }

    public string Name { get; }

    public int MaxBatch { get; }

    public int InFeatures => _hidden.InFeatures;

    public int Classes => _out.OutFeatures;

    public IEnumerable<Parameter> Parameters => _hidden.Parameters.Concat(_out.Parameters);

    public long ParameterCount => _hidden.ParameterCount + _out.ParameterCount;

    /// <summary>Forward multiply-adds per example, from the layers' cost models (the ReLU is not counted).</summary>
    public long FlopsPerExample => _hidden.FlopsPerRow + _out.FlopsPerRow;

    /// <summary>One optimisation step on a minibatch; returns its mean loss.</summary>
    public float TrainStep(ReadOnlySpan<float> x, ReadOnlySpan<int> labels, int batch, Adam optimizer)
    {
        _hidden.ZeroGrad();
        _out.ZeroGrad();
        ReadOnlySpan<float> logits = Forward(x, batch);

        float loss = Losses.SoftmaxCrossEntropy(logits, labels, batch, Classes, Rows(_dLogits, batch, Classes));

        _out.Backward(Rows(_activation, batch, _out.InFeatures), Rows(_dLogits, batch, Classes), Rows(_dActivation, batch, _out.InFeatures), batch);
        Activations.ReluBackward(Rows(_preActivation, batch, _out.InFeatures), Rows(_dActivation, batch, _out.InFeatures), Rows(_dPreActivation, batch, _out.InFeatures));
        _hidden.Backward(x, Rows(_dPreActivation, batch, _out.InFeatures), Rows(_dInput, batch, InFeatures), batch);

        optimizer.Step(Parameters);
        return loss;
    }

    /// <summary>The logits for <paramref name="batch"/> rows (valid until the next call).</summary>
    public ReadOnlySpan<float> Forward(ReadOnlySpan<float> x, int batch)
    {
        if (batch > MaxBatch) throw new ArgumentOutOfRangeException(nameof(batch), batch, $"At most {MaxBatch} rows per call.");
        int hiddenWidth = _hidden.OutFeatures;
        _hidden.Forward(x, Rows(_preActivation, batch, hiddenWidth), batch);
        Activations.Relu(Rows(_preActivation, batch, hiddenWidth), Rows(_activation, batch, hiddenWidth));
        _out.Forward(Rows(_activation, batch, hiddenWidth), Rows(_logits, batch, Classes), batch);
        return Rows(_logits, batch, Classes);
    }

    private static Span<float> Rows(float[] buffer, int batch, int width) => buffer.AsSpan(0, batch * width);
}
