using System;

namespace StructMat.Runtime.Training;

/// <summary>Loss functions with their gradients.</summary>
public static class Losses
{
    /// <summary>
    /// Mean softmax cross-entropy over <paramref name="batch"/> rows of <paramref name="classes"/> logits
    /// (row-major <c>[batch, classes]</c>), computed stably by subtracting each row's maximum.
    /// Writes <c>dLogits = (softmax(logits) − onehot(labels)) / batch</c>, the gradient of the returned mean.
    /// </summary>
    /// <returns>The mean loss <c>−(1/batch)·Σ log softmax(logits)[label]</c>.</returns>
    public static float SoftmaxCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, int batch, int classes, Span<float> dLogits)
    {
        Validate(logits.Length, labels, batch, classes);
        if (dLogits.Length != logits.Length)
            throw new ArgumentException($"dLogits has {dLogits.Length} elements; expected batch·classes = {logits.Length}.", nameof(dLogits));

        double total = 0;
        float invBatch = 1f / batch;
        for (int r = 0; r < batch; r++)
        {
            var row = logits.Slice(r * classes, classes);
            var grad = dLogits.Slice(r * classes, classes);
            total += RowLoss(row, labels[r], grad, invBatch);
        }
        return (float)(total / batch);
    }

    /// <summary>One row: returns its loss and writes its scaled gradient.</summary>
    private static double RowLoss(ReadOnlySpan<float> row, int label, Span<float> grad, float scale)
    {
        float max = float.NegativeInfinity;
        foreach (float z in row) max = MathF.Max(max, z);

        double sum = 0;
        for (int c = 0; c < row.Length; c++)
        {
            float e = MathF.Exp(row[c] - max);
            grad[c] = e;
            sum += e;
        }
        float invSum = (float)(1.0 / sum);
        for (int c = 0; c < row.Length; c++)
            grad[c] = grad[c] * invSum * scale;
        grad[label] -= scale;

        // log softmax[label] = z_label − max − log Σ exp(z − max)
        return Math.Log(sum) - (row[label] - max);
    }

    internal static void Validate(int logitsLength, ReadOnlySpan<int> labels, int batch, int classes)
    {
        if (batch <= 0) throw new ArgumentOutOfRangeException(nameof(batch), batch, "The batch must be positive.");
        if (classes <= 0) throw new ArgumentOutOfRangeException(nameof(classes), classes, "The number of classes must be positive.");
        if (logitsLength != (long)batch * classes)
            throw new ArgumentException($"logits has {logitsLength} elements; expected batch·classes = {batch}·{classes}.", "logits");
        if (labels.Length != batch)
            throw new ArgumentException($"labels has {labels.Length} elements; expected batch = {batch}.", nameof(labels));
        for (int r = 0; r < batch; r++)
        {
            if ((uint)labels[r] >= (uint)classes)
                throw new ArgumentOutOfRangeException(nameof(labels), labels[r], $"Label {labels[r]} in row {r} is outside [0, {classes}).");
        }
    }
}
