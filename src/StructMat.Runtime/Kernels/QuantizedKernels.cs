using System;
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace StructMat.Runtime.Kernels;

/// <summary>How a quantised frozen base stores its weights.</summary>
public enum QuantFormat
{
    /// <summary>
    /// QLoRA's 4-bit NormalFloat: codes <c>[out, in/2]</c> (U8, two per byte, the first of each pair in the high nibble,
    /// as bitsandbytes packs them) indexing <see cref="QuantizedKernels.Nf4Values"/>, and one float32 absmax per
    /// <c>group</c> consecutive weights of a row, <c>absmax [out, in/group]</c>: <c>W[o, i] = NF4[code]·absmax[o, i/group]</c>.
    /// </summary>
    Nf4,

    /// <summary>Symmetric int8: codes <c>[out, in]</c> (I8) and one float32 scale per row, <c>scale [out]</c>: <c>W[o, i] = code·scale[o]</c>.</summary>
    Int8,
}

/// <summary>
/// Products with a quantised frozen weight <c>W [out, in]</c> (<see cref="QuantFormat"/>) that never hold a float32 copy of
/// W. A forward of a few rows (up to <see cref="FewRows"/> for NF4, half as many for int8) decodes the codes straight into
/// registers, eight or sixteen output rows per vector; otherwise <see cref="Apply"/> (<c>y = x Wᵀ</c>) and
/// <see cref="ApplyTransposed"/> (<c>dx = dy W</c>, the input gradient) dequantise one register panel of the block-matmul engine at a time — <c>KC × NR</c> floats (384 × 16 on AVX2, 24 KB,
/// per thread) — straight from the codes, and run the engine's register tiles (<see cref="MicroKernels.Tile"/>) on it.
/// So each output is summed exactly as the engine sums a float32 product of the dequantised weights: fused multiply-adds
/// in order over each <see cref="Gemm.KC"/> slice, one fold per slice, the same for every batch size and thread count.
/// Threads split the panels (output columns); each panel is dequantised once per slice and per 256-row tile of the batch.
/// </summary>
public static unsafe class QuantizedKernels
{
    private static readonly float[] Nf4Table =
    {
        -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f, -0.28444138169288635f, -0.18477343022823334f,
        -0.09105003625154495f, 0.0f, 0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
        0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f,
    };

    /// <summary>The 16 NormalFloat code values of QLoRA (bitsandbytes' <c>get_4bit_type("nf4")</c>), code 0 = −1, 7 = 0, 15 = 1.</summary>
    public static ReadOnlySpan<float> Nf4Values => Nf4Table;

    // ------------------------------------------------------------------ quantising

    /// <summary>
    /// QLoRA's NF4 quantisation of <paramref name="weights"/> <c>[rows, cols]</c>: per group of <paramref name="group"/>
    /// consecutive weights of a row, absmax = max |w| and each code the nearest NF4 value to w · (1/absmax), as
    /// bitsandbytes' <c>kQuantizeBlockwise</c> computes it in float32 (<see cref="NearestNf4"/>); an all-zero group gets
    /// absmax 0 and code 0, as there (its weights decode to −0).
    /// </summary>
    public static void QuantizeNf4(ReadOnlySpan<float> weights, int rows, int cols, int group, Span<byte> codes, Span<float> absmax)
    {
        CheckShape(QuantFormat.Nf4, rows, cols, group);
        KernelArguments.Length(weights.Length, (long)rows * cols, nameof(weights), "rows * cols");
        KernelArguments.Length(codes.Length, (long)rows * cols / 2, nameof(codes), "rows * cols / 2");
        KernelArguments.Length(absmax.Length, (long)rows * (cols / group), nameof(absmax), "rows * cols / group");
        for (int r = 0; r < rows; r++)
        {
            for (int g = 0; g < cols / group; g++)
            {
                var values = weights.Slice(r * cols + g * group, group);
                float max = 0f;
                foreach (var v in values) max = MathF.Max(max, MathF.Abs(v));
                absmax[r * (cols / group) + g] = max;
                float inverse = 1f / max; // bitsandbytes multiplies by the reciprocal, in float32
                for (int k = 0; k < group; k += 2)
                {
                    // An all-zero group: 0 · (1/0) is NaN in bitsandbytes' kernel, which its decision tree sends to code 0.
                    int hi = max == 0f ? 0 : NearestNf4(values[k] * inverse), lo = max == 0f ? 0 : NearestNf4(values[k + 1] * inverse);
                    codes[(r * cols + g * group + k) / 2] = (byte)(hi << 4 | lo);
                }
            }
        }
    }

    /// <summary>
    /// The NF4 code nearest to <paramref name="value"/> (in [−1, 1]) by bitsandbytes' <c>dQuantizeNF4</c>: thresholds at the
    /// float64 midpoints of the levels rounded to float32, a value above a threshold goes up (on it, to the lower code).
    /// </summary>
    public static int NearestNf4(float value)
    {
        int code = 0;
        for (int c = 1; c < 16; c++)
            if (value > Nf4Thresholds[c - 1]) code = c;
        return code;
    }

