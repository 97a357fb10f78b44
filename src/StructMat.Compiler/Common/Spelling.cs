using System;
using System.Collections.Generic;
using System.Linq;

namespace StructMat.Compiler;

/// <summary>"Did you mean": the known word nearest a misspelt one, by edit distance (case ignored).</summary>
internal static class Spelling
{
    /// <summary>
    /// The candidate within one edit of <paramref name="word"/> (two for words of six letters or more), the nearest
    /// first; null when none is that near or the word is one of them.
    /// </summary>
    public static string? Closest(string word, IEnumerable<string> candidates)
    {
        var limit = word.Length >= 6 ? 2 : 1;
        return candidates
            .Where(c => c != word)
            .Select(c => (Candidate: c, Distance: Distance(word.ToLowerInvariant(), c.ToLowerInvariant())))
            .Where(c => c.Distance <= limit)
            .OrderBy(c => c.Distance)
            .ThenBy(c => c.Candidate, StringComparer.Ordinal)
            .Select(c => c.Candidate)
            .FirstOrDefault();
    }

    /// <summary>" Did you mean 'x'?", or nothing.</summary>
    public static string Suggestion(string word, IEnumerable<string> candidates) =>
        Closest(word, candidates) is { } c ? $"; did you mean '{c}'?" : "";

    /// <summary>Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours.</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }
        return d[a.Length, b.Length];
    }
}
