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
        Assert.DoesNotContain(butterfly, line => line.Contains("TiledLaunch"));
    }

    [Fact]
    public void Monarch_launches_row_tiles_by_blocks_and_weight_gradients_by_block_tiles()
    {
        var launches = Launches("layer M : 4096 -> 4096 = monarch(blocks: 64);");
        Assert.Contains("_matMulKernel0(global::StructMat.Runtime.Gpu.TiledLaunch.Config(Accelerator, (batch + 63) / 64, 64, 256), x, _parameters.Value(0 /* blkdiag1 */), t1, batch);", launches);
        // 64 gradient tiles (one per block) and a batch-long reduction: 4 slices of the batch (see the split-K test).
        Assert.Contains("_weightGradientKernel5(global::StructMat.Runtime.Gpu.TiledLaunch.Config(Accelerator, 1, 64, 256, splits: 4), dt1, x, _partials.Get(4, 262144), batch);", launches);
        Assert.DoesNotContain(launches, line => line.Contains("TransposeKernel", System.StringComparison.Ordinal)); // permutations folded, no permute kernel
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
    public void Split_products_write_partial_planes_that_are_summed_in_order_into_the_output()
    {
        var launches = Launches("layer L : 4096 -> 4096 = lowrank(rank: 64);");
        Assert.Contains("_matMulKernel0(global::StructMat.Runtime.Gpu.TiledLaunch.Config(Accelerator, (batch + 63) / 64, 1, 256, splits: 16), x, _parameters.Value(0 /* lora_A */), _partials.Get(16, (long)batch * 64), batch);", launches);
        Assert.Contains("_partials.SumInto(t1, splits: 16, planeLength: (long)batch * 64, alpha: 1.0f, accumulate: false);", launches);
        Assert.Contains("_partials.SumInto(_parameters.Gradient(0 /* lora_A */), splits: 4, planeLength: 262144, alpha: 1.0f, accumulate: true);", launches);
    }
}
