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
            .Where(line => line.StartsWith("_", System.StringComparison.Ordinal) && line.Contains("Kernel"))
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
        Assert.Contains("_matMulKernel0(TiledLaunch.Config(Accelerator, (batch + 63) / 64, 64, 256), x, _parameters.Value(0 /* blkdiag1 */), t1, batch);", launches);
        Assert.Contains("_weightGradientKernel5(TiledLaunch.Config(Accelerator, 1, 64, 256), dt1, x, _parameters.Gradient(0 /* blkdiag1 */), batch);", launches);
        Assert.DoesNotContain(launches, line => line.Contains("TransposeKernel", System.StringComparison.Ordinal)); // permutations folded, no permute kernel
    }
}
