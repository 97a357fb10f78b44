using System;
using StructMat.Runtime;
using StructMat.Runtime.Kernels;
using Xunit;

namespace StructMat.Runtime.Tests;

public class BatchTilesTests
{
    [Theory]
    [InlineData(1024, 80, 2, 64)]   // 13 tiles of 80 give one core 7 (544 rows); 16 of 64 give each 8
    [InlineData(1024, 120, 2, 64)]  // 9 tiles of 120: 600 rows on one core
    [InlineData(1024, 64, 2, 64)]   // already even
    [InlineData(1000, 80, 2, 72)]   // 14 tiles of 72 (the last 64): 504 rows each
    [InlineData(1024, 512, 2, 512)] // two tiles
    [InlineData(1024, 80, 1, 80)]   // one worker: nothing to balance
    [InlineData(100, 20, 2, 20)]    // below 64 rows only the given size is tried
    [InlineData(1024, 83, 2, 64)]   // not a multiple of 8
    public void Forward_tiles_share_out_evenly_over_the_workers(int batch, int tileRows, int workers, int expected)
    {
        Assert.Equal(expected, BatchTiles.BalancedTileRows(batch, tileRows, workers));
    }

    [Fact]
    public void Every_row_is_computed_once_whatever_the_tile_rows()
    {
        const int batch = 1000, width = 3;
        var x = new float[batch * width];
        for (int k = 0; k < x.Length; k++) x[k] = k;
        var y = new float[batch * width];
        var counts = new int[batch];
        BatchTiles.Run(x, y, batch, width, width, 80, Array.Empty<Parameter>(), (tileX, tileY, rows) =>
        {
            Assert.True(rows <= 80);
            for (int r = 0; r < rows; r++)
            {
                int row = (int)tileX[r * width] / width;
                System.Threading.Interlocked.Increment(ref counts[row]);
                for (int c = 0; c < width; c++) tileY[r * width + c] = 2 * tileX[r * width + c];
            }
        });
        Assert.All(counts, c => Assert.Equal(1, c));
        for (int k = 0; k < x.Length; k++) Assert.Equal(2f * k, y[k]);
    }
}
