using System;
using System.Buffers;

namespace StructMat.Runtime.Kernels;

/// <summary>
/// Block products whose activations interleave their groups (the strided layout that a folded Monarch permutation
/// produces) run strip by strip on contiguous copies. A strided row holds element <c>(g, j)</c> at <c>j·groups + g</c>,
/// which is a <c>[block, groups]</c> matrix whose transpose is the contiguous layout: a strip of rows is transposed
/// into a scratch buffer with 8 × 8 register transposes, the product runs on <see cref="Gemm"/>'s contiguous path,
/// and a strided output is transposed back. The copies stay in cache, and the product runs at the contiguous speed
/// instead of gathering one element per cache line. Weight gradients with many groups (any layout) run strip by strip
/// over the batch the same way (<see cref="WeightGradient"/>).
/// </summary>
/// <remarks>
/// Each row's result depends only on the row (the product's summation order depends on <c>K</c> alone, see
/// <see cref="Gemm"/>), never on the strips, the threads or the batch; whether a product is staged depends on its
/// shape and layouts only (<see cref="BlockProductPlanner"/> decides, and decides how each strip's product runs).
/// </remarks>
internal static unsafe class StridedStaging
{
    /// <summary>
    /// Floats of one strip's activations on its wider side (256 KB, so that a strip's input and output copies stay
    /// in L2). Measured at batch 1024, wall time over both cores, three alternating runs on a noisy machine: 64 blocks
    /// of 64 (SS) forward 3.8-4.0 ms in strips of 16 rows against 3.9-5.2 ms in strips of 128; BTT's second core (SC)
    /// 5.0-6.4 against 5.4-6.8 ms.
    /// </summary>
    private const int StripFloats = 64 * 1024;

