using System;
using System.Collections.Generic;

namespace StructMat.Runtime.Training;

/// <summary>
/// Stochastic gradient descent with optional heavy-ball momentum and L2 weight decay, in PyTorch's
/// convention: <c>g ← grad + λ·w</c>, <c>v ← μ·v + g</c>, <c>w ← w − lr·m·v</c>, where <c>m</c> is the
/// parameter's <see cref="Parameter.LearningRateMultiplier"/>. Frozen parameters (no gradient) are skipped.
/// Gradients are read, never cleared: call the layers' <c>ZeroGrad()</c> between steps.
/// </summary>
public sealed class Sgd
{
    private readonly Dictionary<Parameter, float[]> _velocity = new(ReferenceEqualityComparer.Instance);

    /// <summary>Creates the optimiser.</summary>
    /// <param name="learningRate">Base step size; must be positive and finite.</param>
    /// <param name="momentum">Momentum coefficient μ in [0, 1); 0 disables momentum.</param>
    /// <param name="weightDecay">L2 penalty λ ≥ 0 added to the gradient.</param>
    public Sgd(float learningRate, float momentum = 0f, float weightDecay = 0f)
    {
        if (!(learningRate > 0f) || float.IsInfinity(learningRate))
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "The learning rate must be positive and finite.");
        if (!(momentum >= 0f && momentum < 1f))
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "The momentum must lie in [0, 1).");
        if (!(weightDecay >= 0f) || float.IsInfinity(weightDecay))
            throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "The weight decay must be non-negative and finite.");
        LearningRate = learningRate;
        Momentum = momentum;
        WeightDecay = weightDecay;
    }

    /// <summary>Base step size; can be changed between steps (e.g. by a schedule).</summary>
    public float LearningRate { get; set; }

    /// <summary>Momentum coefficient μ.</summary>
    public float Momentum { get; }

    /// <summary>L2 weight-decay coefficient λ.</summary>
    public float WeightDecay { get; }

    /// <summary>Updates every trainable parameter in <paramref name="parameters"/> from its accumulated gradient.</summary>
    public void Step(IEnumerable<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        foreach (var p in parameters)
        {
            if (p.Gradient is not { } grad) continue;
            float lr = LearningRate * p.LearningRateMultiplier;
            if (Momentum == 0f) StepPlain(p.Data, grad, lr);
            else StepMomentum(p.Data, grad, VelocityOf(p), lr);
        }
    }

    private void StepPlain(float[] w, float[] grad, float lr)
    {
        float decay = WeightDecay;
        for (int i = 0; i < w.Length; i++)
            w[i] -= lr * (grad[i] + decay * w[i]);
    }

    private void StepMomentum(float[] w, float[] grad, float[] v, float lr)
    {
        float decay = WeightDecay, mu = Momentum;
        for (int i = 0; i < w.Length; i++)
        {
            v[i] = mu * v[i] + grad[i] + decay * w[i];
            w[i] -= lr * v[i];
        }
    }

    private float[] VelocityOf(Parameter p)
    {
        if (!_velocity.TryGetValue(p, out var v))
        {
            v = new float[p.Length];
            _velocity.Add(p, v);
        }
        return v;
    }
}
