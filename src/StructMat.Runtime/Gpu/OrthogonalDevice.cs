using System;
using ILGPU;
using ILGPU.Runtime;
using StructMat.Runtime.Kernels;

namespace StructMat.Runtime.Gpu;

/// <summary>
/// PEFT's OFT rotation on an ILGPU accelerator (the math of <see cref="OrthogonalKernels"/>): each call builds the
/// block rotations from the packed <c>oft_R</c> in float64, one thread per block, into a <c>[blocks, b, b]</c> buffer of
/// the applied weights <c>W_i = R_iᵀ</c>; the batch then runs as a block-diagonal product, one thread per output
/// element. The gradient sums <c>Σ_rows dy_i x_iᵀ</c> per weight element in row order (deterministic) and takes it back
/// through the rotation, one thread per block. No <c>n×n</c> matrix is formed; the device scratch is
/// <c>O(blocks·b²)</c>, owned here and grown on demand.
/// </summary>
public sealed class OrthogonalDevice : IDisposable
{
    private readonly Accelerator _accelerator;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<double>, int, int, int, int> _build;
    private readonly Action<Index2D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> _apply;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> _weightGradient;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, int, int, int, int> _adjoint;
    private MemoryBuffer1D<float, Stride1D.Dense>? _weights;
    private MemoryBuffer1D<float, Stride1D.Dense>? _weightGradients;
    private MemoryBuffer1D<double, Stride1D.Dense>? _work;

    public OrthogonalDevice(Accelerator accelerator)
    {
        _accelerator = accelerator ?? throw new ArgumentNullException(nameof(accelerator));
        _build = KernelCache.GetOrLoad(accelerator, "StructMat.Runtime.Orthogonal.Build",
            a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<double>, int, int, int, int>(Build));
        _apply = KernelCache.GetOrLoad(accelerator, "StructMat.Runtime.Orthogonal.Apply",
            a => a.LoadAutoGroupedStreamKernel<Index2D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(ApplyBlocks));
        _weightGradient = KernelCache.GetOrLoad(accelerator, "StructMat.Runtime.Orthogonal.WeightGradient",
            a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(WeightGradient));
        _adjoint = KernelCache.GetOrLoad(accelerator, "StructMat.Runtime.Orthogonal.Adjoint",
            a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, int, int, int, int>(Adjoint));
    }

    /// <summary><c>y_i (+)= R_iᵀ x_i</c>, or <c>R_i x_i</c> when <paramref name="transposed"/>, for every block of every row.</summary>
    public void Apply(ArrayView<float> x, ArrayView<float> y, ArrayView<float> packed, int batch, int blocks, int block, int terms, bool transposed, bool accumulate,
        SkewLayout skew = SkewLayout.PackedUpper)
    {
        var n = Check(batch, blocks, block, terms, packed, skew);
        KernelArguments.Length(x.Length, (long)batch * n, nameof(x), "batch * n");
        KernelArguments.Length(y.Length, (long)batch * n, nameof(y), "batch * n");
        if (batch == 0 || blocks == 0) return;
        var w = BuildWeights(packed, blocks, block, terms, skew);
        _apply(new Index2D(batch, blocks * block), x, w, y, block, (transposed ? 1 : 0) | (accumulate ? 2 : 0), blocks * block);
    }

    /// <summary><c>dPacked += ∂L/∂oft_R</c> for <c>L = Σ_rows dyᵀ (Apply x)</c>.</summary>
    public void Gradient(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> packed, ArrayView<float> dPacked, int batch, int blocks, int block, int terms,
        SkewLayout skew = SkewLayout.PackedUpper)
    {
        var n = Check(batch, blocks, block, terms, packed, skew);
        KernelArguments.Length(x.Length, (long)batch * n, nameof(x), "batch * n");
        KernelArguments.Length(dy.Length, (long)batch * n, nameof(dy), "batch * n");
        KernelArguments.Length(dPacked.Length, (long)blocks * OrthogonalKernels.BlockLength(block, skew), nameof(dPacked), "blocks * block parameters");
        if (batch == 0 || blocks == 0) return;
        var bb = block * block;
        var dw = Grow(ref _weightGradients, (long)blocks * bb);
        _weightGradient(blocks * bb, dy, x, dw, batch, block, blocks * block);
        var work = Grow(ref _work, (long)blocks * WorkPerBlock(block, terms));
        _adjoint(blocks, packed, dw, dPacked, work, block, terms, WorkPerBlock(block, terms), skew == SkewLayout.Full ? 1 : 0);
    }

