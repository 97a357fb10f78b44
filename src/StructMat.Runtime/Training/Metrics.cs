using System;

namespace StructMat.Runtime.Training;

/// <summary>Classification metrics on row-major <c>[batch, classes]</c> scores.</summary>
public static class Metrics
{
    /// <summary>Index of the largest score in <paramref name="row"/> (the first one on ties).</summary>
    public static int ArgMax(ReadOnlySpan<float> row)
    {
        if (row.IsEmpty) throw new ArgumentException("The row is empty.", nameof(row));
        int best = 0;
        for (int c = 1; c < row.Length; c++)
        {
            if (row[c] > row[best]) best = c;
        }
        return best;
    }

    /// <summary>How many of the <paramref name="batch"/> rows have their largest score at the label.</summary>
    public static int CountCorrect(ReadOnlySpan<float> scores, ReadOnlySpan<int> labels, int batch, int classes)
    {
        Losses.Validate(scores.Length, labels, batch, classes);
        int correct = 0;
        for (int r = 0; r < batch; r++)
        {
            if (ArgMax(scores.Slice(r * classes, classes)) == labels[r]) correct++;
        }
        return correct;
    }

    /// <summary>The fraction of rows classified correctly, in [0, 1].</summary>
    public static double Accuracy(ReadOnlySpan<float> scores, ReadOnlySpan<int> labels, int batch, int classes)
        => (double)CountCorrect(scores, labels, batch, classes) / batch;
}
