using System.Linq;
using StructMat.Compiler.Emit;
using Xunit;

namespace StructMat.Compiler.Tests;

/// <summary>The tile shapes and launch configurations the GPU emitter chooses from the op shapes.</summary>
public class GpuTilingTests
{
    private static string[] Launches(string smx) =>
        SmxCompiler.Compile(smx, "test.smx").Source!.Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.StartsWith("_", System.StringComparison.Ordinal) && line.EndsWith(");", System.StringComparison.Ordinal) && !line.Contains("GetOrLoad"))
            .ToArray();

    [Fact]
    public void Tiles_are_64_by_64_by_16_for_64_wide_blocks()
    {
        // Monarch at n = 4096 with 64 blocks: every block product is 64 x 64.
        var tiling = GemmTiling.Choose(rows: null, cols: 64, k: 64, groups: 64, reductionFastInA: true, reductionFastInB: true)!;
        Assert.Equal((64, 64, 16), (tiling.TileRows, tiling.TileCols, tiling.TileK));
        Assert.Equal(256, tiling.MicroTiles);
        Assert.Equal(16 * (65 + 65) * sizeof(float), tiling.SharedBytes);
    }

    [Fact]
    public void Tiles_shrink_to_the_next_power_of_two_and_reductions_shorter_than_a_step_are_one_step()
    {
        var narrow = GemmTiling.Choose(rows: null, cols: 10, k: 3, groups: 1, reductionFastInA: true, reductionFastInB: true)!;
        Assert.Equal((64, 16, 3, 64), (narrow.TileRows, narrow.TileCols, narrow.TileK, narrow.MicroTiles));
        var gradient = GemmTiling.Choose(rows: 12, cols: 20, k: null, groups: 4, reductionFastInA: false, reductionFastInB: false)!;
        Assert.Equal((16, 32, 16, 32), (gradient.TileRows, gradient.TileCols, gradient.TileK, gradient.MicroTiles));
        Assert.Equal(16 * (16 + 32) * sizeof(float), gradient.SharedBytes);
    }

    [Fact]
    public void Blocks_narrower_than_a_micro_tile_keep_the_one_thread_per_output_kernel()
    {
        Assert.Null(GemmTiling.Choose(rows: null, cols: 2, k: 2, groups: 2048, reductionFastInA: true, reductionFastInB: true));
        Assert.Null(GemmTiling.Choose(rows: 2, cols: 2, k: null, groups: 2048, reductionFastInA: false, reductionFastInB: false));
        var butterfly = Launches("layer B : 16 -> 16 = butterfly();");
        Assert.NotEmpty(butterfly);
        Assert.DoesNotContain(butterfly, line => line.Contains("_gemm.Run"));
    }

    private static string Shape(string smx, string field) =>
        SmxCompiler.Compile(smx, "test.smx").Source!.Split('\n').Select(line => line.Trim())
            .Single(line => line.StartsWith($"private static readonly global::StructMat.Runtime.Gpu.GemmShape {field} = ", System.StringComparison.Ordinal))
            .Replace("global::StructMat.Runtime.Gpu.", "");

    [Fact]
    public void Monarch_runs_its_block_products_on_the_shared_tiled_kernel_and_splits_weight_gradients_over_the_batch()
    {
        const string monarch = "layer M : 4096 -> 4096 = monarch(blocks: 64);";
        var launches = Launches(monarch);
        Assert.Contains("_gemm.Run(MatMul0, x, DeviceParameters.Value(0 /* blkdiag1 */), t1, batch);", launches);
        // 64 blocks of 64 x 64 in 64 x 64 x 16 tiles: the first factor reads x contiguously, both tiles stage transposed (padded).
        Assert.Equal("private static readonly GemmShape MatMul0 = new(A: new(64, 4096, 1), B: new(4096, 1, 64), C: new(64, 4096, 1), Rows: 0, Cols: 64, K: 64, " +
                     "Groups: 64, Tile: new(64, 64, 16), PadA: true, PadB: true);", Shape(monarch, "MatMul0"));
        // The second factor reads and writes strided (the permutations folded): group stride 1, element stride 64.
        Assert.Contains("C: new(1, 4096, 64)", Shape(monarch, "MatMul1"));
        // 64 gradient tiles (one per block) and a batch-long reduction: 4 slices of the batch (see the split-K test).
        Assert.Contains("_gemm.Run(WeightGradient5, dt1, x, DeviceParameters.Gradient(0 /* blkdiag1 */), batch);", launches);
        Assert.Contains("Rows: 64, Cols: 64, K: 0, Groups: 64, Tile: new(64, 64, 16, Splits: 4), Accumulate: true);", Shape(monarch, "WeightGradient5"));
        Assert.DoesNotContain(launches, line => line.Contains("TransposeKernel", System.StringComparison.Ordinal)); // permutations folded, no permute kernel
        // No layer carries a tiled kernel of its own any more.
        Assert.DoesNotContain("SharedMemory", SmxCompiler.Compile(monarch, "test.smx").Source!, System.StringComparison.Ordinal);
    }

    [Fact]
    public void A_long_reduction_with_few_output_tiles_is_split_into_slices()
    {
        // lowrank(64) at n = 4096: lora_A's product has 64 outputs and a 4096-long reduction; unsplit, a batch of
        // 1024 would be 16 groups. 16 slices of 256 give 256.
        var down = GemmTiling.Choose(rows: null, cols: 64, k: 4096, groups: 1, reductionFastInA: true, reductionFastInB: true)!;
        Assert.Equal((16, 256), (down.Splits, down.SliceK));
        // Its gradient (64 x 4096: 64 tiles) reduces over 4 slices of the batch.
        var gradient = GemmTiling.Choose(rows: 64, cols: 4096, k: null, groups: 1, reductionFastInA: false, reductionFastInB: false)!;
        Assert.Equal((4, (int?)null), (gradient.Splits, gradient.SliceK));
        // Monarch's 64-long block reductions are never split; many output tiles are not either.
        Assert.False(GemmTiling.Choose(rows: null, cols: 64, k: 64, groups: 64, reductionFastInA: true, reductionFastInB: true)!.IsSplit);
        Assert.False(GemmTiling.Choose(rows: null, cols: 4096, k: 4096, groups: 1, reductionFastInA: true, reductionFastInB: true)!.IsSplit);
        // A reduction that does not divide into the slices keeps whole steps per slice.
        var ragged = GemmTiling.Choose(rows: null, cols: 16, k: 1000, groups: 1, reductionFastInA: true, reductionFastInB: true)!;
        Assert.Equal((3, 336), (ragged.Splits, ragged.SliceK));
    }

    [Fact]
    public void Split_products_declare_their_slices_in_the_shape()
    {
        const string lowRank = "layer L : 4096 -> 4096 = lowrank(rank: 64);";
        Assert.Contains("_gemm.Run(MatMul0, x, DeviceParameters.Value(0 /* lora_A */), t1, batch);", Launches(lowRank));
        Assert.Contains("Rows: 0, Cols: 64, K: 4096, Groups: 1, Tile: new(64, 64, 16, Splits: 16, SliceK: 256), PadA: true, PadB: true);", Shape(lowRank, "MatMul0"));
        Assert.Contains("Rows: 64, Cols: 4096, K: 0, Groups: 1, Tile: new(64, 64, 16, Splits: 4), Accumulate: true);", Shape(lowRank, "WeightGradient5"));
    }
}