    // The CPU kernels' checks (OrthogonalKernels), on device views: a bad argument throws before any launch.
    private static int Check(int batch, int blocks, int block, int terms, ArrayView<float> packed, SkewLayout skew)
    {
        KernelArguments.NonNegative(batch, nameof(batch));
        KernelArguments.NonNegative(blocks, nameof(blocks));
        if (block < 1) throw new ArgumentException($"block must be positive, got {block}.", nameof(block));
        if (terms < 0 || terms > OrthogonalKernels.MaxTerms) throw new ArgumentException($"terms must be 0 (exact) to {OrthogonalKernels.MaxTerms}, got {terms}.", nameof(terms));
        if (skew != SkewLayout.PackedUpper && skew != SkewLayout.Full) throw new ArgumentException($"skew is not a defined {nameof(SkewLayout)} ({(int)skew}).", nameof(skew));
        var n = (long)blocks * block;
        KernelArguments.FitsInt32(n * block, nameof(block), "blocks * block * block");
        KernelArguments.FitsInt32((long)batch * n, nameof(batch), "batch * n");
        KernelArguments.Length(packed.Length, (long)blocks * OrthogonalKernels.BlockLength(block, skew), nameof(packed), "blocks * block parameters");
        return (int)n;
    }

    public void Dispose()
    {
        _weights?.Dispose();
        _weightGradients?.Dispose();
        _work?.Dispose();
    }

    private ArrayView<float> BuildWeights(ArrayView<float> packed, int blocks, int block, int terms, SkewLayout skew)
    {
        var w = Grow(ref _weights, (long)blocks * block * block);
        var work = Grow(ref _work, (long)blocks * WorkPerBlock(block, terms));
        _build(blocks, packed, w, work, block, terms, WorkPerBlock(block, terms), skew == SkewLayout.Full ? 1 : 0);
        return w;
    }

    private ArrayView<T> Grow<T>(ref MemoryBuffer1D<T, Stride1D.Dense>? buffer, long length) where T : unmanaged
    {
        if (buffer is null || buffer.Length < length)
        {
            buffer?.Dispose();
            buffer = _accelerator.Allocate1D<T>(Math.Max(1, length));
        }
        return buffer.View.SubView(0, length);
    }

    // Q, G, ∂L/∂Q and a product's scratch, plus the series' Horner matrices H_1 … H_P (or A and A⁻¹).
    private static int WorkPerBlock(int block, int terms) => (Math.Max(Top(terms), 2) + 4) * block * block;

    private static int Top(int terms) => terms <= 1 ? 0 : terms == 2 ? 1 : Math.Max(3, terms - 1);

    // c_p of PEFT's series (OrthogonalKernels.SeriesCoefficients), computed in the kernel.
    private static double Coefficient(int p, int terms)
    {
        var top = Top(terms);
        if (p == 0) return 1.0;
        if (terms == 2) return 2.0;
        return p < top ? 2.0 : 1.0;
    }

    private static void Build(Index1D blk, ArrayView<float> packed, ArrayView<float> w, ArrayView<double> work, int b, int terms, int stride, int full)
    {
        var bb = b * b;
        var q = blk * stride;
        var h = q + bb;
        var t = h + bb;
        LoadSkew(packed, blk, b, work, q, full);
        if (terms == 0)
        {
            Invert(work, q, h, t, b); // work[t] = (I + Q)⁻¹, work[h] overwritten
            for (var r = 0; r < b; r++)
                for (var c = 0; c < b; c++) work[h + r * b + c] = 2.0 * work[t + r * b + c] - (r == c ? 1.0 : 0.0);
        }
        else
        {
            var top = Top(terms);
            SetIdentity(work, h, b, Coefficient(top, terms));
            for (var p = top - 1; p >= 0; p--)
            {
                Multiply(work, q, h, t, b);
                for (var k = 0; k < bb; k++) work[h + k] = work[t + k];
                for (var k = 0; k < b; k++) work[h + k * b + k] += Coefficient(p, terms);
            }
        }
        for (var r = 0; r < b; r++)
            for (var c = 0; c < b; c++) w[blk * bb + c * b + r] = (float)work[h + r * b + c];
    }

