using System;
using ILGPU;
using ILGPU.Runtime;
using StructMat.Runtime.Kernels;

namespace StructMat.Runtime.Gpu;

/// <summary>
/// Products with a quantised frozen base on an ILGPU accelerator (the math of <see cref="QuantizedKernels"/>): one thread
/// per output element sums its row of the product in a fixed order, dequantising each weight as it reads it — never a
/// float32 W. The codes arrive as <see cref="DeviceParameters"/> holds byte parameters: four little-endian bytes per float
/// word. The 16 NF4 values live in a small device buffer owned here.
/// </summary>
public sealed class QuantizedDevice : IDisposable
{
    private readonly Action<Index2D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, QuantizedShape> _forward;
    private readonly Action<Index2D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, QuantizedShape> _transposed;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _table;

    public QuantizedDevice(Accelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        _forward = KernelCache.GetOrLoad(accelerator, "StructMat.Runtime.Quantized.Forward",
            a => a.LoadAutoGroupedStreamKernel<Index2D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, QuantizedShape>(Forward));
        _transposed = KernelCache.GetOrLoad(accelerator, "StructMat.Runtime.Quantized.Transposed",
            a => a.LoadAutoGroupedStreamKernel<Index2D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, QuantizedShape>(Transposed));
        _table = accelerator.Allocate1D(QuantizedKernels.Nf4Values.ToArray());
    }

    /// <summary><c>y = (accumulate ? y : 0) + alpha · x Wᵀ</c>.</summary>
    public void Apply(ArrayView<float> x, ArrayView<float> y, ArrayView<float> codes, ArrayView<float> scales, QuantFormat format,
        int batch, int outFeatures, int inFeatures, int group, float alpha, bool accumulate)
    {
        Check(codes, scales, format, outFeatures, inFeatures, group);
        KernelArguments.Length(x.Length, (long)KernelArguments.Rows(batch, inFeatures), nameof(x), "batch * in");
        KernelArguments.Length(y.Length, (long)KernelArguments.Rows(batch, outFeatures), nameof(y), "batch * out");
        if (batch == 0) return;
        _forward(new Index2D(batch, outFeatures), x, y, codes, scales, _table.View, Shape(format, outFeatures, inFeatures, group, alpha, accumulate));
    }

    /// <summary><c>dx = (accumulate ? dx : 0) + alpha · dy W</c> (the input gradient).</summary>
    public void ApplyTransposed(ArrayView<float> dy, ArrayView<float> dx, ArrayView<float> codes, ArrayView<float> scales, QuantFormat format,
        int batch, int outFeatures, int inFeatures, int group, float alpha, bool accumulate)
    {
        Check(codes, scales, format, outFeatures, inFeatures, group);
        KernelArguments.Length(dy.Length, (long)KernelArguments.Rows(batch, outFeatures), nameof(dy), "batch * out");
        KernelArguments.Length(dx.Length, (long)KernelArguments.Rows(batch, inFeatures), nameof(dx), "batch * in");
        if (batch == 0) return;
        _transposed(new Index2D(batch, inFeatures), dy, dx, codes, scales, _table.View, Shape(format, outFeatures, inFeatures, group, alpha, accumulate));
    }

    public void Dispose() => _table.Dispose();

    private static void Check(ArrayView<float> codes, ArrayView<float> scales, QuantFormat format, int outFeatures, int inFeatures, int group)
    {
        QuantizedKernels.CheckShape(format, outFeatures, inFeatures, group);
        var (codeBytes, scaleLength) = QuantizedKernels.Lengths(format, outFeatures, inFeatures, group);
        KernelArguments.Length(codes.Length, (codeBytes + 3) / 4, nameof(codes), "the code bytes / 4 (words)");
        KernelArguments.Length(scales.Length, scaleLength, nameof(scales), format == QuantFormat.Nf4 ? "out * in / group" : "out");
    }

    private static QuantizedShape Shape(QuantFormat format, int outFeatures, int inFeatures, int group, float alpha, bool accumulate) =>
        new(format == QuantFormat.Nf4 ? 1 : 0, outFeatures, inFeatures, format == QuantFormat.Nf4 ? group : inFeatures, alpha, accumulate ? 1 : 0);

    /// <summary>Byte <paramref name="index"/> of the codes, from its float word.</summary>
    private static int Byte(ArrayView<float> words, long index) =>
        (int)((Interop.FloatAsInt(words[index >> 2]) >> (int)((index & 3) * 8)) & 0xFFu);

    private static float Weight(ArrayView<float> codes, ArrayView<float> scales, ArrayView<float> table, QuantizedShape s, int row, int col)
    {
        long e = (long)row * s.In + col;
        if (s.Nf4 == 0)
        {
            int b = Byte(codes, e);
            return (b >= 128 ? b - 256 : b) * scales[row];
        }
        int packed = Byte(codes, e >> 1);
        int code = (e & 1) == 0 ? packed >> 4 : packed & 15;
        return table[code] * scales[(long)row * (s.In / s.Group) + col / s.Group];
    }

    private static void Forward(Index2D index, ArrayView<float> x, ArrayView<float> y, ArrayView<float> codes, ArrayView<float> scales, ArrayView<float> table, QuantizedShape s)
    {
        int b = index.X, o = index.Y;
        float sum = 0f;
        for (int i = 0; i < s.In; i++) sum += x[(long)b * s.In + i] * Weight(codes, scales, table, s, o, i);
        long target = (long)b * s.Out + o;
        y[target] = s.Accumulate != 0 ? y[target] + s.Alpha * sum : s.Alpha * sum;
    }

    private static void Transposed(Index2D index, ArrayView<float> dy, ArrayView<float> dx, ArrayView<float> codes, ArrayView<float> scales, ArrayView<float> table, QuantizedShape s)
    {
        int b = index.X, i = index.Y;
        float sum = 0f;
        for (int o = 0; o < s.Out; o++) sum += dy[(long)b * s.Out + o] * Weight(codes, scales, table, s, o, i);
        long target = (long)b * s.In + i;
        dx[target] = s.Accumulate != 0 ? dx[target] + s.Alpha * sum : s.Alpha * sum;
    }
}

/// <summary>The scalar arguments of <see cref="QuantizedDevice"/>'s kernels (ILGPU kernels take few parameters well as one struct).</summary>
public readonly struct QuantizedShape
{
    public QuantizedShape(int nf4, int outFeatures, int inFeatures, int group, float alpha, int accumulate)
    {
        Nf4 = nf4;
        Out = outFeatures;
        In = inFeatures;
        Group = group;
        Alpha = alpha;
        Accumulate = accumulate;
    }

    public readonly int Nf4;

    public readonly int Out;

    public readonly int In;

    public readonly int Group;

    public readonly float Alpha;

    public readonly int Accumulate;
}