    /// <summary>
    /// Fewest rows in a strip. The strips' products run untransposed even when short (see <see cref="BlockProductPlanner.ForStrip"/>), since
    /// their weights stay packed for the whole call.
    /// </summary>
    private const int MinimumStripRows = 16;

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
        int stripRows = Math.Max(MinimumStripRows, StripFloats / width / MicroKernels.MR * MicroKernels.MR);
        int strips = (batch + stripRows - 1) / stripRows;
        long work = (long)batch * groups * inBlock * outBlock;
        // One chunk per core: each chunk packs the weights once for all its strips (see Job.Execute).
        KernelThreading.Split(work, strips, Environment.ProcessorCount,
            (s0, s1) => job.Execute(s0 * stripRows, Math.Min(batch, s1 * stripRows), stripRows));
    }

    /// <summary>
    /// Floats of one weight-gradient strip's wider activation (1 MB; 64 rows at n = 4096): the depth of each product,
    /// whose slices of both activations stay in cache while every group reads them (see <see cref="WeightGradient"/>).
    /// Measured at n = 4096, 64 blocks of 64, batch 1024: 64-row strips ran faster than 128, 256 or 1024 (whole) ones.
    /// </summary>
    private const int GradientStripFloats = 256 * 1024;

    /// <summary>Fewest rows (the depth of each product) in a weight-gradient strip.</summary>
    private const int MinimumGradientStripRows = 64;

    /// <summary>
    /// <c>dW[g, o, i] += alpha · Σ_b dy[b, outIdx(g, o)] · x[b, inIdx(g, i)]</c>, one strip of rows after another, each
    /// strip's contribution summed by register tiles and added to <paramref name="dw"/>. Read whole, every group would
    /// fetch its few columns from every row of both activations, one cache line per row, after the other groups' reads
    /// had evicted them; a strip's rows are copied once into padded scratch (strided ones transposed to contiguous
    /// groups; with an input group XOR <c>s</c>, group <c>g</c>'s slot holds x's block <c>g ⊕ s</c>) and stay in cache
    /// until every group has read them. The groups are split over the threads (each thread
    /// runs every strip for its own groups and copies only their columns), so each element of <paramref name="dw"/> is
    /// summed by one thread in strip order, whatever the core count.
    /// </summary>
    public static void WeightGradient(float* dy, int outBlock, BlockLayout outLayout, float* x, int inBlock, BlockLayout inLayout, int groups, int batch, float* dw, float alpha, int inputGroupXor) =>
        Run(new GradientJob(dy, outBlock, outLayout, x, inBlock, inLayout, groups, batch, dw, alpha, inputGroupXor), work: (long)batch * groups * outBlock * inBlock);

    /// <summary>
    /// <see cref="WeightGradient"/> of several products over the same contiguous <paramref name="dy"/> and
    /// <paramref name="x"/>, product <c>t</c> pairing dy's group <c>g</c> with x's group <c>g ⊕ groupXors[t]</c> and adding
    /// into the <c>t</c>-th <c>groups · outBlock · inBlock</c> floats of <paramref name="dw"/>: each strip is staged once
    /// for all of them (every thread stages all of x's groups, since the XORs reach across the split), and each product's
    /// register tiles run as they would alone, so the bits are those of one <see cref="WeightGradient"/> per product.
    /// </summary>
    public static void WeightGradients(float* dy, int outBlock, float* x, int inBlock, int groups, int batch, float* dw, float alpha, int[] groupXors) =>
        Run(new GradientJob(dy, outBlock, BlockLayout.Contiguous, x, inBlock, BlockLayout.Contiguous, groups, batch, dw, alpha, inputGroupXor: 0)
        {
            GroupXors = groupXors,
        }, work: (long)groupXors.Length * batch * groups * outBlock * inBlock);

    /// <summary>
    /// <see cref="WeightGradient"/> and, from the same staged strips of dy, the input gradient
    /// <c>dx[b, inIdx(g, i)] = (accumulate ? dx : 0) + alpha · Σ_o W[g,o,i] · dy[b, outIdx(g,o)]</c> of the same product
    /// (<paramref name="weight"/> viewed as <c>[o, i]</c> per group, groups <paramref name="weightGroupStride"/> apart):
    /// dy is read and staged once for both. Each thread computes the input gradient of its own groups, strip by strip,
    /// on <see cref="Gemm"/>'s contiguous path (a strided dx through scratch, transposed back), so the bits are those of
    /// the two products run separately.
    /// </summary>
    public static void Backward(float* dy, int outBlock, BlockLayout outLayout, float* x, int inBlock, BlockLayout inLayout, int groups, int batch,
        float* dx, StridedMatrix weight, nint weightGroupStride, bool accumulate, bool weightIsParameter, float* dw, float alpha) =>
        Run(new GradientJob(dy, outBlock, outLayout, x, inBlock, inLayout, groups, batch, dw, alpha, inputGroupXor: 0)
        {
            InputGradient = new InputGradientPart((nint)dx, weight, weightGroupStride, accumulate, weightIsParameter),
        }, work: 2L * batch * groups * outBlock * inBlock);

    /// <summary>
    /// The groups split over the cores, one chunk per core: each chunk stages every strip for its groups and packs the
    /// input gradient's weights once (see <see cref="GradientJob.Execute"/>).
    /// </summary>
    private static void Run(GradientJob job, long work) =>
        KernelThreading.Split(work, job.Groups, Environment.ProcessorCount, (g0, g1) => job.Execute(g0, g1));

    /// <summary>The input gradient a <see cref="GradientJob"/> computes alongside (see <see cref="Backward"/>).</summary>
    private sealed record InputGradientPart(nint Dx, StridedMatrix Weight, nint WeightGroupStride, bool Accumulate, bool WeightIsParameter);

    /// <summary>One weight gradient (and maybe its input gradient); <see cref="Execute"/> runs a range of its groups over every strip.</summary>
    private sealed class GradientJob
    {
        private readonly nint _dy, _x, _dw;
        private readonly int _outBlock, _inBlock, _groups, _batch, _stripRows, _inputGroupXor;
        private readonly BlockLayout _outLayout, _inLayout;
        private readonly float _alpha;

        public GradientJob(float* dy, int outBlock, BlockLayout outLayout, float* x, int inBlock, BlockLayout inLayout, int groups, int batch, float* dw, float alpha, int inputGroupXor)
        {
            _inputGroupXor = inputGroupXor;
            (_dy, _x, _dw) = ((nint)dy, (nint)x, (nint)dw);
            (_outBlock, _inBlock, _groups, _batch) = (outBlock, inBlock, groups, batch);
            (_outLayout, _inLayout, _alpha) = (outLayout, inLayout, alpha);
            _stripRows = Math.Max(MinimumGradientStripRows, GradientStripFloats / (groups * Math.Max(outBlock, inBlock)) / MicroKernels.MR * MicroKernels.MR);
        }

        public int Groups => _groups;

        /// <summary>Set when the input gradient is computed from the same strips.</summary>
        public InputGradientPart? InputGradient { get; init; }

        /// <summary>
        /// Set for several weight gradients at once (see <see cref="WeightGradients"/>): x is staged whole, unswapped,
        /// and product <c>t</c> reads group <c>g ⊕ GroupXors[t]</c> of it.
        /// </summary>
        public int[]? GroupXors { get; init; }

        /// <summary>Groups [g0, g1), every strip in order, on this thread.</summary>
        public void Execute(int g0, int g1)
        {
            int count = g1 - g0;
            // Both activations' strips are copied (strided ones transposed) into scratch whose rows are padded by one
            // register panel: the padding breaks the power-of-two row stride that would map every row to the same
            // cache sets, and lets the last panel read a whole vector. The register tiles then read both operands in
            // place (dy's rows as the broadcast side, x's as the vector side), with no per-group packing.
            var xors = GroupXors;
            // With several XORs, x's strip holds every group (the swaps reach past this thread's groups).
            int xFirst = xors is null ? g0 : 0, xCount = xors is null ? count : _groups;
            nint dyStride = (nint)count * _outBlock + MicroKernels.NR, xStride = (nint)xCount * _inBlock + MicroKernels.NR;
            int scratchRows = Math.Min(_stripRows, _batch);
            float[] dyScratch = ArrayPool<float>.Shared.Rent(checked((int)(scratchRows * dyStride)));
            float[] xScratch = ArrayPool<float>.Shared.Rent(checked((int)(scratchRows * xStride)));
            var part = InputGradient;
            // A strided dx is written through scratch ([rows][count · inBlock]) and transposed back.
            float[]? dxScratch = part is not null && _inLayout == BlockLayout.Strided ? ArrayPool<float>.Shared.Rent(checked(scratchRows * count * _inBlock)) : null;
            // The input gradient's weights are packed once per thread for every strip (unless a caller's scope keeps them).
            using var cache = part is null || PackCache.IsOpen ? null : PackCache.Enter();
            using var serial = part is null ? default(KernelThreading.SerialScope?) : KernelThreading.EnterSerial();
            try
            {
                fixed (float* sdy = dyScratch, sx = xScratch, sdx = dxScratch)
                {
                    for (int r = 0; r < _batch; r += _stripRows)
                    {
                        int rows = Math.Min(_stripRows, _batch - r);
                        Stage((float*)_dy, _outBlock, _outLayout, r, rows, g0, count, sdy, dyStride, groupXor: 0);
                        Stage((float*)_x, _inBlock, _inLayout, r, rows, xFirst, xCount, sx, xStride, _inputGroupXor);
                        if (part is not null) InputGradientStrip(part, r, rows, g0, count, sdy, dyStride, sdx);
                        if (xors is null)
                        {
                            StripGradient(sdy, dyStride, sx, xStride, rows, g0, count, (float*)_dw, 0);
                            continue;
                        }
                        long perProduct = (long)_groups * _outBlock * _inBlock;
                        for (int t = 0; t < xors.Length; t++)
                            StripGradient(sdy, dyStride, sx, xStride, rows, g0, count, (float*)_dw + t * perProduct, xors[t]);
                    }
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(dyScratch);
                ArrayPool<float>.Shared.Return(xScratch);
                if (dxScratch is not null) ArrayPool<float>.Shared.Return(dxScratch);
            }
        }

        /// <summary>
        /// One strip's contribution to the weight gradient <paramref name="dw"/> of groups [g0, g0 + count), by register
        /// tiles summing the strip's rows in order: group <c>g</c>'s staged dy columns against x's slot for it — slot
        /// <c>g - g0</c> when x was staged for these groups (already swapped), slot <c>g ⊕ xor</c> when x was staged whole.
        /// </summary>
        private void StripGradient(float* sdy, nint dyStride, float* sx, nint xStride, int rows, int g0, int count, float* dw, int xor)
        {
            for (int g = 0; g < count; g++)
            {
                int slot = GroupXors is null ? g : (g0 + g) ^ xor;
                float* dyGroup = sdy + (long)g * _outBlock, xGroup = sx + (long)slot * _inBlock;
                float* dwGroup = dw + (long)(g0 + g) * _outBlock * _inBlock;
                for (int o = 0; o < _outBlock; o += MicroKernels.MR)
                    for (int i = 0; i < _inBlock; i += MicroKernels.NR)
                        MicroKernels.Tile(dyGroup + o, 1, dyStride, xGroup + i, xStride, rows, dwGroup + (long)o * _inBlock + i, _inBlock, 1,
                            Math.Min(MicroKernels.MR, _outBlock - o), Math.Min(MicroKernels.NR, _inBlock - i), _alpha, accumulate: true);
            }
        }

        /// <summary>
        /// Rows [r, r + rows) of the input gradient of groups [g0, g0 + count) from the staged dy strip: the same grouped
        /// product <see cref="CpuKernels.BlockMatMulTransposed(ReadOnlySpan{float}, Span{float}, ReadOnlySpan{float}, int, int, int, int, BlockLayout, BlockLayout, float, bool, int)"/>
        /// runs, on contiguous copies, untransposed (the weights stay packed for every strip).
        /// </summary>
        private void InputGradientStrip(InputGradientPart part, int r, int rows, int g0, int count, float* sdy, nint dyStride, float* sdx)
        {
            int inWidth = _groups * _inBlock;
            float* dxRows = (float*)part.Dx + (long)r * inWidth;
            bool strided = _inLayout == BlockLayout.Strided;
            var c = strided
                ? new StridedMatrix(sdx, count * _inBlock, 1)
                : new StridedMatrix(dxRows + (long)g0 * _inBlock, inWidth, 1);
            var strip = new GroupedProduct(count, rows, _inBlock, _outBlock,
                new StridedMatrix(sdy, dyStride, 1), _outBlock,
                new StridedMatrix(part.Weight.Data + g0 * part.WeightGroupStride, part.Weight.RowStride, part.Weight.ColStride), part.WeightGroupStride,
                c, _inBlock,
                _alpha, part.Accumulate && !strided, part.WeightIsParameter);
            BlockEngines.Run(strip, BlockProductPlanner.ForStrip(strip, VectorSupport.Current));
            if (!strided) return;
            // Row b's groups as [count, inBlock] → its strided positions (i·groups + g).
            for (int b = 0; b < rows; b++)
                CpuKernels.TransposeBlock(sdx + (long)b * count * _inBlock, _inBlock, dxRows + (long)b * inWidth + g0, _groups, count, _inBlock, part.Accumulate);
        }

        /// <summary>
        /// Rows [r, r + rows) of groups [g0, g0 + count) of an activation, copied into <paramref name="scratch"/> as
        /// contiguous groups (<c>[rows][count · block]</c>, row stride <paramref name="stride"/>); a strided row, a
        /// <c>[block, groups]</c> matrix, has its columns transposed out. With <paramref name="groupXor"/> (contiguous only),
        /// slot <c>g</c> receives block <c>g ⊕ groupXor</c>.
        /// </summary>
        private void Stage(float* data, int block, BlockLayout layout, int r, int rows, int g0, int count, float* scratch, nint stride, int groupXor)
        {
            int width = _groups * block;
            float* first = data + (long)r * width;
            for (int b = 0; b < rows; b++)
            {
                float* row = first + (long)b * width;
                if (groupXor != 0)
                {
                    for (int g = 0; g < count; g++)
                        new ReadOnlySpan<float>(row + (long)((g0 + g) ^ groupXor) * block, block).CopyTo(new Span<float>(scratch + b * stride + (long)g * block, block));
                }
                else if (layout == BlockLayout.Contiguous)
                    new ReadOnlySpan<float>(row + (long)g0 * block, count * block).CopyTo(new Span<float>(scratch + b * stride, count * block));
                else
                    CpuKernels.TransposeBlock(row + g0, _groups, scratch + b * stride, block, block, count, accumulate: false);
            }
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
            var strip = new GroupedProduct(_groups, rows, _outBlock, _inBlock,
                new StridedMatrix(a, inWidth, 1), _inBlock,
                _weight, _weightGroupStride,
                new StridedMatrix(c, outWidth, 1), _outBlock,
                _alpha, _accumulate && !_outStrided, _weightIsParameter);
            // A parameter's packed form is kept for the whole call (see Execute), so its strips run untransposed.
            BlockEngines.Run(strip, BlockProductPlanner.ForStrip(strip, VectorSupport.Current));
            if (_outStrided)
            {
                // Row as [groups, outBlock] → [outBlock, groups]: back to the strided layout.
                for (int b = 0; b < rows; b++) CpuKernels.TransposeRow(outScratch + (long)b * outWidth, output + (long)b * outWidth, _groups, _outBlock, _accumulate);
            }
        }
    }
}