    private static readonly float[] Nf4Thresholds = Thresholds();

    private static float[] Thresholds()
    {
        ReadOnlySpan<double> levels = new[]
        {
            -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334,
            -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
            0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
        };
        var thresholds = new float[15];
        for (int c = 1; c < 16; c++) thresholds[c - 1] = (float)((levels[c - 1] + levels[c]) / 2);
        return thresholds;
    }

    /// <summary>
    /// Symmetric int8 quantisation of <paramref name="weights"/> <c>[rows, cols]</c> with one scale per row:
    /// <c>scale = max |w| / 127</c>, <c>code = round(w / scale)</c> (half to even, as <c>torch.round</c>), in [−127, 127];
    /// an all-zero row gets scale 0 and codes 0.
    /// </summary>
    public static void QuantizeInt8(ReadOnlySpan<float> weights, int rows, int cols, Span<byte> codes, Span<float> scales)
    {
        CheckShape(QuantFormat.Int8, rows, cols, 0);
        KernelArguments.Length(weights.Length, (long)rows * cols, nameof(weights), "rows * cols");
        KernelArguments.Length(codes.Length, (long)rows * cols, nameof(codes), "rows * cols");
        KernelArguments.Length(scales.Length, rows, nameof(scales), "rows");
        for (int r = 0; r < rows; r++)
        {
            var values = weights.Slice(r * cols, cols);
            float max = 0f;
            foreach (var v in values) max = MathF.Max(max, MathF.Abs(v));
            float scale = max / 127f;
            scales[r] = scale;
            for (int k = 0; k < cols; k++)
                codes[r * cols + k] = (byte)(sbyte)(scale == 0f ? 0f : Math.Clamp(MathF.Round(values[k] / scale), -127f, 127f));
        }
    }

    // ------------------------------------------------------------------ products

    /// <summary><c>y = (accumulate ? y : 0) + alpha · x Wᵀ</c> for every row of <paramref name="x"/> <c>[batch, in]</c>.</summary>
    public static void Apply(ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<byte> codes, ReadOnlySpan<float> scales, QuantFormat format,
        int batch, int outFeatures, int inFeatures, int group, float alpha, bool accumulate)
    {
        Validate(codes, scales, format, outFeatures, inFeatures, group);
        KernelArguments.Length(x.Length, (long)KernelArguments.Rows(batch, inFeatures), nameof(x), "batch * in");
        KernelArguments.Length(y.Length, (long)KernelArguments.Rows(batch, outFeatures), nameof(y), "batch * out");
        if (batch == 0) return;
        fixed (float* px = x, py = y, ps = scales)
        fixed (byte* pc = codes)
        {
            var weights = new Weights(pc, ps, format, outFeatures, inFeatures, group);
            if (batch <= (format == QuantFormat.Nf4 ? FewRows : FewRows / 2) && FewRowsJob.Suits(weights)) new FewRowsJob(weights, px, py, batch, alpha, accumulate).Run();
            else new Job(weights, px, py, batch, transposed: false, alpha, accumulate).Run();
        }
    }

    /// <summary>
    /// Batches up to this many rows (NF4; half as many for int8, whose two gathered words per step cost more) run forward on
    /// <see cref="FewRowsJob"/> (weights decoded straight into registers), larger ones on the panels of <see cref="Job"/>; both
    /// sum each output the same way, so the rows' bits do not depend on it. Measured at 4096 × 4096 on 2 AVX-512 cores:
    /// NF4 at 16 rows 6.7 ms in registers against 8.8 ms on panels; int8 at 16 rows 10.9 against 7.3.
    /// </summary>
    internal const int FewRows = 16;

    /// <summary><c>dx = (accumulate ? dx : 0) + alpha · dy W</c> for every row of <paramref name="dy"/> <c>[batch, out]</c>.</summary>
    public static void ApplyTransposed(ReadOnlySpan<float> dy, Span<float> dx, ReadOnlySpan<byte> codes, ReadOnlySpan<float> scales, QuantFormat format,
        int batch, int outFeatures, int inFeatures, int group, float alpha, bool accumulate)
    {
        Validate(codes, scales, format, outFeatures, inFeatures, group);
        KernelArguments.Length(dy.Length, (long)KernelArguments.Rows(batch, outFeatures), nameof(dy), "batch * out");
        KernelArguments.Length(dx.Length, (long)KernelArguments.Rows(batch, inFeatures), nameof(dx), "batch * in");
        if (batch == 0) return;
        fixed (float* pdy = dy, pdx = dx, ps = scales)
        fixed (byte* pc = codes)
        {
            var job = new Job(new Weights(pc, ps, format, outFeatures, inFeatures, group), pdy, pdx, batch, transposed: true, alpha, accumulate);
            job.Run();
        }
    }

    /// <summary>Checks the codes and scales of a <c>[out, in]</c> weight in <paramref name="format"/>.</summary>
    public static void Validate(ReadOnlySpan<byte> codes, ReadOnlySpan<float> scales, QuantFormat format, int outFeatures, int inFeatures, int group)
    {
        CheckShape(format, outFeatures, inFeatures, group);
        var (codeLength, scaleLength) = Lengths(format, outFeatures, inFeatures, group);
        KernelArguments.Length(codes.Length, codeLength, nameof(codes), format == QuantFormat.Nf4 ? "out * in / 2" : "out * in");
        KernelArguments.Length(scales.Length, scaleLength, nameof(scales), format == QuantFormat.Nf4 ? "out * in / group" : "out");
    }

