namespace StructMat.Runtime.Kernels;

/// <summary>
/// Decides which engine runs a block product: the one place where shapes, layouts and the machine's vectors choose
/// between <see cref="Gemm"/>, <see cref="GroupLanes"/> and the staged engines of <see cref="StridedStaging"/>. The
/// kernels ask it and run what it says.
/// </summary>
/// <remarks>
/// A forward or transposed product's engine depends on its shape, layouts and vectors, never on the batch, except for
/// the orientation on <see cref="Gemm"/>, which gives the same bits either way: so a row's result never depends on the
/// batch it came with (<see cref="GroupLanes"/> sums in passes of its own depth, <see cref="Gemm"/> in passes of
/// <see cref="Gemm.KC"/>). A weight gradient sums over the batch, so its engine may depend on it.
/// </remarks>
internal static unsafe class BlockProductPlanner
{
    /// <summary>
    /// Fewest groups, and fewest elements a block, with which a strided product is staged. Staging transposes each
    /// strided row, a <c>[block, groups]</c> matrix, by 8 × 8 register blocks; with fewer than 8 groups or a block of fewer
    /// than 8 there is no whole 8 × 8 block and the copy runs element by element. Measured when staging came in (fa47391):
    /// batch 32, 64 blocks of 64, 821 → 136 µs.
    /// </summary>
    public const int StagedMinimumGroups = 8;

    /// <inheritdoc cref="StagedMinimumGroups"/>
    public const int StagedMinimumBlock = 8;

    /// <summary>
    /// Largest block side with which a product strided on both sides runs on <see cref="GroupLanes"/> in place rather
    /// than staged, with 512-bit lanes: a lane block's weights (16 groups' blocks, at most 64 KB) then stay in cache while
    /// the rows pass. Serial time at batch 1024, lanes against staged: 64 groups of 16 × 16 forward 0.35 against 0.61 ms,
    /// transposed 0.39 against 0.67; 32 groups of 32 × 32 forward 0.72 against 0.81; 64 groups of 64 × 64 (256 KB per
    /// lane block) forward 6.6 against 5.7 ms, so larger blocks stay staged. With 256-bit vectors both stay staged.
    /// </summary>
    public const int LanesMaximumBlock = 32;

    /// <summary>
    /// Fewest groups, and fewest elements a block, with which a weight gradient runs strip by strip over the batch (any
    /// layout): read whole, every group would fetch its few columns from every row of both activations after the other
    /// groups' reads had evicted them. Measured when it came in (0bc9907; n = 4096, 64 blocks, batch 1024, CPU time):
    /// CC 7.9 → 6.1 ms, SS 9.8 → 7.6, CS 14.2 → 7.7. The thresholds themselves were not measured: they are the strided
    /// staging's.
    /// </summary>
    public const int StagedGradientMinimumGroups = 8;

    /// <inheritdoc cref="StagedGradientMinimumGroups"/>
    public const int StagedGradientMinimumBlock = 8;

    /// <summary>
    /// Rows below which a product on <see cref="Gemm"/> runs transposed when it has more columns than rows. B is packed
    /// once per call, which costs <c>K·N</c> per group; when <c>M</c> is small that is as much as the product itself, so
    /// the transposed product packs the small A instead. Both orientations give the same bits.
    /// </summary>
    public const int TransposeBelowRows = 64;

    /// <summary>
    /// Fewest depth (batch) rows with which a weight gradient whose activations both interleave their groups runs on
    /// <see cref="GroupLanes"/>: its <c>C</c>, the gradient, is gathered into lanes and back once per call, which must
    /// be small beside the product. No measurement is recorded for 64.
    /// </summary>
    public const int LanesGradientMinimumDepth = 64;

