using System;
using System.Buffers;
using System.Threading.Tasks;

namespace StructMat.Runtime.Kernels;

/// <summary>
/// Block products whose activations interleave their groups (the strided layout that a folded Monarch permutation
/// produces) run strip by strip on contiguous copies. A strided row holds element <c>(g, j)</c> at <c>j·groups + g</c>,
/// which is a <c>[block, groups]</c> matrix whose transpose is the contiguous layout: a strip of rows is transposed
/// into a scratch buffer with 8 × 8 register transposes, the product runs on <see cref="Gemm"/>'s contiguous path,
/// and a strided output is transposed back. The copies stay in cache, and the product runs at the contiguous speed
/// instead of gathering one element per cache line.
/// </summary>
/// <remarks>
/// Each row's result depends only on the row (the product's summation order depends on <c>K</c> alone, see
/// <see cref="Gemm"/>), never on the strips, the threads or the batch; whether a product is staged depends on its
/// shape and layouts only.
/// </remarks>
internal static unsafe class StridedStaging
{
    /// <summary>
    /// Floats of one strip's activations on its wider side (2 MB). Measured at n = 4096, 64 blocks of 64, batch 1024:
    /// strips of 64, 128 and 256 rows ran alike; 16 and 32 rows ran about twice as slow, since <see cref="Gemm"/>
    /// runs products of fewer than 64 rows transposed and packs the activations on every call.
    /// </summary>
    private const int StripFloats = 512 * 1024;

    /// <summary>Fewest rows in a strip (see <see cref="StripFloats"/>).</summary>
    private const int MinimumStripRows = 64;

    /// <summary>Whether a block product with these sizes and layouts is staged.</summary>
    public static bool Suits(int groups, int inBlock, int outBlock, BlockLayout inLayout, BlockLayout outLayout) =>
        (inLayout == BlockLayout.Strided || outLayout == BlockLayout.Strided)
        && groups >= 8 && inBlock >= 8 && outBlock >= 8 && CpuKernels.CanTranspose8x8;

    /// <summary>
    /// <c>C = (accumulate ? C : 0) + alpha · A_g · B_g</c> per group, where row <c>b</c> of <c>A_g</c> is group <c>g</c>'s
    /// <paramref name="inBlock"/> columns of <paramref name="input"/> (<paramref name="inLayout"/>), <c>C_g</c> likewise of
    /// <paramref name="output"/>, and <c>B_g</c> is <paramref name="weight"/> moved by <c>g · weightGroupStride</c>.
    /// </summary>
    public static void Run(float* input, int inBlock, BlockLayout inLayout, float* output, int outBlock, BlockLayout outLayout,
        int groups, int batch, StridedMatrix weight, nint weightGroupStride, float alpha, bool accumulate, bool weightIsParameter)
    {
        var job = new Job(input, inBlock, inLayout, output, outBlock, outLayout, groups, weight, weightGroupStride, alpha, accumulate, weightIsParameter);
        int width = Math.Max(job.InWidth, job.OutWidth);
        int stripRows = Math.Max(MinimumStripRows, StripFloats / width / Gemm.MR * Gemm.MR);
        int strips = (batch + stripRows - 1) / stripRows;
        long work = (long)batch * groups * inBlock * outBlock;
        if (strips < 2 || !KernelThreading.MaySplit(work))
        {
            job.Execute(0, batch, stripRows);
            return;
        }
        int chunks = Math.Min(strips, Environment.ProcessorCount);
        Parallel.For(0, chunks, c =>
        {
            int start = (int)((long)strips * c / chunks) * stripRows;
            int end = Math.Min(batch, (int)((long)strips * (c + 1) / chunks) * stripRows);
            job.Execute(start, end, stripRows);
        });
    }

    /// <summary>
    /// Floats of one weight-gradient strip's wider activation (1 MB): the depth of each product, whose slices of both
    /// activations stay in cache while every group reads them (see <see cref="WeightGradient"/>).
    /// </summary>
    private const int GradientStripFloats = 256 * 1024;

    /// <summary>Whether a weight gradient with these sizes runs strip by strip (many groups; see <see cref="WeightGradient"/>).</summary>
    public static bool SuitsWeightGradient(int groups, int outBlock, int inBlock) => groups >= 8 && outBlock >= 8 && inBlock >= 8;