    /// <summary>The code bytes and scales a <c>[out, in]</c> weight in <paramref name="format"/> has.</summary>
    public static (long Codes, long Scales) Lengths(QuantFormat format, int outFeatures, int inFeatures, int group) =>
        format == QuantFormat.Nf4
            ? ((long)outFeatures * inFeatures / 2, (long)outFeatures * (inFeatures / group))
            : ((long)outFeatures * inFeatures, outFeatures);

    internal static void CheckShape(QuantFormat format, int outFeatures, int inFeatures, int group)
    {
        if (format is not (QuantFormat.Nf4 or QuantFormat.Int8))
            throw new ArgumentException($"format is not a defined {nameof(QuantFormat)} ({(int)format}).", nameof(format));
        if (outFeatures <= 0) throw new ArgumentException($"outFeatures must be positive, got {outFeatures}.", nameof(outFeatures));
        if (inFeatures <= 0) throw new ArgumentException($"inFeatures must be positive, got {inFeatures}.", nameof(inFeatures));
        KernelArguments.FitsInt32((long)outFeatures * inFeatures, nameof(outFeatures), "out * in");
        if (format == QuantFormat.Nf4 && (group <= 0 || group % 2 != 0 || inFeatures % group != 0))
            throw new ArgumentException($"An NF4 group must be a positive even divisor of in ({inFeatures}), got {group}.", nameof(group));
    }

    /// <summary>A quantised weight in memory.</summary>
    private readonly struct Weights
    {
        public Weights(byte* codes, float* scales, QuantFormat format, int outFeatures, int inFeatures, int group)
        {
            Codes = codes;
            Scales = scales;
            Format = format;
            Out = outFeatures;
            In = inFeatures;
            Group = format == QuantFormat.Nf4 ? group : inFeatures;
        }

        public byte* Codes { get; }

        public float* Scales { get; }

        public QuantFormat Format { get; }

        public int Out { get; }

        public int In { get; }

        public int Group { get; }

        /// <summary>Whether 8 weights of a row from a column that is a multiple of 8 can be dequantised as one vector.</summary>
        public bool Vectorised => Avx2.IsSupported && (Format == QuantFormat.Int8 || Group % 8 == 0);

        public float At(int row, int col)
        {
            if (Format == QuantFormat.Int8) return (sbyte)Codes[(long)row * In + col] * Scales[row];
            long e = (long)row * In + col;
            int code = (e & 1) == 0 ? Codes[e >> 1] >> 4 : Codes[e >> 1] & 15;
            return Nf4Table[code] * Scales[(long)row * (In / Group) + col / Group];
        }

        /// <summary>
        /// <c>W[row, col .. col + 8)</c> as one vector (<paramref name="col"/> a multiple of 8, inside the row): NF4 codes
        /// looked up in two 8-entry halves of the table by <c>vpermps</c> and picked by the code's bit 3, times the group's
        /// absmax; int8 codes widened and converted, times the row's scale.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Eight(int row, int col, Vector256<float> lowHalf, Vector256<float> highHalf)
        {
            long e = (long)row * In + col;
            if (Format == QuantFormat.Int8)
            {
                var wide = Avx2.ConvertToVector256Int32((sbyte*)Codes + e);
                return Avx.Multiply(Avx.ConvertToVector256Single(wide), Vector256.Create(Scales[row]));
            }
            uint packed = Unsafe.ReadUnaligned<uint>(Codes + (e >> 1));
            var index = Avx2.And(Avx2.ShiftRightLogicalVariable(Vector256.Create(packed), Vector256.Create(4u, 0u, 12u, 8u, 20u, 16u, 28u, 24u)), Vector256.Create(15u));
            var low = Avx2.PermuteVar8x32(lowHalf, index.AsInt32());
            var high = Avx2.PermuteVar8x32(highHalf, index.AsInt32());
            var value = Avx.BlendVariable(low, high, Avx2.ShiftLeftLogical(index, 28).AsSingle());
            return Avx.Multiply(value, Vector256.Create(Scales[(long)row * (In / Group) + col / Group]));
        }
    }

    /// <summary>
    /// The forward product of a few rows, bandwidth-bound: eight output rows at a time in the vector lanes, their codes at
    /// columns <c>k .. k+8</c> gathered as one 32-bit word per row (NF4; two for int8) and decoded in registers, each broadcast
    /// input multiplied in. Per output it sums exactly as <see cref="MicroKernels.Tile"/> does in <see cref="Job"/>: fused
    /// multiply-adds in column order from zero over each <see cref="Gemm.KC"/> slice, then <c>C = alpha·s</c> (first slice,
    /// not accumulating) or <c>C = fma(alpha, s, C)</c>; the last <c>out mod 8</c> outputs run the same chain one by one.
    /// </summary>
    private sealed class FewRowsJob
    {
        private readonly Weights _w;
        private readonly float* _x;
        private readonly float* _y;
        private readonly int _batch;
        private readonly float _alpha;
        private readonly bool _accumulate;