    /// <summary>The engine of <c>y = x · Wᵀ</c> per group (<see cref="CpuKernels.BlockMatMul(System.ReadOnlySpan{float}, System.Span{float}, System.ReadOnlySpan{float}, int, int, int, int, BlockLayout, BlockLayout, float, bool, int)"/>).</summary>
    public static BlockEngine Forward(in BlockShape shape, int batch, int inputGroupXor, VectorSupport vectors) =>
        StagesStrips(shape.Groups, shape.BlockIn, shape.BlockOut, shape.InLayout, shape.OutLayout, vectors)
            ? BlockEngine.StagedStrips
            : ForGroupedProduct(BlockProducts.Forward(null, null, null, batch, shape, 1f, false, true, inputGroupXor), mayTranspose: true, vectors);

    /// <summary>
    /// The engine of <c>dx = dy · W</c> per group (<see cref="CpuKernels.BlockMatMulTransposed(System.ReadOnlySpan{float}, System.Span{float}, System.ReadOnlySpan{float}, int, int, int, int, BlockLayout, BlockLayout, float, bool, int)"/>):
    /// the forward rules with dy as the input side.
    /// </summary>
    public static BlockEngine Transposed(in BlockShape shape, int batch, int inputGroupXor, VectorSupport vectors) =>
        StagesStrips(shape.Groups, shape.BlockOut, shape.BlockIn, shape.OutLayout, shape.InLayout, vectors)
            ? BlockEngine.StagedStrips
            : ForGroupedProduct(BlockProducts.Transposed(null, null, null, batch, shape, 1f, false, true, inputGroupXor), mayTranspose: true, vectors);

    /// <summary>The engine of <c>dW += dyᵀ · x</c> per group (<see cref="CpuKernels.BlockWeightGradient"/>).</summary>
    public static BlockEngine WeightGradient(in BlockShape shape, int batch, int inputGroupXor, VectorSupport vectors) =>
        StagesWeightGradient(shape)
            ? BlockEngine.StagedWeightGradient
            : ForGroupedProduct(BlockProducts.WeightGradient(null, null, null, batch, shape, 1f, inputGroupXor), mayTranspose: true, vectors);

    /// <summary>
    /// Whether <paramref name="products"/> weight gradients over the same activations (<see cref="CpuKernels.BlockWeightGradients"/>)
    /// stage each strip once for all (<see cref="BlockEngine.StagedWeightGradient"/>), or run one by one
    /// (<see cref="BlockEngine.SeparateProducts"/>): they share staging where one of them alone would be staged.
    /// </summary>
    public static BlockEngine WeightGradients(in BlockShape shape, int products) =>
        products > 1 && StagesWeightGradient(shape) ? BlockEngine.StagedWeightGradient : BlockEngine.SeparateProducts;

    /// <summary>
    /// Whether a product's input and weight gradients (<see cref="CpuKernels.BlockMatMulBackward"/>) run from one staging
    /// of dy (<see cref="BlockEngine.StagedBackward"/>) or as the two kernels (<see cref="BlockEngine.SeparateProducts"/>):
    /// together where the weight gradient is staged and the input gradient, alone, would be staged too or is contiguous
    /// (the same kernels then give the same bits). Not where the input gradient runs on <see cref="GroupLanes"/> in place.
    /// </summary>
    public static BlockEngine Backward(in BlockShape shape, VectorSupport vectors) =>
        StagesWeightGradient(shape)
        && (shape.InLayout == BlockLayout.Contiguous && shape.OutLayout == BlockLayout.Contiguous
            || StagesStrips(shape.Groups, shape.BlockOut, shape.BlockIn, shape.OutLayout, shape.InLayout, vectors))
            ? BlockEngine.StagedBackward
            : BlockEngine.SeparateProducts;

    /// <summary>
    /// The engine of one staging strip's product (contiguous copies against the weights): a strip whose B is a
    /// parameter runs as it is even when short, since the strips' scope keeps the parameter packed for the whole call;
    /// run transposed, every strip would pack its activations instead.
    /// </summary>
    public static BlockEngine ForStrip(in GroupedProduct strip, VectorSupport vectors) =>
        ForGroupedProduct(strip, mayTranspose: !strip.BIsParameter, vectors);

