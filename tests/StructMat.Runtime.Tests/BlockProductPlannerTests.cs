using StructMat.Runtime.Kernels;
using Xunit;
using static StructMat.Runtime.Kernels.BlockLayout;

namespace StructMat.Runtime.Tests;

/// <summary>
/// Which engine runs a block product (<see cref="BlockProductPlanner"/>): one test per rule and per boundary, on every
/// vector width the kernels support whatever this machine has.
/// </summary>
public class BlockProductPlannerTests
{
    private static readonly VectorSupport Avx512 = new(Has512BitVectors: true, HasAvx: true);
    private static readonly VectorSupport Avx2 = new(Has512BitVectors: false, HasAvx: true);
    private static readonly VectorSupport NoAvx = new(Has512BitVectors: false, HasAvx: false);

    private const int Batch = 1024;

    private static BlockShape Shape(int groups, int blockOut, int blockIn, BlockLayout inLayout, BlockLayout outLayout) =>
        BlockShape.Create(Batch, groups, blockOut, blockIn, inLayout, outLayout);

    /// <summary>The engine named in a test case (xunit needs public parameter types; the engines are internal).</summary>
    private static BlockEngine Engine(string name) => System.Enum.Parse<BlockEngine>(name);

    private static VectorSupport Vectors(string name) => name switch
    {
        "avx512" => Avx512,
        "avx2" => Avx2,
        _ => NoAvx,
    };

    // Staged strips: a strided side, 8 groups and blocks of 8, AVX.

    [Theory]
    [InlineData(Contiguous, Strided)]
    [InlineData(Strided, Contiguous)]
    [InlineData(Strided, Strided)]
    public void A_strided_product_with_8_groups_of_8_by_8_is_staged(BlockLayout inLayout, BlockLayout outLayout)
    {
        Assert.Equal(BlockEngine.StagedStrips, BlockProductPlanner.Forward(Shape(8, 8, 8, inLayout, outLayout), Batch, 0, Avx2));
    }

    [Theory]
    [InlineData(7, 8, 8)]
    [InlineData(8, 7, 8)]
    [InlineData(8, 8, 7)]
    public void A_strided_product_with_fewer_than_8_groups_or_a_block_side_under_8_is_not_staged(int groups, int blockOut, int blockIn)
    {
        Assert.Equal(BlockEngine.Gemm, BlockProductPlanner.Forward(Shape(groups, blockOut, blockIn, Contiguous, Strided), Batch, 0, Avx2));
    }

    [Fact]
    public void A_contiguous_product_is_never_staged()
    {
        Assert.Equal(BlockEngine.Gemm, BlockProductPlanner.Forward(Shape(64, 64, 64, Contiguous, Contiguous), Batch, 0, Avx512));
    }

    [Fact]
    public void Staging_needs_AVX_for_its_register_transposes()
    {
        var shape = Shape(64, 64, 64, Contiguous, Strided);
        Assert.Equal(BlockEngine.StagedStrips, BlockProductPlanner.Forward(shape, Batch, 0, Avx2));
        Assert.Equal(BlockEngine.Gemm, BlockProductPlanner.Forward(shape, Batch, 0, NoAvx));
    }

    [Theory]
    [InlineData(8, nameof(BlockEngine.StagedStrips))]
    [InlineData(7, nameof(BlockEngine.Gemm))]
    public void The_transposed_product_is_staged_by_the_forward_rule(int groups, string expected)
    {
        Assert.Equal(Engine(expected), BlockProductPlanner.Transposed(Shape(groups, 8, 8, Strided, Contiguous), Batch, 0, Avx2));
    }

    // Lanes against staging for products strided on both sides.

    [Theory]
    [InlineData(16, 16, nameof(BlockEngine.GroupLanes))]
    [InlineData(32, 32, nameof(BlockEngine.GroupLanes))]
    [InlineData(33, 32, nameof(BlockEngine.StagedStrips))]
    [InlineData(32, 33, nameof(BlockEngine.StagedStrips))]
    [InlineData(64, 64, nameof(BlockEngine.StagedStrips))]
    public void With_512_bit_vectors_lanes_run_doubly_strided_products_with_block_sides_up_to_32(int blockOut, int blockIn, string expected)
    {
        var shape = Shape(64, blockOut, blockIn, Strided, Strided);
        Assert.Equal(Engine(expected), BlockProductPlanner.Forward(shape, Batch, 0, Avx512));
        Assert.Equal(Engine(expected), BlockProductPlanner.Transposed(shape, Batch, 0, Avx512));
    }

    [Fact]
    public void With_256_bit_vectors_doubly_strided_products_with_small_blocks_stay_staged()
    {
        var shape = Shape(64, 16, 16, Strided, Strided);
        Assert.Equal(BlockEngine.StagedStrips, BlockProductPlanner.Forward(shape, Batch, 0, Avx2));
        Assert.Equal(BlockEngine.StagedStrips, BlockProductPlanner.Transposed(shape, Batch, 0, Avx2));
    }

