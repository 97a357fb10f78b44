using System;
using Xunit;

namespace StructMat.Runtime.Tests;

/// <summary>The argument checks generated layers call first.</summary>
public class ChecksTests
{
    [Fact]
    public void Disjoint_rejects_an_output_that_overlaps_the_input_and_names_both()
    {
        var buffer = new float[20];
        var error = Assert.Throws<ArgumentException>(() => Checks.Disjoint(buffer, 8, buffer.AsSpan(7), 8, "x", "y"));
        Assert.Equal("y", error.ParamName);
        Assert.StartsWith("'y' overlaps 'x': the layer reads 'x' while it writes 'y'", error.Message);
        Assert.Throws<ArgumentException>(() => Checks.Disjoint(buffer.AsSpan(4), 8, buffer, 8, "dy", "dx"));
        Assert.Throws<ArgumentException>(() => Checks.Disjoint(buffer, 8, buffer, 8, "x", "y"));
    }

    [Fact]
    public void Disjoint_accepts_adjacent_ranges_and_looks_only_at_the_used_lengths()
    {
        var buffer = new float[20];
        Checks.Disjoint(buffer, 8, buffer.AsSpan(8), 8, "x", "y");
        // x is longer than batch × features: its unused tail may hold y.
        Checks.Disjoint(buffer, 4, buffer.AsSpan(4), 16, "x", "y");
        Checks.Disjoint(new float[4], 4, new float[4], 4, "x", "y");
        Checks.Disjoint(buffer, 0, buffer, 8, "x", "y");
    }
}