    // flags: 1 = transposed (dx_i = W_iᵀ dy_i = R_i dy_i), 2 = accumulate.
    private static void ApplyBlocks(Index2D index, ArrayView<float> x, ArrayView<float> w, ArrayView<float> y, int b, int flags, int n)
    {
        var row = index.X;
        var j = index.Y;
        var blk = j / b;
        var i = j - blk * b;
        var baseW = blk * b * b;
        var baseX = row * n + blk * b;
        var sum = 0.0f;
        if ((flags & 1) == 0)
        {
            for (var k = 0; k < b; k++) sum += w[baseW + i * b + k] * x[baseX + k];
        }
        else
        {
            for (var c = 0; c < b; c++) sum += w[baseW + c * b + i] * x[baseX + c];
        }
        var target = row * n + j;
        y[target] = (flags & 2) != 0 ? y[target] + sum : sum;
    }

    private static void WeightGradient(Index1D e, ArrayView<float> dy, ArrayView<float> x, ArrayView<float> dw, int batch, int b, int n)
    {
        var bb = b * b;
        var blk = e / bb;
        var c = (e - blk * bb) / b;
        var k = e - blk * bb - c * b;
        var sum = 0.0f;
        for (var row = 0; row < batch; row++) sum += dy[row * n + blk * b + c] * x[row * n + blk * b + k];
        dw[e] = sum;
    }

    private static void Adjoint(Index1D blk, ArrayView<float> packed, ArrayView<float> dw, ArrayView<float> dPacked, ArrayView<double> work, int b, int terms, int stride, int full)
    {
        var bb = b * b;
        var q = blk * stride;
        var g = q + bb;
        var dq = g + bb;
        var t = dq + bb;
        var h = t + bb; // H_1 … H_P, or A then A⁻¹ for the exact mode
        LoadSkew(packed, blk, b, work, q, full);
        for (var r = 0; r < b; r++)
            for (var c = 0; c < b; c++)
            {
                work[g + r * b + c] = dw[blk * bb + c * b + r]; // ∂L/∂R = dWᵀ
                work[dq + r * b + c] = 0.0;
            }
        if (terms == 0)
        {
            // ∂L/∂Q = −2 A⁻ᵀ G A⁻ᵀ with A = I + Q.
            var inverse = h + bb;
            Invert(work, q, h, inverse, b);
            for (var r = 0; r < b; r++)
                for (var c = 0; c < b; c++)
                {
                    var s = 0.0;
                    for (var k = 0; k < b; k++) s += work[inverse + k * b + r] * work[g + k * b + c];
                    work[t + r * b + c] = s;
                }
            for (var r = 0; r < b; r++)
                for (var c = 0; c < b; c++)
                {
                    var s = 0.0;
                    for (var k = 0; k < b; k++) s += work[t + r * b + k] * work[inverse + c * b + k];
                    work[dq + r * b + c] = -2.0 * s;
                }
        }
        else
        {
            var top = Top(terms);
            // H_top = c_top I; H_p = c_p I + Q H_(p+1), stored at h + (p − 1)·bb for p = 1 … top (none for one term: R = I).
            if (top > 0) SetIdentity(work, h + (top - 1) * bb, b, Coefficient(top, terms));
            for (var p = top - 1; p >= 1; p--)
            {
                Multiply(work, q, h + p * bb, h + (p - 1) * bb, b);
                for (var k = 0; k < b; k++) work[h + (p - 1) * bb + k * b + k] += Coefficient(p, terms);
            }
            // G_0 = G; ∂L/∂Q += G_p H_(p+1)ᵀ; G_(p+1) = Qᵀ G_p.
            for (var p = 0; p < top; p++)
            {
                var next = h + p * bb;
                for (var r = 0; r < b; r++)
                    for (var c = 0; c < b; c++)
                    {
                        var s = 0.0;
                        for (var k = 0; k < b; k++) s += work[g + r * b + k] * work[next + c * b + k];
                        work[dq + r * b + c] += s;
                    }
                if (p + 1 < top)
                {
                    for (var r = 0; r < b; r++)
                        for (var c = 0; c < b; c++)
                        {
                            var s = 0.0;
                            for (var k = 0; k < b; k++) s += work[q + k * b + r] * work[g + k * b + c];
                            work[t + r * b + c] = s;
                        }
                    for (var k = 0; k < bb; k++) work[g + k] = work[t + k];
                }
            }
        }
        if (full != 0)
        {
            // Q = ½(A − Aᵀ) ⇒ ∂L/∂A = ½(∂L/∂Q − ∂L/∂Qᵀ).
            for (var r = 0; r < b; r++)
                for (var c = 0; c < b; c++)
                    dPacked[blk * bb + r * b + c] += (float)(0.5 * (work[dq + r * b + c] - work[dq + c * b + r]));
            return;
        }
        var m = b * (b - 1) / 2;
        var e = 0;
        for (var r = 0; r < b; r++)
            for (var c = r + 1; c < b; c++, e++)
                dPacked[blk * m + e] += (float)(work[dq + r * b + c] - work[dq + c * b + r]);
    }