    [Theory]
    [InlineData(48, nameof(BlockEngine.GroupLanes))]   // three lane vectors
    [InlineData(40, nameof(BlockEngine.StagedStrips))] // two and a half
    [InlineData(8, nameof(BlockEngine.StagedStrips))]  // half of one
    public void With_512_bit_vectors_lanes_outrun_staging_only_for_a_multiple_of_16_groups(int groups, string expected)
    {
        Assert.Equal(Engine(expected), BlockProductPlanner.Forward(Shape(groups, 16, 16, Strided, Strided), Batch, 0, Avx512));
    }

    // Lanes for small interleaved blocks (butterfly factors), which are never staged.

    [Theory]
    [InlineData("avx2", 8, nameof(BlockEngine.GroupLanes))]
    [InlineData("avx2", 16, nameof(BlockEngine.GroupLanes))]
    [InlineData("avx2", 12, nameof(BlockEngine.Gemm))]
    [InlineData("avx512", 16, nameof(BlockEngine.GroupLanes))]
    [InlineData("avx512", 8, nameof(BlockEngine.Gemm))]
    [InlineData("avx512", 24, nameof(BlockEngine.Gemm))]
    public void Lanes_need_the_groups_in_whole_vectors_of_16_or_8(string vectors, int groups, string expected)
    {
        Assert.Equal(Engine(expected), BlockProductPlanner.Forward(Shape(groups, 2, 2, Strided, Strided), Batch, 0, Vectors(vectors)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(4096)]
    public void Interleaved_products_take_lanes_whatever_the_batch(int batch)
    {
        var shape = BlockShape.Create(batch, 512, 2, 2, Strided, Strided);
        Assert.Equal(BlockEngine.GroupLanes, BlockProductPlanner.Forward(shape, batch, 0, Avx512));
        Assert.Equal(BlockEngine.GroupLanes, BlockProductPlanner.Transposed(shape, batch, 0, Avx512));
    }

    [Theory]
    [InlineData(Contiguous, Strided)]
    [InlineData(Strided, Contiguous)]
    public void Lanes_need_both_activations_of_a_product_interleaved(BlockLayout inLayout, BlockLayout outLayout)
    {
        Assert.Equal(BlockEngine.Gemm, BlockProductPlanner.Forward(Shape(512, 2, 2, inLayout, outLayout), Batch, 0, Avx512));
    }

    [Fact]
    public void Lanes_do_not_take_a_product_with_a_group_xor()
    {
        // Blocks of 1 × 1 side by side are interleaved too (group stride 1), so only the XOR keeps them off the lanes.
        var shape = Shape(16, 1, 1, Contiguous, Contiguous);
        Assert.Equal(BlockEngine.GroupLanes, BlockProductPlanner.Forward(shape, Batch, 0, Avx512));
        Assert.Equal(BlockEngine.Gemm, BlockProductPlanner.Forward(shape, Batch, 1, Avx512));
        Assert.Equal(BlockEngine.Gemm, BlockProductPlanner.Transposed(shape, Batch, 1, Avx512));
    }

    // Orientation on Gemm.

    [Theory]
    [InlineData(63, 64, nameof(BlockEngine.GemmTransposed))]
    [InlineData(64, 64, nameof(BlockEngine.Gemm))]
    [InlineData(64, 256, nameof(BlockEngine.Gemm))]
    [InlineData(63, 63, nameof(BlockEngine.Gemm))]
    [InlineData(9, 64, nameof(BlockEngine.GemmTransposed))]
    [InlineData(8, 64, nameof(BlockEngine.Gemm))] // one register tile of rows: streamed, not transposed
    [InlineData(1, 2, nameof(BlockEngine.Gemm))]
    public void A_product_with_9_to_63_rows_and_more_columns_runs_transposed(int batch, int blockOut, string expected)
    {
        var shape = BlockShape.Create(batch, 1, blockOut, 256, Contiguous, Contiguous);
        Assert.Equal(Engine(expected), BlockProductPlanner.Forward(shape, batch, 0, Avx512));
    }

    [Theory]
    [InlineData(true, nameof(BlockEngine.Gemm))]
    [InlineData(false, nameof(BlockEngine.GemmTransposed))]
    public void A_staging_strip_runs_untransposed_when_its_weights_are_a_parameter_kept_packed(bool weightIsParameter, string expected)
    {
        // 16 rows of 8 groups, contiguous copies: [16, 64] · [64, 64] per group.
        var strip = new GroupedProduct(8, 16, 64, 64, default, 64, default, 64 * 64, default, 64, 1f, false, weightIsParameter);
        Assert.Equal(Engine(expected), BlockProductPlanner.ForStrip(strip, Avx512));
    }

    // Weight gradients.

    [Theory]
    [InlineData(Contiguous, Contiguous, "avx2")]
    [InlineData(Contiguous, Strided, "avx2")]
    [InlineData(Strided, Contiguous, "avx2")]
    [InlineData(Strided, Strided, "avx512")]
    [InlineData(Strided, Strided, "noavx")]
    public void Weight_gradients_with_8_groups_of_8_by_8_are_staged_in_any_layout_with_or_without_AVX(BlockLayout inLayout, BlockLayout outLayout, string vectors)
    {
        Assert.Equal(BlockEngine.StagedWeightGradient, BlockProductPlanner.WeightGradient(Shape(8, 8, 8, inLayout, outLayout), Batch, 0, Vectors(vectors)));
    }

    [Theory]
    [InlineData(7, 8, 8, nameof(BlockEngine.Gemm))]
    [InlineData(8, 8, 7, nameof(BlockEngine.Gemm))]
    [InlineData(8, 7, 8, nameof(BlockEngine.Gemm))] // 7 rows (blockOut): one register tile, streamed, not transposed
    [InlineData(7, 9, 10, nameof(BlockEngine.GemmTransposed))] // 9 rows against 10 columns
    public void Weight_gradients_with_fewer_than_8_groups_or_a_block_side_under_8_run_as_one_grouped_product(int groups, int blockOut, int blockIn, string expected)
    {
        Assert.Equal(Engine(expected), BlockProductPlanner.WeightGradient(Shape(groups, blockOut, blockIn, Contiguous, Contiguous), Batch, 0, Avx2));
    }

    [Theory]
    [InlineData(64, nameof(BlockEngine.GroupLanes))]
    [InlineData(63, nameof(BlockEngine.Gemm))]
    public void Interleaved_weight_gradients_take_lanes_from_a_batch_of_64(int batch, string expected)
    {
        var shape = BlockShape.Create(batch, 512, 2, 2, Strided, Strided);
        Assert.Equal(Engine(expected), BlockProductPlanner.WeightGradient(shape, batch, 0, Avx512));
    }

    [Fact]
    public void A_weight_gradient_takes_lanes_only_with_both_activations_interleaved()
    {
        Assert.Equal(BlockEngine.Gemm, BlockProductPlanner.WeightGradient(Shape(512, 2, 2, Contiguous, Strided), Batch, 0, Avx512));
        Assert.Equal(BlockEngine.Gemm, BlockProductPlanner.WeightGradient(Shape(512, 2, 2, Strided, Contiguous), Batch, 0, Avx512));
    }

    [Theory]
    [InlineData(8, 2, nameof(BlockEngine.StagedWeightGradient))]
    [InlineData(8, 1, nameof(BlockEngine.SeparateProducts))]
    [InlineData(7, 2, nameof(BlockEngine.SeparateProducts))]
    public void Several_weight_gradients_share_one_staging_where_each_would_be_staged(int groups, int products, string expected)
    {
        Assert.Equal(Engine(expected), BlockProductPlanner.WeightGradients(Shape(groups, 8, 8, Contiguous, Contiguous), products));
    }

    // Both gradients at once.

    [Theory]
    [InlineData(Contiguous, Contiguous, "avx2", nameof(BlockEngine.StagedBackward))]
    [InlineData(Contiguous, Contiguous, "noavx", nameof(BlockEngine.StagedBackward))] // contiguous dy needs no transposes
    [InlineData(Contiguous, Strided, "avx2", nameof(BlockEngine.StagedBackward))]
    [InlineData(Contiguous, Strided, "noavx", nameof(BlockEngine.SeparateProducts))] // the input gradient alone is not staged
    [InlineData(Strided, Strided, "avx2", nameof(BlockEngine.StagedBackward))]
    [InlineData(Strided, Strided, "avx512", nameof(BlockEngine.SeparateProducts))]  // the input gradient runs on lanes in place
    public void Both_gradients_share_one_staging_of_dy_where_the_input_gradient_is_contiguous_or_staged(BlockLayout inLayout, BlockLayout outLayout, string vectors, string expected)
    {
        Assert.Equal(Engine(expected), BlockProductPlanner.Backward(Shape(64, 16, 16, inLayout, outLayout), Vectors(vectors)));
    }

    [Theory]
    [InlineData(7, 8, 8)]
    [InlineData(8, 7, 8)]
    [InlineData(8, 8, 7)]
    public void Both_gradients_run_as_the_two_kernels_below_8_groups_or_a_block_side_of_8(int groups, int blockOut, int blockIn)
    {
        Assert.Equal(BlockEngine.SeparateProducts, BlockProductPlanner.Backward(Shape(groups, blockOut, blockIn, Contiguous, Contiguous), Avx2));
    }

    [Fact]
    public void The_current_vector_support_is_this_process_s()
    {
        Assert.Equal(System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated, VectorSupport.Current.Has512BitVectors);
        Assert.Equal(System.Runtime.Intrinsics.X86.Avx.IsSupported, VectorSupport.Current.HasAvx);
        Assert.Equal(VectorSupport.Current.Has512BitVectors ? 16 : 8, GroupLanes.Lanes);
    }
}
