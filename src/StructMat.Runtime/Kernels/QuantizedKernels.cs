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
/// W: <see cref="Apply"/> (<c>y = x Wᵀ</c>) and <see cref="ApplyTransposed"/> (<c>dx = dy W</c>, the input gradient)
/// dequantise one register panel of the block-matmul engine at a time — <c>KC × NR</c> floats (384 × 16 on AVX2, 24 KB,
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
    /// absmax 0 and code 7 (0).
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
                    int hi = NearestNf4(max == 0f ? 0f : values[k] * inverse), lo = NearestNf4(max == 0f ? 0f : values[k + 1] * inverse);
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

    /// <summary>One weight <c>W[row, col]</c> as stored (the definition the kernels vectorise).</summary>
    public static float Weight(ReadOnlySpan<byte> codes, ReadOnlySpan<float> scales, QuantFormat format, int inFeatures, int group, int row, int col)
    {
        if (format == QuantFormat.Int8) return (sbyte)codes[row * inFeatures + col] * scales[row];
        int e = row * inFeatures + col;
        int code = (e & 1) == 0 ? codes[e >> 1] >> 4 : codes[e >> 1] & 15;
        return Nf4Table[code] * scales[row * (inFeatures / group) + col / group];
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
            var job = new Job(new Weights(pc, ps, format, outFeatures, inFeatures, group), px, py, batch, transposed: false, alpha, accumulate);
            job.Run();
        }
    }

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