        public FewRowsJob(Weights w, float* x, float* y, int batch, float alpha, bool accumulate)
        {
            _w = w;
            _x = x;
            _y = y;
            _batch = batch;
            _alpha = alpha;
            _accumulate = accumulate;
        }

        /// <summary>Whether the weights decode 8 columns at a time (and AVX2 gathers are there).</summary>
        public static bool Suits(in Weights w) => w.Vectorised && w.In % 8 == 0 && (long)7 * w.In < int.MaxValue;

        public void Run()
        {
            long work = (long)_batch * _w.Out * _w.In;
            int wide = Wide ? _w.Out / 16 : 0;
            if (wide > 0) KernelThreading.Split(work, wide, Math.Min(wide, KernelThreading.ChunksForWork(work)), WideBlocks);
            int blocks = _w.Out / 8;
            if (wide > 0) Blocks(2 * wide, blocks);
            else if (blocks > 0) KernelThreading.Split(work, blocks, Math.Min(blocks, KernelThreading.ChunksForWork(work)), Blocks);
            for (int o = blocks * 8; o < _w.Out; o++)
                for (int b = 0; b < _batch; b++) Single(o, b);
        }

        /// <summary>Whether sixteen output rows fit a vector (AVX-512: one <c>vpermps</c> looks a code up in all 16 levels).</summary>
        private static bool Wide => Avx512F.IsSupported && Vector512.IsHardwareAccelerated;

        // ---- AVX-512: sixteen output rows in the lanes.

        private void WideBlocks(int first, int end)
        {
            var table = Vector512.Create(Nf4Table.AsSpan());
            for (int q = first; q < end; q++)
            {
                if (_batch == 1) WideOne(q * 16, table);
                else for (int b0 = 0; b0 < _batch; b0 += 8) WideEight(q * 16, b0, Math.Min(8, _batch - b0), table);
            }
        }

