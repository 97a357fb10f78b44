using System;
using System.Collections.Generic;
using System.Linq;

namespace QuickStart;

/// <summary>Deterministic, seeded index shuffles and a stratified train/test split.</summary>
internal static class Split
{
    /// <summary>
    /// Shuffles each class with <paramref name="seed"/> and sends round(classCount · testFraction) of it to the
    /// test set; both sets are then shuffled so classes are interleaved.
    /// </summary>
    public static (Digits Train, Digits Test) Stratified(Digits all, double testFraction, int seed)
    {
        var rng = new Random(seed);
        var train = new List<int>();
        var test = new List<int>();
        foreach (var group in Enumerable.Range(0, all.Count).GroupBy(i => all.Labels[i]).OrderBy(g => g.Key))
        {
            int[] members = group.ToArray();
            rng.Shuffle(members);
            int testCount = (int)Math.Round(members.Length * testFraction);
            test.AddRange(members.Take(testCount));
            train.AddRange(members.Skip(testCount));
        }
        return (all.Select(Shuffled(train, rng)), all.Select(Shuffled(test, rng)));
    }

    /// <summary>0 … count−1 in a seeded random order.</summary>
    public static int[] Permutation(int count, int seed)
    {
        int[] order = Enumerable.Range(0, count).ToArray();
        new Random(seed).Shuffle(order);
        return order;
    }

    private static int[] Shuffled(List<int> indices, Random rng)
    {
        int[] result = indices.ToArray();
        rng.Shuffle(result);
        return result;
    }
}
