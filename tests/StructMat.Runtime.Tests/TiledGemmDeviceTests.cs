using System;
using ILGPU;
using ILGPU.Runtime;
using StructMat.Runtime.Gpu;
using Xunit;

namespace StructMat.Runtime.Tests;

/// <summary>
/// The runtime's tiled block product on ILGPU's CPU accelerator against a float64 loop written from
/// <see cref="GemmShape"/>'s definition (<c>C[g, r, c] (+)= α Σ_k A[g, r, k] B[g, k, c]</c> through the three views),
/// independent of the compiler that writes the shapes: edge tiles in every dimension, strided views, a block swap,
/// α with accumulation, split-K over fixed slices and over the launch rows.
/// </summary>
public sealed class TiledGemmDeviceTests : IDisposable
{
    private readonly Context _context = Devices.CreateContext();
    private readonly Accelerator _cpu;

    public TiledGemmDeviceTests() => _cpu = Devices.CreateCpuAccelerator(_context);

    public void Dispose()
    {
        _cpu.Dispose();
        _context.Dispose();
    }

    /// <summary>A block product over a [rows, groups·k] input and [groups, cols, k] weights, as a layer's matmul has it.</summary>
    private static GemmShape MatMul(int groups, int cols, int k, GemmTile tile, bool strided = false, int xor = 0, float alpha = 1f, bool accumulate = false)
    {
        var (inWidth, outWidth) = (groups * k, groups * cols);
        var a = strided ? new GemmView(1, inWidth, groups, xor) : new GemmView(k, inWidth, 1, xor);
        var c = strided ? new GemmView(1, outWidth, groups) : new GemmView(cols, outWidth, 1);
        return new GemmShape(a, new GemmView(cols * k, 1, k), c, Rows: 0, cols, k, groups, tile, alpha, accumulate, PadA: true, PadB: true);
    }

    public static TheoryData<string, int> Cases => new()
    {
        { "edges", 37 },            // 64-row tiles over 37 rows, 16-wide tiles over 10 columns, a 3-long reduction
        { "columnTiles", 70 },      // two column tiles per block, the second partial, two row tiles
        { "stridedXorScaled", 20 }, // strided input and output, block g reads block g XOR 1, α = 0.5, accumulating
        { "splitK", 9 },            // a 600-long reduction in 3 slices of 208, scaled and accumulated
        { "gradientSplit", 45 },    // a weight gradient: reduction over the launch rows, in 4 slices of whole steps
    };

    private static GemmShape Shape(string name) => name switch
    {
        "edges" => MatMul(groups: 3, cols: 10, k: 3, new GemmTile(64, 16, 3)),
        "columnTiles" => MatMul(groups: 2, cols: 72, k: 20, new GemmTile(64, 64, 16)),
        "stridedXorScaled" => MatMul(groups: 4, cols: 8, k: 8, new GemmTile(64, 8, 8), strided: true, xor: 1, alpha: 0.5f, accumulate: true),
        "splitK" => MatMul(groups: 1, cols: 12, k: 600, new GemmTile(64, 16, 16, Splits: 3, SliceK: 208), alpha: -2f, accumulate: true),
        // dW[g, o, i] += Σ_b dy[b, g·o] x[b, g·i] over 2 groups of 12 x 20: A = dy as (g, o, b), B = x as (g, b, i).
        "gradientSplit" => new GemmShape(new GemmView(12, 1, 24), new GemmView(20, 40, 1), new GemmView(240, 20, 1), Rows: 12, Cols: 20, K: 0, Groups: 2,
            new GemmTile(16, 32, 16, Splits: 4), Accumulate: true),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    /// <summary>The definition, in float64: every element of C the shape covers, from what C held before.</summary>
    private static double[] Reference(GemmShape s, float[] a, float[] b, float[] c, int rows)
    {
        var result = Array.ConvertAll(c, v => (double)v);
        int extentRows = s.Rows != 0 ? s.Rows : rows, extentK = s.K != 0 ? s.K : rows;
        for (var g = 0; g < s.Groups; g++)
        for (var r = 0; r < extentRows; r++)
        for (var col = 0; col < s.Cols; col++)
        {
            var sum = 0.0;
            for (var k = 0; k < extentK; k++) sum += (double)a[s.A.At(g, r, k)] * b[s.B.At(g, k, col)];
            var at = s.C.At(g, r, col);
            result[at] = ((s.Flags & GemmFlags.Accumulate) != 0 ? result[at] : 0.0) + s.Alpha * sum;
        }
        return result;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_the_definition_in_float64(string name, int rows)
    {
        var s = Shape(name);
        int extentRows = s.Rows != 0 ? s.Rows : rows, extentK = s.K != 0 ? s.K : rows;
        // Operand and output lengths from the views' largest offsets.
        static int Length(GemmView v, int groups, int x, int y) => v.At(0, x - 1, y - 1) + Math.Max(0, groups - 1) * v.GroupStride + 1;
        var random = new Random(17);
        float[] Fill(int length)
        {
            var values = new float[length];
            for (var i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
            return values;
        }
        var a = Fill(Length(s.A, s.Groups, extentRows, extentK));
        var b = Fill(Length(s.B, s.Groups, extentK, s.Cols));
        var c = Fill(Length(s.C, s.Groups, extentRows, s.Cols));
        var expected = Reference(s, a, b, c, rows);

        using var device = new TiledGemmDevice(_cpu);
        using var da = _cpu.Allocate1D(a);
        using var db = _cpu.Allocate1D(b);
        using var dc = _cpu.Allocate1D(c);
        device.Run(s, da.View, db.View, dc.View, rows);
        var actual = dc.GetAsArray1D();

        var scale = 1.0;
        foreach (var v in expected) scale = Math.Max(scale, Math.Abs(v));
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5 * scale * Math.Sqrt(extentK),
                $"{name}: C[{i}] = {actual[i]}, float64 definition {expected[i]}");
        }
    }

    [Fact]
    public void The_boolean_constructor_and_the_flags_describe_the_same_shape()
    {
        var view = new GemmView(4, 16, 1);
        var tile = new GemmTile(64, 4, 4);
        Assert.Equal(new GemmShape(view, view, view, 0, 4, 4, 4, tile, 1f, GemmFlags.Accumulate | GemmFlags.PadB),
                     new GemmShape(view, view, view, 0, 4, 4, 4, tile, Accumulate: true, PadB: true));
        Assert.Equal(sizeof(float) * 4 * (64 + 4 + 1), new GemmShape(view, view, view, 0, 4, 4, 4, new GemmTile(64, 4, 4), PadB: true).SharedBytes);
    }

    [Fact]
    public void Zero_rows_write_nothing_and_a_tile_that_is_not_micro_tiles_is_refused()
    {
        var s = MatMul(groups: 1, cols: 8, k: 8, new GemmTile(64, 8, 8));
        using var device = new TiledGemmDevice(_cpu);
        using var c = _cpu.Allocate1D(new[] { 3f });
        device.Run(s, default, default, c.View, rows: 0);
        Assert.Equal(3f, c.GetAsArray1D()[0]);
        Assert.Throws<ArgumentException>(() => device.Run(s with { Tile = new GemmTile(62, 8, 8) }, default, default, c.View, rows: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => device.Run(s, default, default, c.View, rows: -1));
    }
}
