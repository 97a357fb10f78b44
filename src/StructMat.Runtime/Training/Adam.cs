using System;
using System.Collections.Generic;

namespace StructMat.Runtime.Training;

/// <summary>
/// Adam (Kingma &amp; Ba) with bias correction, as in PyTorch's <c>torch.optim.Adam</c> without weight decay:
/// <c>m ← β1·m + (1−β1)·g</c>, <c>v ← β2·v + (1−β2)·g²</c>,
/// <c>w ← w − lr·k·(m / (1−β1ᵗ)) / (√(v / (1−β2ᵗ)) + ε)</c>, where <c>k</c> is the parameter's
/// <see cref="Parameter.LearningRateMultiplier"/> and <c>t</c> counts this parameter's steps.
/// Frozen parameters (no gradient) are skipped. Gradients are read, never cleared.
/// </summary>
public sealed class Adam
{
    private sealed class State(int length)
    {
        public readonly float[] M = new float[length];
        public readonly float[] V = new float[length];
        public int Steps;
    }

    private readonly Dictionary<Parameter, State> _state = new(ReferenceEqualityComparer.Instance);

    /// <summary>Creates the optimiser.</summary>
    /// <param name="learningRate">Base step size; must be positive and finite.</param>
    /// <param name="beta1">Decay of the first-moment average, in [0, 1).</param>
    /// <param name="beta2">Decay of the second-moment average, in [0, 1).</param>
    /// <param name="epsilon">Added to the denominator for stability; must be positive.</param>
    public Adam(float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f)
    {
        if (!(learningRate > 0f) || float.IsInfinity(learningRate))
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "The learning rate must be positive and finite.");
        if (!(beta1 >= 0f && beta1 < 1f))
            throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "beta1 must lie in [0, 1).");
        if (!(beta2 >= 0f && beta2 < 1f))
            throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "beta2 must lie in [0, 1).");
        if (!(epsilon > 0f) || float.IsInfinity(epsilon))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be positive and finite.");
        LearningRate = learningRate;
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
    }

    /// <summary>Base step size; can be changed between steps (e.g. by a schedule).</summary>
    public float LearningRate { get; set; }

    /// <summary>Decay of the first-moment average.</summary>
    public float Beta1 { get; }

    /// <summary>Decay of the second-moment average.</summary>
    public float Beta2 { get; }

    /// <summary>Denominator stabiliser.</summary>
    public float Epsilon { get; }

    /// <summary>Updates every trainable parameter in <paramref name="parameters"/> from its accumulated gradient.</summary>
    public void Step(IEnumerable<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        foreach (var p in parameters)
        {
            if (p.Gradient is not { } grad) continue;
            var s = StateOf(p);
            s.Steps++;
            Update(p.Data, grad, s, LearningRate * p.LearningRateMultiplier);
        }
    }

    private void Update(float[] w, float[] grad, State s, float lr)
    {
        float b1 = Beta1, b2 = Beta2, eps = Epsilon;
        // Fold both bias corrections into the step size and epsilon (exactly equivalent, no per-element divisions).
        double c1 = 1.0 - Math.Pow(b1, s.Steps), c2 = 1.0 - Math.Pow(b2, s.Steps);
        float stepSize = (float)(lr / c1);
        float invSqrtC2 = (float)(1.0 / Math.Sqrt(c2));
        float[] m = s.M, v = s.V;
        for (int i = 0; i < w.Length; i++)
        {
            float g = grad[i];
            m[i] = b1 * m[i] + (1f - b1) * g;
            v[i] = b2 * v[i] + (1f - b2) * g * g;
            w[i] -= stepSize * m[i] / (MathF.Sqrt(v[i]) * invSqrtC2 + eps);
        }
    }

    private State StateOf(Parameter p)
    {
        if (!_state.TryGetValue(p, out var s))
        {
            s = new State(p.Length);
            _state.Add(p, s);
        }
        return s;
    }
}