    /// <summary>
    /// <c>dW[g, o, i] += alpha · Σ_b dy[b, outIdx(g, o)] · x[b, inIdx(g, i)]</c>, one strip of rows after another, each
    /// strip a product of depth <c>rows</c> accumulated into <paramref name="dw"/> (split over threads by groups).
    /// Read whole, every group would fetch its few columns from every row of both activations, one cache line per row,
    /// after the other groups' reads had evicted them; a strip's rows stay in cache until all groups have read them.
    /// Strided activations are staged contiguous first.
    /// </summary>
    public static void WeightGradient(float* dy, int outBlock, BlockLayout outLayout, float* x, int inBlock, BlockLayout inLayout, int groups, int batch, float* dw, float alpha)
    {
        int outWidth = groups * outBlock, inWidth = groups * inBlock;
        int stripRows = Math.Max(MinimumStripRows, GradientStripFloats / Math.Max(outWidth, inWidth) / Gemm.MR * Gemm.MR);
        bool stageDy = outLayout == BlockLayout.Strided && CpuKernels.CanTranspose8x8;
        bool stageX = inLayout == BlockLayout.Strided && CpuKernels.CanTranspose8x8;
        float[]? dyScratch = stageDy ? ArrayPool<float>.Shared.Rent(stripRows * outWidth) : null;
        float[]? xScratch = stageX ? ArrayPool<float>.Shared.Rent(stripRows * inWidth) : null;
        try
        {
            fixed (float* sdy = dyScratch, sx = xScratch)
            {
                for (int r = 0; r < batch; r += stripRows)
                {
                    int rows = Math.Min(stripRows, batch - r);
                    float* a = dy + (long)r * outWidth, b = x + (long)r * inWidth;
                    if (stageDy)
                    {
                        CpuKernels.TransposeRows(a, sdy, rows, outBlock, groups, accumulate: false);
                        a = sdy;
                    }
                    if (stageX)
                    {
                        CpuKernels.TransposeRows(b, sx, rows, inBlock, groups, accumulate: false);
                        b = sx;
                    }
                    var gradients = CpuKernels.Activations(a, outWidth, stageDy ? BlockLayout.Contiguous : outLayout, groups, outBlock);
                    var inputs = CpuKernels.Activations(b, inWidth, stageX ? BlockLayout.Contiguous : inLayout, groups, inBlock);
                    Gemm.Run(new GroupedProduct(groups, outBlock, inBlock, rows,
                        gradients.Matrix.Transposed, gradients.GroupStride,
                        inputs.Matrix, inputs.GroupStride,
                        new StridedMatrix(dw, inBlock, 1), (nint)outBlock * inBlock,
                        alpha, accumulate: true));
                }
            }
        }
        finally
        {
            if (dyScratch is not null) ArrayPool<float>.Shared.Return(dyScratch);
            if (xScratch is not null) ArrayPool<float>.Shared.Return(xScratch);
        }
    }

    private sealed class Job
    {
        private readonly nint _input, _output;
        private readonly int _inBlock, _outBlock, _groups;
        private readonly bool _inStrided, _outStrided, _accumulate, _weightIsParameter;
        private readonly StridedMatrix _weight;
        private readonly nint _weightGroupStride;
        private readonly float _alpha;

        public Job(float* input, int inBlock, BlockLayout inLayout, float* output, int outBlock, BlockLayout outLayout,
            int groups, StridedMatrix weight, nint weightGroupStride, float alpha, bool accumulate, bool weightIsParameter)
        {
            _input = (nint)input;
            _output = (nint)output;
            _inBlock = inBlock;
            _outBlock = outBlock;
            _groups = groups;
            _inStrided = inLayout == BlockLayout.Strided;
            _outStrided = outLayout == BlockLayout.Strided;
            _weight = weight;
            _weightGroupStride = weightGroupStride;
            _alpha = alpha;
            _accumulate = accumulate;
            _weightIsParameter = weightIsParameter;
        }

        public int InWidth => _groups * _inBlock;

        public int OutWidth => _groups * _outBlock;

        /// <summary>Rows [r0, r1) in strips of <paramref name="stripRows"/>, on this thread.</summary>
        public void Execute(int r0, int r1, int stripRows)
        {
            float[]? inScratch = _inStrided ? ArrayPool<float>.Shared.Rent(stripRows * InWidth) : null;
            float[]? outScratch = _outStrided ? ArrayPool<float>.Shared.Rent(stripRows * OutWidth) : null;
            // Weights are packed once per thread for all its strips (unless a caller's scope already keeps them).
            using var cache = PackCache.IsOpen ? null : PackCache.Enter();
            using var serial = KernelThreading.EnterSerial();
            try
            {
                fixed (float* a = inScratch, c = outScratch)
                {
                    for (int r = r0; r < r1; r += stripRows)
                        Strip(r, Math.Min(stripRows, r1 - r), a, c);
                }
            }
            finally
            {
                if (inScratch is not null) ArrayPool<float>.Shared.Return(inScratch);
                if (outScratch is not null) ArrayPool<float>.Shared.Return(outScratch);
            }
        }

        private void Strip(int r, int rows, float* inScratch, float* outScratch)
        {
            int inWidth = InWidth, outWidth = OutWidth;
            float* input = (float*)_input + (long)r * inWidth;
            float* output = (float*)_output + (long)r * outWidth;
            float* a = input;
            if (_inStrided)
            {
                // Row as [inBlock, groups] → [groups, inBlock]: the contiguous layout.
                for (int b = 0; b < rows; b++) CpuKernels.TransposeRow(input + (long)b * inWidth, inScratch + (long)b * inWidth, _inBlock, _groups, accumulate: false);
                a = inScratch;
            }
            float* c = _outStrided ? outScratch : output;
            Gemm.Run(new GroupedProduct(_groups, rows, _outBlock, _inBlock,
                new StridedMatrix(a, inWidth, 1), _inBlock,
                _weight, _weightGroupStride,
                new StridedMatrix(c, outWidth, 1), _outBlock,
                _alpha, _accumulate && !_outStrided, _weightIsParameter));
            if (_outStrided)
            {
                // Row as [groups, outBlock] → [outBlock, groups]: back to the strided layout.
                for (int b = 0; b < rows; b++) CpuKernels.TransposeRow(outScratch + (long)b * outWidth, output + (long)b * outWidth, _groups, _outBlock, _accumulate);
            }
        }
    }
}