    /// <summary>
    /// The engine of one grouped product: <see cref="GroupLanes"/> where it suits (see <see cref="SuitsLanes"/>), else
    /// <see cref="Gemm"/>, transposed when it has fewer than <see cref="TransposeBelowRows"/> rows and more columns than
    /// rows (unless <paramref name="mayTranspose"/> is false) — but not one of at most <see cref="MicroKernels.MR"/>
    /// rows, which Gemm streams.
    /// </summary>
    public static BlockEngine ForGroupedProduct(in GroupedProduct p, bool mayTranspose, VectorSupport vectors)
    {
        if (SuitsLanes(p, vectors)) return BlockEngine.GroupLanes;
        // At most one register tile of rows streams B as it is (Gemm's StreamingJob): transposed, the tiles would
        // hold MR weight rows against a batch of one to eight, most of their multiply-adds wasted.
        if (p.M <= MicroKernels.MR) return BlockEngine.Gemm;
        return mayTranspose && p.M < TransposeBelowRows && p.M < p.N ? BlockEngine.GemmTransposed : BlockEngine.Gemm;
    }

    /// <summary>
    /// Whether a strided forward or transposed product is staged: a strided side, at least
    /// <see cref="StagedMinimumGroups"/> groups and blocks of <see cref="StagedMinimumBlock"/>, the 8 × 8 register
    /// transposes (AVX), and not one that <see cref="GroupLanes"/> runs faster in place (<see cref="LanesOutrunStaging"/>).
    /// </summary>
    private static bool StagesStrips(int groups, int inBlock, int outBlock, BlockLayout inLayout, BlockLayout outLayout, VectorSupport vectors) =>
        (inLayout == BlockLayout.Strided || outLayout == BlockLayout.Strided)
        && groups >= StagedMinimumGroups && inBlock >= StagedMinimumBlock && outBlock >= StagedMinimumBlock && vectors.HasAvx
        && !LanesOutrunStaging(groups, inBlock, outBlock, inLayout, outLayout, vectors);

    /// <summary>
    /// Whether a product strided on both sides runs on <see cref="GroupLanes"/> in place rather than staged: 512-bit
    /// lanes, the groups in whole lane vectors, and blocks of at most <see cref="LanesMaximumBlock"/> a side.
    /// </summary>
    private static bool LanesOutrunStaging(int groups, int inBlock, int outBlock, BlockLayout inLayout, BlockLayout outLayout, VectorSupport vectors) =>
        vectors.Has512BitVectors && inLayout == BlockLayout.Strided && outLayout == BlockLayout.Strided
        && groups >= vectors.Lanes && groups % vectors.Lanes == 0 && inBlock <= LanesMaximumBlock && outBlock <= LanesMaximumBlock;

    /// <summary>Whether a weight gradient runs strip by strip (any layout, with or without AVX).</summary>
    private static bool StagesWeightGradient(in BlockShape shape) =>
        shape.Groups >= StagedGradientMinimumGroups && shape.BlockOut >= StagedGradientMinimumBlock && shape.BlockIn >= StagedGradientMinimumBlock;

    /// <summary>
    /// Whether a grouped product suits the lane engine: the groups fill whole lane vectors, A interleaves them (group
    /// stride 1, so one load holds a row's element of every group in a vector), no group XOR (lanes read each group at
    /// its own index), and either C interleaves them too, or B does and the depth is at least
    /// <see cref="LanesGradientMinimumDepth"/> (a weight gradient, whose C is gathered into lanes once).
    /// </summary>
    private static bool SuitsLanes(in GroupedProduct p, VectorSupport vectors) =>
        p.Groups >= vectors.Lanes && p.Groups % vectors.Lanes == 0 && p.AGroupStride == 1 && p.AGroupXor == 0 && p.BGroupXor == 0
        && (p.CGroupStride == 1 || p.BGroupStride == 1 && p.K >= LanesGradientMinimumDepth);
}
