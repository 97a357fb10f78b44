using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Xml.Linq;
using StructMat.Cli.Tests.Infrastructure;
using Xunit;

namespace StructMat.Cli.Tests;

/// <summary>The bench's table, not its timings: every row and column there, every figure finite and positive.</summary>
public class BenchTests
{
    private static readonly string[] Columns = { "batch", "pass", "time", "GFLOP/s", "dense time", "dense GFLOP/s", "speedup", "FLOP ratio", "% FMA ceiling" };

    [Fact]
    public void Bench_prints_a_row_per_batch_and_pass_with_finite_positive_figures()
    {
        using var temp = new TempFolder("bench");
        var svg = temp.Combine("bench.svg");
        var result = Smx.Run("bench", Path.Combine(Repo.Cases, "monarch.smx"), "--layer", "MonarchSquare", "--batch", "1,4", "--time", "0.01", "--svg", svg);

        Assert.True(result.ExitCode == ExitCodes.Ok, result.Describe());
        var lines = result.Out.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("FMA ceiling (register-only loop"));
        Assert.Contains(lines, l => l.StartsWith("Dense baseline: ") && (l.Contains("OpenBLAS sgemm") || l.Contains("generated dense")));
        var header = lines.Single(l => l.StartsWith("│ batch")).Split('│', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Columns, header);

        var rows = lines.Where(l => l.StartsWith('│') && !l.StartsWith("│ batch")).Select(l => l.Split('│', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.Equal(new[] { ("1", "fwd"), ("1", "fwd+bwd"), ("4", "fwd"), ("4", "fwd+bwd") }, rows.Select(r => (r[0], r[1])));
        foreach (var row in rows)
        {
            foreach (var figure in new[] { row[2], row[3], row[4], row[5], row[6], row[7], row[8] }) Assert.True(Number(figure) > 0, $"'{figure}' in {string.Join(" | ", row)}");
        }
        // monarch(blocks: 4) on 16 -> 16: 128 multiply-adds per row against dense's 256.
        Assert.All(rows, r => Assert.Equal("2.00x", r[7]));
        Assert.Contains(lines, l => l.StartsWith("  fwd: "));
        Assert.Contains(lines, l => l.StartsWith("  fwd+bwd: "));

        var points = XDocument.Load(svg).Descendants(XName.Get("circle", "http://www.w3.org/2000/svg")).ToList();
        Assert.Equal(2 * 2 * 2, points.Count);
        Assert.All(points, p => Assert.True(double.Parse((string)p.Attribute("data-seconds")!, CultureInfo.InvariantCulture) > 0));
    }

    [Fact]
    public void A_bad_batch_list_is_a_usage_error()
    {
        var result = Smx.Run("bench", Path.Combine(Repo.Cases, "monarch.smx"), "--batch", "1,x");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("--batch: 'x' is not a batch size", result.Error);
    }

    [Fact]
    public void Break_even_is_the_smallest_batch_from_which_the_structure_wins()
    {
        static StructMat.Cli.Bench.BenchRow Row(int batch, double seconds) => new("L", batch, StructMat.Cli.Bench.Pass.Forward, seconds, 1, 1, 1, 1);

        Assert.Equal(16, StructMat.Cli.Bench.BenchRun.BreakEven(new[] { Row(1, 2), Row(16, 0.5), Row(256, 0.25) }));
        Assert.Null(StructMat.Cli.Bench.BenchRun.BreakEven(new[] { Row(1, 0.5), Row(16, 2) }));
        Assert.Equal(256, StructMat.Cli.Bench.BenchRun.BreakEven(new[] { Row(1, 0.5), Row(16, 2), Row(256, 0.9) }));
    }

    /// <summary>"12.3 µs", "0.50x", "3.1 %", "1.25": the number in front.</summary>
    private static double Number(string figure)
    {
        var value = double.Parse(figure.Split(' ')[0].TrimEnd('x'), CultureInfo.InvariantCulture);
        Assert.True(double.IsFinite(value), figure);
        return value;
    }
}
