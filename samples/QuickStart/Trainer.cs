using System;
using System.Diagnostics;
using StructMat.Runtime.Training;

namespace QuickStart;

/// <summary>Training settings shared by every model so the comparison is fair.</summary>
internal sealed record TrainingOptions(int Epochs, int BatchSize, float LearningRate, int Seed);

/// <summary>What one model achieved.</summary>
internal sealed record TrainingResult(string Model, long Parameters, long FlopsPerExample, TimeSpan TrainingTime, float FinalLoss, double TestAccuracy);

/// <summary>Minibatch Adam training and evaluation of an <see cref="Mlp"/>.</summary>
internal static class Trainer
{
    public static TrainingResult Run(Mlp model, Digits train, Digits test, TrainingOptions options, Action<string> log)
    {
        var optimizer = new Adam(options.LearningRate);
        var stopwatch = Stopwatch.StartNew();
        float loss = 0f;
        for (int epoch = 1; epoch <= options.Epochs; epoch++)
        {
            // The same seed per epoch for every model: all models see the same minibatches in the same order.
            int[] order = Split.Permutation(train.Count, options.Seed + epoch);
            loss = RunEpoch(model, train, order, options.BatchSize, optimizer);
            log($"  {model.Name,-8} epoch {epoch,2}/{options.Epochs}: mean loss {loss:F4}  ({stopwatch.Elapsed.TotalSeconds:F1} s)");
        }
        stopwatch.Stop();
        return new TrainingResult(model.Name, model.ParameterCount, model.FlopsPerExample, stopwatch.Elapsed, loss, Evaluate(model, test));
    }

    /// <summary>One pass over <paramref name="order"/>; returns the mean minibatch loss.</summary>
    private static float RunEpoch(Mlp model, Digits data, int[] order, int batchSize, Adam optimizer)
    {
        var x = new float[batchSize * Digits.Pixels];
        var labels = new int[batchSize];
        double lossSum = 0;
        int batches = 0;
        for (int start = 0; start < order.Length; start += batchSize)
        {
            int batch = Math.Min(batchSize, order.Length - start);
            Gather(data, order.AsSpan(start, batch), x, labels);
            lossSum += model.TrainStep(x.AsSpan(0, batch * Digits.Pixels), labels.AsSpan(0, batch), batch, optimizer);
            batches++;
        }
        return (float)(lossSum / batches);
    }

    /// <summary>Fraction of <paramref name="test"/> classified correctly.</summary>
    public static double Evaluate(Mlp model, Digits test)
    {
        int correct = 0;
        for (int start = 0; start < test.Count; start += model.MaxBatch)
        {
            int batch = Math.Min(model.MaxBatch, test.Count - start);
            var x = test.Images.AsSpan(start * Digits.Pixels, batch * Digits.Pixels);
            var logits = model.Forward(x, batch);
            correct += Metrics.CountCorrect(logits, test.Labels.AsSpan(start, batch), batch, Digits.Classes);
        }
        return (double)correct / test.Count;
    }

    private static void Gather(Digits data, ReadOnlySpan<int> indices, float[] x, int[] labels)
    {
        for (int i = 0; i < indices.Length; i++)
        {
            data.Image(indices[i]).CopyTo(x.AsSpan(i * Digits.Pixels, Digits.Pixels));
            labels[i] = data.Labels[indices[i]];
        }
    }
}
