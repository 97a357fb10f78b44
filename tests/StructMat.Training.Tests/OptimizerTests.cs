using System;
using StructMat.Runtime;
using StructMat.Runtime.Training;
using Xunit;

namespace StructMat.Training.Tests;

public class OptimizerTests
{
    private static Parameter Make(string name, float[] data, float[]? grad, float lrMultiplier = 1f)
    {
        var p = new Parameter(name, [data.Length], trainable: grad is not null, lrMultiplier);
        data.CopyTo(p.Data, 0);
        grad?.CopyTo(p.Gradient!, 0);
        return p;
    }

    [Fact]
    public void Sgd_plain_step_is_w_minus_lr_times_grad()
    {
        var p = Make("w", [1f, -2f], [0.5f, -1f]);
        new Sgd(0.1f).Step([p]);
        Assert.Equal(1f - 0.1f * 0.5f, p.Data[0], 6);
        Assert.Equal(-2f + 0.1f * 1f, p.Data[1], 6);
    }

    [Fact]
    public void Sgd_momentum_and_weight_decay_match_a_hand_computation_over_two_steps()
    {
        var p = Make("w", [2f], [1f]);
        var sgd = new Sgd(0.1f, momentum: 0.9f, weightDecay: 0.01f);

        sgd.Step([p]);
        // g = 1 + 0.01·2 = 1.02; v = 1.02; w = 2 − 0.102 = 1.898
        Assert.Equal(1.898f, p.Data[0], 5);

        sgd.Step([p]);
        // g = 1 + 0.01·1.898 = 1.01898; v = 0.9·1.02 + 1.01898 = 1.93698; w = 1.898 − 0.193698 = 1.704302
        Assert.Equal(1.704302f, p.Data[0], 5);
    }

    [Fact]
    public void Adam_first_step_moves_each_weight_by_about_lr_against_its_gradient_sign()
    {
        var p = Make("w", [1f, 1f, 1f], [0.3f, -20f, 0f]);
        new Adam(0.01f).Step([p]);
        // Step 1: m̂ = g, v̂ = g², so the update is lr·g/(|g| + ε).
        Assert.Equal(1f - 0.01f * 0.3f / (0.3f + 1e-8f), p.Data[0], 6);
        Assert.Equal(1f + 0.01f, p.Data[1], 6);
        Assert.Equal(1f, p.Data[2]);
    }

    [Fact]
    public void Adam_two_steps_match_a_float64_hand_computation()
    {
        const double lr = 0.05, b1 = 0.8, b2 = 0.95, eps = 1e-3;
        double[] grads = [0.5, -0.25];
        var p = Make("w", [0.7f], [0f]);
        var adam = new Adam((float)lr, (float)b1, (float)b2, (float)eps);

        double w = 0.7, m = 0, v = 0;
        for (int t = 1; t <= grads.Length; t++)
        {
            p.Gradient![0] = (float)grads[t - 1];
            adam.Step([p]);

            double g = grads[t - 1];
            m = b1 * m + (1 - b1) * g;
            v = b2 * v + (1 - b2) * g * g;
            double mHat = m / (1 - Math.Pow(b1, t)), vHat = v / (1 - Math.Pow(b2, t));
            w -= lr * mHat / (Math.Sqrt(vHat) + eps);
            Assert.Equal(w, p.Data[0], 5);
        }
    }

    [Fact]
    public void Learning_rate_multiplier_scales_the_step()
    {
        var full = Make("a", [0f], [1f]);
        var half = Make("b", [0f], [1f], lrMultiplier: 0.5f);
        new Sgd(0.2f).Step([full, half]);
        Assert.Equal(-0.2f, full.Data[0], 6);
        Assert.Equal(-0.1f, half.Data[0], 6);

        var fullA = Make("a", [0f], [1f]);
        var quarterA = Make("b", [0f], [1f], lrMultiplier: 0.25f);
        new Adam(0.2f).Step([fullA, quarterA]);
        Assert.Equal(-0.2f, fullA.Data[0], 5);
        Assert.Equal(-0.05f, quarterA.Data[0], 5);
    }

    [Fact]
    public void Frozen_parameters_are_left_untouched()
    {
        var frozen = Make("frozen", [1f, 2f, 3f], grad: null);
        var trained = Make("trained", [1f], [1f]);

        new Sgd(0.1f, momentum: 0.9f, weightDecay: 0.1f).Step([frozen, trained]);
        new Adam(0.1f).Step([frozen, trained]);

        Assert.False(frozen.Trainable);
        Assert.Equal([1f, 2f, 3f], frozen.Data);
        Assert.NotEqual(1f, trained.Data[0]);
    }

    [Fact]
    public void Optimisers_keep_separate_state_per_parameter()
    {
        var a = Make("a", [0f], [1f]);
        var b = Make("b", [0f], [1f]);
        var sgd = new Sgd(1f, momentum: 0.5f);
        sgd.Step([a, b]);
        sgd.Step([a]);   // a's velocity: 0.5·1 + 1 = 1.5
        sgd.Step([b]);   // b's velocity likewise, unaffected by a
        Assert.Equal(a.Data[0], b.Data[0]);
        Assert.Equal(-2.5f, a.Data[0], 6);
    }

    [Fact]
    public void Bad_hyperparameters_are_rejected_with_their_names()
    {
        Assert.Throws<ArgumentOutOfRangeException>("learningRate", () => new Sgd(0f));
        Assert.Throws<ArgumentOutOfRangeException>("momentum", () => new Sgd(0.1f, momentum: 1f));
        Assert.Throws<ArgumentOutOfRangeException>("weightDecay", () => new Sgd(0.1f, weightDecay: -1f));
        Assert.Throws<ArgumentOutOfRangeException>("learningRate", () => new Adam(float.NaN));
        Assert.Throws<ArgumentOutOfRangeException>("beta2", () => new Adam(beta2: 1f));
        Assert.Throws<ArgumentOutOfRangeException>("epsilon", () => new Adam(epsilon: 0f));
    }
}
