using System;
using System.Collections.Generic;
using System.Diagnostics;

namespace StructMat.Cli.Bench;

/// <summary>
/// Times one case: a warm-up call (JIT, packing caches, workspaces), then calls until <see cref="Budget"/> has passed
/// (at least <see cref="MinSamples"/>), and reports the median call. The median, not the mean: a case shares the
/// machine, and one descheduled call should not move the figure.
/// </summary>
public sealed class CaseTimer(TimeSpan budget)
{
    public const int MinSamples = 3;
    private const int MaxSamples = 1_000_000;

    public TimeSpan Budget { get; } = budget;

    /// <summary>The median seconds per call of <paramref name="call"/>.</summary>
    public double Median(Action call)
    {
        call();
        var samples = new List<double>();
        var total = Stopwatch.StartNew();
        while (samples.Count < MinSamples || (total.Elapsed < Budget && samples.Count < MaxSamples))
        {
            var start = Stopwatch.GetTimestamp();
            call();
            samples.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        samples.Sort();
        var mid = samples.Count / 2;
        return samples.Count % 2 == 1 ? samples[mid] : (samples[mid - 1] + samples[mid]) / 2;
    }
}