    private static void LoadSkew(ArrayView<float> packed, int blk, int b, ArrayView<double> work, int q, int full)
    {
        if (full != 0)
        {
            for (var r = 0; r < b; r++)
                for (var c = 0; c < b; c++)
                    work[q + r * b + c] = 0.5 * ((double)packed[blk * b * b + r * b + c] - packed[blk * b * b + c * b + r]);
            return;
        }
        var m = b * (b - 1) / 2;
        for (var k = 0; k < b; k++) work[q + k * b + k] = 0.0;
        var e = 0;
        for (var r = 0; r < b; r++)
            for (var c = r + 1; c < b; c++, e++)
            {
                var v = (double)packed[blk * m + e];
                work[q + r * b + c] = v;
                work[q + c * b + r] = -v;
            }
    }

    private static void SetIdentity(ArrayView<double> work, int at, int b, double value)
    {
        for (var r = 0; r < b; r++)
            for (var c = 0; c < b; c++) work[at + r * b + c] = r == c ? value : 0.0;
    }

    // work[target] = work[left] · work[right]
    private static void Multiply(ArrayView<double> work, int left, int right, int target, int b)
    {
        for (var r = 0; r < b; r++)
            for (var c = 0; c < b; c++)
            {
                var s = 0.0;
                for (var k = 0; k < b; k++) s += work[left + r * b + k] * work[right + k * b + c];
                work[target + r * b + c] = s;
            }
    }

    private static double Abs(double v) => v < 0 ? -v : v;

    // work[inverse] = (I + work[q])⁻¹ by Gauss–Jordan with partial pivoting; work[a] is scratch.
    private static void Invert(ArrayView<double> work, int q, int a, int inverse, int b)
    {
        for (var r = 0; r < b; r++)
            for (var c = 0; c < b; c++)
            {
                work[a + r * b + c] = work[q + r * b + c] + (r == c ? 1.0 : 0.0);
                work[inverse + r * b + c] = r == c ? 1.0 : 0.0;
            }
        for (var col = 0; col < b; col++)
        {
            var pivot = col;
            for (var r = col + 1; r < b; r++)
                if (Abs(work[a + r * b + col]) > Abs(work[a + pivot * b + col])) pivot = r;
            if (pivot != col)
            {
                for (var c = 0; c < b; c++)
                {
                    var s = work[a + col * b + c];
                    work[a + col * b + c] = work[a + pivot * b + c];
                    work[a + pivot * b + c] = s;
                    s = work[inverse + col * b + c];
                    work[inverse + col * b + c] = work[inverse + pivot * b + c];
                    work[inverse + pivot * b + c] = s;
                }
            }
            var d = 1.0 / work[a + col * b + col];
            for (var c = 0; c < b; c++)
            {
                work[a + col * b + c] *= d;
                work[inverse + col * b + c] *= d;
            }
            for (var r = 0; r < b; r++)
            {
                if (r == col) continue;
                var f = work[a + r * b + col];
                for (var c = 0; c < b; c++)
                {
                    work[a + r * b + c] -= f * work[a + col * b + c];
                    work[inverse + r * b + c] -= f * work[inverse + col * b + c];
                }
            }
        }
    }
}
