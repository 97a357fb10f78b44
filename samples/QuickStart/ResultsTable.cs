using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace QuickStart;

/// <summary>Prints the comparison table, with ratios against the first (baseline) model.</summary>
internal static class ResultsTable
{
    public static void Print(IReadOnlyList<TrainingResult> results, TextWriter output)
    {
        var baseline = results[0];
        output.WriteLine($"| {"model",-8} | {"parameters",12} | {"FLOPs/example",14} | {"training time",13} | {"test accuracy",13} |");
        output.WriteLine($"|{new string('-', 10)}|{new string('-', 13)}:|{new string('-', 15)}:|{new string('-', 14)}:|{new string('-', 14)}:|");
        foreach (var r in results)
        {
            output.WriteLine($"| {r.Model,-8} | {r.Parameters,12:N0} | {r.FlopsPerExample,14:N0} | {r.TrainingTime.TotalSeconds,11:F1} s | {r.TestAccuracy,12:P2} |");
        }
        output.WriteLine("FLOPs/example: forward multiply-adds per example, the sum of the layers' FlopsPerRow (cost model).");
        foreach (var r in results.Skip(1))
        {
            output.WriteLine(
                $"{r.Model} vs {baseline.Model}: {(double)baseline.Parameters / r.Parameters:F1}x fewer parameters, " +
                $"{(double)baseline.FlopsPerExample / r.FlopsPerExample:F1}x fewer FLOPs, " +
                $"{baseline.TrainingTime.TotalSeconds / r.TrainingTime.TotalSeconds:F1}x training speed, " +
                $"{(r.TestAccuracy - baseline.TestAccuracy) * 100:+0.00;-0.00} accuracy points.");
        }
    }
}