        /// <summary>Byte offsets of eight rows' codes and element offsets of their scales (two 8-lane gathers fill 16 lanes: no 512-bit gather in .NET).</summary>
        private (Vector256<int> Rows, Vector256<int> ScaleRows, int RowBytes, int Groups) WideStrides()
        {
            var (rows, scaleRows) = Strides();
            return (rows, scaleRows, _w.Format == QuantFormat.Int8 ? _w.In : _w.In / 2, _w.In / _w.Group);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<int> Gather16(byte* p, Vector256<int> rows, int rowBytes) =>
            Vector512.Create(Avx2.GatherVector256((int*)p, rows, 1), Avx2.GatherVector256((int*)(p + 8L * rowBytes), rows, 1));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private (Vector512<int> Low, Vector512<int> High) WideWords(int o0, int k, Vector256<int> rows, int rowBytes)
        {
            if (_w.Format == QuantFormat.Int8)
            {
                byte* p = _w.Codes + (long)o0 * _w.In + k;
                return (Gather16(p, rows, rowBytes), Gather16(p + 4, rows, rowBytes));
            }
            return (Gather16(_w.Codes + ((long)o0 * _w.In + k) / 2, rows, rowBytes), default);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private Vector512<float> WideScale(int o0, int k, Vector256<int> scaleRows, int groups)
        {
            if (_w.Format == QuantFormat.Int8) return Vector512.Load(_w.Scales + o0);
            float* p = _w.Scales + (long)o0 * groups + k / _w.Group;
            return Vector512.Create(Avx2.GatherVector256(p, scaleRows, 4), Avx2.GatherVector256(p + 8L * groups, scaleRows, 4));
        }

        /// <summary>The sixteen weights of rows <c>o0 .. o0+16</c> at column <c>k + t</c>: one 16-entry lookup (NF4).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private Vector512<float> WideColumn(Vector512<int> low, Vector512<int> high, int t, Vector512<float> scale, Vector512<float> table)
        {
            if (_w.Format == QuantFormat.Int8)
            {
                var word = t < 4 ? low : high;
                var code = Avx512F.ShiftRightArithmetic(Avx512F.ShiftLeftLogical(word, Vector128.CreateScalar(24 - 8 * (t & 3))), 24);
                return Avx512F.Multiply(Avx512F.ConvertToVector512Single(code), scale);
            }
            var index = Avx512F.ShiftRightLogical(low, Vector128.CreateScalar(8 * (t >> 1) + ((t & 1) == 0 ? 4 : 0)));
            return Avx512F.Multiply(Avx512F.PermuteVar16x32(table, index), scale); // vpermps reads the low 4 bits
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void WideFold(float* target, Vector512<float> sum, Vector512<float> alpha, bool accumulate) =>
            (accumulate ? Vector512.FusedMultiplyAdd(alpha, sum, Vector512.Load(target)) : alpha * sum).Store(target);

        /// <summary>Output rows <c>o0 .. o0+16</c> of batch row 0.</summary>
        private void WideOne(int o0, Vector512<float> table)
        {
            var (rows, scaleRows, rowBytes, groups) = WideStrides();
            var alpha = Vector512.Create(_alpha);
            for (int pc = 0; pc < _w.In; pc += Gemm.KC)
            {
                int end = Math.Min(_w.In, pc + Gemm.KC);
                Vector512<float> acc = default, scale = default;
                for (int k = pc; k < end; k += 8)
                {
                    if (k == pc || k % _w.Group == 0) scale = WideScale(o0, k, scaleRows, groups);
                    var (low, high) = WideWords(o0, k, rows, rowBytes);
                    float* x = _x + k;
                    for (int t = 0; t < 8; t++) acc = Vector512.FusedMultiplyAdd(Vector512.Create(x[t]), WideColumn(low, high, t, scale, table), acc);
                }
                WideFold(_y + o0, acc, alpha, _accumulate || pc > 0);
            }
        }

        /// <summary>Output rows <c>o0 .. o0+16</c> of batch rows <c>b0 .. b0+count</c> (count ≤ 8; missing rows repeat the last, unstored).</summary>
        private void WideEight(int o0, int b0, int count, Vector512<float> table)
        {
            var (rows, scaleRows, rowBytes, groups) = WideStrides();
            var alpha = Vector512.Create(_alpha);
            int n = _w.In;
            float* x0 = _x + (long)b0 * n;
            float* x1 = count > 1 ? x0 + n : x0;
            float* x2 = count > 2 ? x1 + n : x1;
            float* x3 = count > 3 ? x2 + n : x2;
            float* x4 = count > 4 ? x3 + n : x3;
            float* x5 = count > 5 ? x4 + n : x4;
            float* x6 = count > 6 ? x5 + n : x5;
            float* x7 = count > 7 ? x6 + n : x6;
            for (int pc = 0; pc < n; pc += Gemm.KC)
            {
                int end = Math.Min(n, pc + Gemm.KC);
                Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
                Vector512<float> scale = default;
                for (int k = pc; k < end; k += 8)
                {
                    if (k == pc || k % _w.Group == 0) scale = WideScale(o0, k, scaleRows, groups);
                    var (low, high) = WideWords(o0, k, rows, rowBytes);
                    for (int t = 0; t < 8; t++)
                    {
                        var w = WideColumn(low, high, t, scale, table);
                        int kt = k + t;
                        c0 = Vector512.FusedMultiplyAdd(Vector512.Create(x0[kt]), w, c0);
                        c1 = Vector512.FusedMultiplyAdd(Vector512.Create(x1[kt]), w, c1);
                        c2 = Vector512.FusedMultiplyAdd(Vector512.Create(x2[kt]), w, c2);
                        c3 = Vector512.FusedMultiplyAdd(Vector512.Create(x3[kt]), w, c3);
                        c4 = Vector512.FusedMultiplyAdd(Vector512.Create(x4[kt]), w, c4);
                        c5 = Vector512.FusedMultiplyAdd(Vector512.Create(x5[kt]), w, c5);
                        c6 = Vector512.FusedMultiplyAdd(Vector512.Create(x6[kt]), w, c6);
                        c7 = Vector512.FusedMultiplyAdd(Vector512.Create(x7[kt]), w, c7);
                    }
                }
                bool accumulate = _accumulate || pc > 0;
                float* y = _y + (long)b0 * _w.Out + o0;
                WideFold(y, c0, alpha, accumulate);
                if (count > 1) WideFold(y + _w.Out, c1, alpha, accumulate);
                if (count > 2) WideFold(y + 2 * _w.Out, c2, alpha, accumulate);
                if (count > 3) WideFold(y + 3 * _w.Out, c3, alpha, accumulate);
                if (count > 4) WideFold(y + 4 * _w.Out, c4, alpha, accumulate);
                if (count > 5) WideFold(y + 5 * _w.Out, c5, alpha, accumulate);
                if (count > 6) WideFold(y + 6 * _w.Out, c6, alpha, accumulate);
                if (count > 7) WideFold(y + 7 * _w.Out, c7, alpha, accumulate);
            }
        }

        // ---- AVX2: eight output rows in the lanes.

        private void Blocks(int first, int end)
        {
            if (_batch == 1)
            {
                // One row: two blocks at once, so that two fused multiply-add chains hide each other's latency.
                int q = first;
                for (; q + 2 <= end; q += 2) OneTwo(q * 8);
                for (; q < end; q++) One(q * 8);
                return;
            }
            for (int q = first; q < end; q++)
                for (int b0 = 0; b0 < _batch; b0 += 8) Eight(q * 8, b0, Math.Min(8, _batch - b0));
        }

        /// <summary>The eight weights of rows <c>o0 .. o0+8</c> at column <c>k + t</c>, from the gathered words.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private Vector256<float> Column(Vector256<int> low, Vector256<int> high, int t, Vector256<float> scale, Vector256<float> lowHalf, Vector256<float> highHalf)
        {
            if (_w.Format == QuantFormat.Int8)
            {
                var word = t < 4 ? low : high;
                var code = Avx2.ShiftRightArithmetic(Avx2.ShiftLeftLogical(word, Vector128.CreateScalar(24 - 8 * (t & 3))), 24);
                return Avx.Multiply(Avx.ConvertToVector256Single(code), scale);
            }
            // Code t sits at bit s of the word (byte t/2, its high nibble first). vpermps reads only the low 3 bits of the
            // shifted word; bit 3 of the code, moved to the sign, picks the table's upper half.
            int shift = 8 * (t >> 1) + ((t & 1) == 0 ? 4 : 0);
            var index = Avx2.ShiftRightLogical(low, Vector128.CreateScalar(shift));
            var upper = Avx2.ShiftLeftLogical(low, Vector128.CreateScalar(28 - shift)).AsSingle();
            var value = Avx.BlendVariable(Avx2.PermuteVar8x32(lowHalf, index), Avx2.PermuteVar8x32(highHalf, index), upper);
            return Avx.Multiply(value, scale);
        }

        /// <summary>Gathers the code words of rows <c>o0 .. o0+8</c> at column k (NF4: 8 codes; int8: two words of 4).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private (Vector256<int> Low, Vector256<int> High) Words(int o0, int k, Vector256<int> rows)
        {
            if (_w.Format == QuantFormat.Int8)
            {
                var p = (int*)(_w.Codes + (long)o0 * _w.In + k);
                return (Avx2.GatherVector256(p, rows, 1), Avx2.GatherVector256(p + 1, rows, 1));
            }
            var q = (int*)(_w.Codes + ((long)o0 * _w.In + k) / 2);
            nint step = _w.In / 8; // ints per row
            return (Vector256.Create(q[0], q[step], q[2 * step], q[3 * step], q[4 * step], q[5 * step], q[6 * step], q[7 * step]), default);
        }

        /// <summary>The scale of rows <c>o0 .. o0+8</c> at column k: the group's absmax (NF4) or the row's scale (int8).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private Vector256<float> Scale(int o0, int k, Vector256<int> scaleRows) =>
            _w.Format == QuantFormat.Int8
                ? Avx.LoadVector256(_w.Scales + o0)
                : Avx2.GatherVector256(_w.Scales + (long)o0 * (_w.In / _w.Group) + k / _w.Group, scaleRows, 4);

        private (Vector256<int> Rows, Vector256<int> ScaleRows) Strides()
        {
            int rowBytes = _w.Format == QuantFormat.Int8 ? _w.In : _w.In / 2, groups = _w.In / _w.Group;
            return (Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) * rowBytes, Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) * groups);
        }

        /// <summary>Output rows <c>o0 .. o0+8</c> of batch row 0.</summary>
        private void One(int o0)
        {
            var (rows, scaleRows) = Strides();
            var (lowHalf, highHalf) = (Vector256.Create(Nf4Table.AsSpan(0, 8)), Vector256.Create(Nf4Table.AsSpan(8, 8)));
            var alpha = Vector256.Create(_alpha);
            float* target = _y + o0;
            for (int pc = 0; pc < _w.In; pc += Gemm.KC)
            {
                int end = Math.Min(_w.In, pc + Gemm.KC);
                var acc = Vector256<float>.Zero;
                var scale = Vector256<float>.Zero;
                for (int k = pc; k < end; k += 8)
                {
                    if (k % 64 == 0) Prefetch(o0, k);
                    if (k == pc || k % _w.Group == 0) scale = Scale(o0, k, scaleRows);
                    var (low, high) = Words(o0, k, rows);
                    float* x = _x + k;
                    for (int t = 0; t < 8; t++)
                        acc = Vector256.FusedMultiplyAdd(Vector256.Create(x[t]), Column(low, high, t, scale, lowHalf, highHalf), acc);
                }
                Fold(target, acc, alpha, _accumulate || pc > 0);
            }
        }

        /// <summary>
        /// Asks for the code lines of rows <c>o0 .. o0+8</c> a few lines ahead of column k: eight rows read a word each per
        /// step, too slowly along each for the hardware's stream prefetchers to run ahead.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Prefetch(int o0, int k)
        {
            long rowBytes = _w.Format == QuantFormat.Int8 ? _w.In : _w.In / 2;
            long ahead = _w.Format == QuantFormat.Int8 ? k + 512 : (k + 1024) / 2;
            if (ahead >= rowBytes) return;
            byte* p = _w.Codes + o0 * rowBytes + ahead;
            for (int r = 0; r < 8; r++) Sse.Prefetch0(p + r * rowBytes);
        }

        /// <summary>Output rows <c>o0 .. o0+16</c> of batch row 0: <see cref="One"/> for two blocks, interleaved.</summary>
        private void OneTwo(int o0)
        {
            var (rows, scaleRows) = Strides();
            var (lowHalf, highHalf) = (Vector256.Create(Nf4Table.AsSpan(0, 8)), Vector256.Create(Nf4Table.AsSpan(8, 8)));
            var alpha = Vector256.Create(_alpha);
            for (int pc = 0; pc < _w.In; pc += Gemm.KC)
            {
                int end = Math.Min(_w.In, pc + Gemm.KC);
                Vector256<float> a0 = default, a1 = default, s0 = default, s1 = default;
                for (int k = pc; k < end; k += 8)
                {
                    if (k % 64 == 0)
                    {
                        Prefetch(o0, k);
                        Prefetch(o0 + 8, k);
                    }
                    if (k == pc || k % _w.Group == 0)
                    {
                        s0 = Scale(o0, k, scaleRows);
                        s1 = Scale(o0 + 8, k, scaleRows);
                    }
                    var (l0, h0) = Words(o0, k, rows);
                    var (l1, h1) = Words(o0 + 8, k, rows);
                    float* x = _x + k;
                    for (int t = 0; t < 8; t++)
                    {
                        var v = Vector256.Create(x[t]);
                        a0 = Vector256.FusedMultiplyAdd(v, Column(l0, h0, t, s0, lowHalf, highHalf), a0);
                        a1 = Vector256.FusedMultiplyAdd(v, Column(l1, h1, t, s1, lowHalf, highHalf), a1);
                    }
                }
                bool accumulate = _accumulate || pc > 0;
                Fold(_y + o0, a0, alpha, accumulate);
                Fold(_y + o0 + 8, a1, alpha, accumulate);
            }
        }

        /// <summary>Output rows <c>o0 .. o0+8</c> of batch rows <c>b0 .. b0+count</c> (count ≤ 8; missing rows repeat the last, unstored).</summary>
        private void Eight(int o0, int b0, int count)
        {
            var (rows, scaleRows) = Strides();
            var (lowHalf, highHalf) = (Vector256.Create(Nf4Table.AsSpan(0, 8)), Vector256.Create(Nf4Table.AsSpan(8, 8)));
            var alpha = Vector256.Create(_alpha);
            int n = _w.In;
            float* x0 = _x + (long)b0 * n;
            float* x1 = count > 1 ? x0 + n : x0;
            float* x2 = count > 2 ? x1 + n : x1;
            float* x3 = count > 3 ? x2 + n : x2;
            float* x4 = count > 4 ? x3 + n : x3;
            float* x5 = count > 5 ? x4 + n : x4;
            float* x6 = count > 6 ? x5 + n : x5;
            float* x7 = count > 7 ? x6 + n : x6;
            for (int pc = 0; pc < n; pc += Gemm.KC)
            {
                int end = Math.Min(n, pc + Gemm.KC);
                Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
                var scale = Vector256<float>.Zero;
                for (int k = pc; k < end; k += 8)
                {
                    if (k == pc || k % _w.Group == 0) scale = Scale(o0, k, scaleRows);
                    var (low, high) = Words(o0, k, rows);
                    for (int t = 0; t < 8; t++)
                    {
                        var w = Column(low, high, t, scale, lowHalf, highHalf);
                        int kt = k + t;
                        c0 = Vector256.FusedMultiplyAdd(Vector256.Create(x0[kt]), w, c0);
                        c1 = Vector256.FusedMultiplyAdd(Vector256.Create(x1[kt]), w, c1);
                        c2 = Vector256.FusedMultiplyAdd(Vector256.Create(x2[kt]), w, c2);
                        c3 = Vector256.FusedMultiplyAdd(Vector256.Create(x3[kt]), w, c3);
                        c4 = Vector256.FusedMultiplyAdd(Vector256.Create(x4[kt]), w, c4);
                        c5 = Vector256.FusedMultiplyAdd(Vector256.Create(x5[kt]), w, c5);
                        c6 = Vector256.FusedMultiplyAdd(Vector256.Create(x6[kt]), w, c6);
                        c7 = Vector256.FusedMultiplyAdd(Vector256.Create(x7[kt]), w, c7);
                    }
                }
                bool accumulate = _accumulate || pc > 0;
                float* y = _y + (long)b0 * _w.Out + o0;
                Fold(y, c0, alpha, accumulate);
                if (count > 1) Fold(y + _w.Out, c1, alpha, accumulate);
                if (count > 2) Fold(y + 2 * _w.Out, c2, alpha, accumulate);
                if (count > 3) Fold(y + 3 * _w.Out, c3, alpha, accumulate);
                if (count > 4) Fold(y + 4 * _w.Out, c4, alpha, accumulate);
                if (count > 5) Fold(y + 5 * _w.Out, c5, alpha, accumulate);
                if (count > 6) Fold(y + 6 * _w.Out, c6, alpha, accumulate);
                if (count > 7) Fold(y + 7 * _w.Out, c7, alpha, accumulate);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Fold(float* target, Vector256<float> sum, Vector256<float> alpha, bool accumulate) =>
            (accumulate ? Vector256.FusedMultiplyAdd(alpha, sum, Vector256.Load(target)) : alpha * sum).Store(target);

        /// <summary>Output <paramref name="o"/> of batch row <paramref name="b"/>, element by element (the last outputs).</summary>
        private void Single(int o, int b)
        {
            float* x = _x + (long)b * _w.In;
            float* target = _y + (long)b * _w.Out + o;
            for (int pc = 0; pc < _w.In; pc += Gemm.KC)
            {
                int end = Math.Min(_w.In, pc + Gemm.KC);
                float s = 0f;
                for (int k = pc; k < end; k++) s = MathF.FusedMultiplyAdd(x[k], _w.At(o, k), s);
                *target = _accumulate || pc > 0 ? MathF.FusedMultiplyAdd(_alpha, s, *target) : _alpha * s;
            }
        }
    }

    /// <summary>One call: the panels (output columns of the product) split over threads.</summary>
    private sealed class Job
    {
        private readonly Weights _w;
        private readonly float* _a;
        private readonly float* _c;
        private readonly int _batch;
        private readonly bool _transposed;
        private readonly float _alpha;
        private readonly bool _accumulate;

        public Job(Weights w, float* a, float* c, int batch, bool transposed, float alpha, bool accumulate)
        {
            _w = w;
            _a = a;
            _c = c;
            _batch = batch;
            _transposed = transposed;
            _alpha = alpha;
            _accumulate = accumulate;
        }

        /// <summary>The product's N (columns of C) and K (its depth): out and in forward, in and out transposed.</summary>
        private int N => _transposed ? _w.In : _w.Out;

        private int K => _transposed ? _w.Out : _w.In;

        public void Run()
        {
            int nr = MicroKernels.NR;
            int panels = (N + nr - 1) / nr;
            long work = (long)_batch * N * K;
            KernelThreading.Split(work, panels, Math.Min(panels, KernelThreading.ChunksForWork(work)), Execute);
        }

        private void Execute(int firstPanel, int endPanel)
        {
            int nr = MicroKernels.NR;
            float[] rented = ArrayPool<float>.Shared.Rent(Gemm.KC * nr + 64);
            try
            {
                fixed (float* panel = rented)
                {
                    for (int pc = 0; pc < K; pc += Gemm.KC)
                    {
                        int kc = Math.Min(Gemm.KC, K - pc);
                        bool accumulate = _accumulate || pc > 0;
                        for (int i0 = 0; i0 < _batch; i0 += Gemm.MC)
                        {
                            int i1 = Math.Min(_batch, i0 + Gemm.MC);
                            for (int q = firstPanel; q < endPanel; q++)
                            {
                                int j0 = q * nr, cols = Math.Min(nr, N - j0);
                                if (_transposed) FillRows(panel, pc, kc, j0, cols);
                                else FillTransposed(panel, pc, kc, j0, cols);
                                for (int i = i0; i < i1; i += MicroKernels.MR)
                                {
                                    int rows = Math.Min(MicroKernels.MR, i1 - i);
                                    MicroKernels.Tile(_a + (long)i * K + pc, K, 1, panel, nr, kc, _c + (long)i * N + j0, N, 1, rows, cols, _alpha, accumulate);
                                }
                            }
                        }
                    }
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(rented);
            }
        }

        /// <summary>Forward: <c>panel[p, j] = W[j0 + j, pc + p]</c> (8 × 8 blocks dequantised by rows and transposed), zero past the columns.</summary>
        private void FillTransposed(float* panel, int pc, int kc, int j0, int cols)
        {
            int nr = MicroKernels.NR;
            var (lowHalf, highHalf) = Halves();
            float* block = stackalloc float[64];
            bool vector = _w.Vectorised && CpuKernels.CanTranspose8x8;
            for (int jb = 0; jb < nr; jb += 8)
            {
                for (int p0 = 0; p0 < kc; p0 += 8)
                {
                    if (vector && jb + 8 <= cols && p0 + 8 <= kc)
                    {
                        for (int r = 0; r < 8; r++) Avx.Store(block + 8 * r, _w.Eight(j0 + jb + r, pc + p0, lowHalf, highHalf));
                        CpuKernels.Transpose8x8(block, 8, panel + (long)p0 * nr + jb, nr, accumulate: false);
                        continue;
                    }
                    for (int t = 0; t < 8 && p0 + t < kc; t++)
                        for (int r = 0; r < 8; r++)
                            panel[(long)(p0 + t) * nr + jb + r] = jb + r < cols ? _w.At(j0 + jb + r, pc + p0 + t) : 0f;
                }
            }
        }

        /// <summary>Input gradient: <c>panel[p, j] = W[pc + p, j0 + j]</c>, a row of W per panel row, zero past the columns.</summary>
        private void FillRows(float* panel, int pc, int kc, int j0, int cols)
        {
            int nr = MicroKernels.NR;
            var (lowHalf, highHalf) = Halves();
            bool vector = _w.Vectorised;
            for (int p = 0; p < kc; p++)
            {
                float* target = panel + (long)p * nr;
                int j = 0;
                if (vector)
                    for (; j + 8 <= cols; j += 8) Avx.Store(target + j, _w.Eight(pc + p, j0 + j, lowHalf, highHalf));
                for (; j < nr; j++) target[j] = j < cols ? _w.At(pc + p, j0 + j) : 0f;
            }
        }

        private static (Vector256<float> Low, Vector256<float> High) Halves() =>
            Avx.IsSupported
                ? (Vector256.Create(Nf4Table.AsSpan(0, 8)), Vector256.Create(Nf4Table.AsSpan(8, 8)))
                : (default, default);
    }
}
