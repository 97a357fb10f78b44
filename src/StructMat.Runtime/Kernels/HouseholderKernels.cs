using System;
using System.Buffers;
using System.Numerics.Tensors;
using System.Threading.Tasks;

namespace StructMat.Runtime.Kernels;

/// <summary>
/// The Householder-reflection product of PEFT HRA: <c>u = hra_u [n, r]</c> row-major, so column <c>i</c>
/// (<c>u[k·r + i]</c>, <c>k &lt; n</c>) is the vector <c>u_i</c>; <c>û_i = u_i / ‖u_i‖</c>,
/// <c>H_i = I − 2 û_i û_iᵀ</c> and <c>H = H_1 H_2 … H_r</c> (no Gram–Schmidt). Activations are row-major
/// <c>[batch, n]</c>.
/// </summary>
/// <remarks>
/// <para>A zero column <c>u_i</c> has no direction; it is treated as the identity reflection (<c>H_i = I</c>) and
/// receives a zero gradient. (PyTorch/PEFT would divide by zero and produce NaN there.)</para>
/// <para>No <c>n×n</c> matrix is ever formed: a reflection of a vector is one dot product and one axpy, so a row
/// costs about <c>2·n·r</c> multiply-adds. All arithmetic is float64 (the normalised directions, the working
/// vectors and the gradient sums), rounded to float32 only when written out. Results are deterministic:
/// rows are independent in <see cref="Apply"/>/<see cref="ApplyTransposed"/>, and <see cref="Gradient"/> splits
/// the batch into chunks whose number and bounds depend only on the shape (never on the thread count), sums each
/// chunk in row order and reduces the chunks in chunk order.</para>
/// <para>Spans must hold at least the elements their shapes need (only the prefix is used); outputs must not
/// overlap inputs. Bad arguments throw <see cref="ArgumentException"/> naming the argument.</para>
/// </remarks>
public static unsafe class HouseholderKernels
{
    /// <summary>Below this many multiply-adds a call stays on the calling thread.</summary>
    private const long ParallelThreshold = 1L << 16;

    /// <summary>At most this many row chunks (a fixed number, so that the gradient's summation order never depends on the machine).</summary>
    private const int MaxChunks = 32;

    /// <summary>The per-chunk float64 gradient partial sums may take at most this many bytes in all.</summary>
    private const long PartialSumBudgetBytes = 64L << 20;

    /// <summary><c>y[b] = (accumulate ? y[b] : 0) + H · x[b]</c> for every row: <c>H_r</c> is applied first, <c>H_1</c> last.</summary>
    public static void Apply(ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<float> u, int batch, int n, int r, bool accumulate)
    {
        Validate(batch, n, r, u, nameof(u));
        Activation(x.Length, batch, n, nameof(x));
        Activation(y.Length, batch, n, nameof(y));
        x = x.Slice(0, batch * n);
        y = y.Slice(0, batch * n);
        u = u.Slice(0, n * r);
        KernelArguments.NoOverlap(x, y, nameof(x), nameof(y));
        KernelArguments.NoOverlap(u, y, nameof(u), nameof(y));
        Transform(x, y, u, batch, n, r, accumulate, transposed: false);
    }

    /// <summary>
    /// <c>dx[b] = (accumulate ? dx[b] : 0) + Hᵀ · dy[b]</c> for every row, <c>Hᵀ = H_r … H_1</c>: <c>H_1</c> is applied
    /// first. (The backward pass of <see cref="Apply"/> with respect to its input.)
    /// </summary>
    public static void ApplyTransposed(ReadOnlySpan<float> dy, Span<float> dx, ReadOnlySpan<float> u, int batch, int n, int r, bool accumulate)
    {
        Validate(batch, n, r, u, nameof(u));
        Activation(dy.Length, batch, n, nameof(dy));
        Activation(dx.Length, batch, n, nameof(dx));
        dy = dy.Slice(0, batch * n);
        dx = dx.Slice(0, batch * n);
        u = u.Slice(0, n * r);
        KernelArguments.NoOverlap(dy, dx, nameof(dy), nameof(dx));
        KernelArguments.NoOverlap(u, dx, nameof(u), nameof(dx));
        Transform(dy, dx, u, batch, n, r, accumulate, transposed: true);
    }

    /// <summary>
    /// <c>du += ∂L/∂u</c> for <c>L = Σ_b dy[b]ᵀ (H x[b])</c>, through the normalisation:
    /// <c>∂L/∂u_i = (I − û_i û_iᵀ)(∂L/∂û_i) / ‖u_i‖</c> with, for <c>z_{r+1} = x</c>, <c>z_i = H_i z_{i+1}</c>,
    /// <c>g_1 = dy</c>, <c>g_{i+1} = H_i g_i</c>: <c>∂L/∂û_i = −2 Σ_b [(û_iᵀ z_{i+1}) g_i + (û_iᵀ g_i) z_{i+1}]</c>.
    /// The <c>z_i</c> are recovered from <c>y = z_1</c> by applying the involutions <c>H_i</c> again, so the scratch
    /// is a few length-<c>n</c> vectors per thread plus one <c>[r, n]</c> float64 partial sum per chunk.
    /// </summary>
    public static void Gradient(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> u, Span<float> du, int batch, int n, int r)
    {
        Validate(batch, n, r, u, nameof(u));
        Activation(x.Length, batch, n, nameof(x));
        Activation(dy.Length, batch, n, nameof(dy));
        KernelArguments.Length(du.Length, (long)n * r, nameof(du), "n * r");
        x = x.Slice(0, batch * n);
        dy = dy.Slice(0, batch * n);
        u = u.Slice(0, n * r);
        du = du.Slice(0, n * r);
        KernelArguments.NoOverlap(x, du, nameof(x), nameof(du));
        KernelArguments.NoOverlap(dy, du, nameof(dy), nameof(du));
        KernelArguments.NoOverlap(u, du, nameof(u), nameof(du));
        if (batch == 0 || n == 0 || r == 0) return;

        int size = n * r;
        double[] directions = ArrayPool<double>.Shared.Rent(size);
        double[] norms = ArrayPool<double>.Shared.Rent(r);
        try
        {
            Normalise(u, directions, norms, n, r);
            long work = 5L * n * r * batch; // forward walk, backward walk of z and g, and the two gradient axpys
            int chunks = GradientChunkCount(batch, work, size);
            double[] partials = new double[(long)chunks * size];
            var dirs = directions;
            if (chunks == 1)
            {
                GradientRows(x, dy, dirs, partials.AsSpan(0, size), 0, batch, n, r);
            }
            else
            {
                fixed (float* px = x, pdy = dy)
                {
                    nint xAddress = (nint)px, dyAddress = (nint)pdy;
                    int length = batch * n;
                    Parallel.For(0, chunks, c =>
                    {
                        int start = (int)((long)batch * c / chunks), end = (int)((long)batch * (c + 1) / chunks);
                        var xSpan = new ReadOnlySpan<float>((float*)xAddress, length);
                        var dySpan = new ReadOnlySpan<float>((float*)dyAddress, length);
                        GradientRows(xSpan, dySpan, dirs, partials.AsSpan(c * size, size), start, end, n, r);
                    });
                }
                // Fixed-order reduction of the chunk partial sums into chunk 0.
                var total = partials.AsSpan(0, size);
                for (int c = 1; c < chunks; c++) TensorPrimitives.Add(total, partials.AsSpan(c * size, size), total);
            }

            // Project out the radial part and divide by the norm: ∂L/∂u_i = (I − û_i û_iᵀ) G_i / ‖u_i‖.
            for (int i = 0; i < r; i++)
            {
                double norm = norms[i];
                if (norm == 0) continue; // identity reflection: no gradient
                var g = partials.AsSpan(i * n, n);
                var d = directions.AsSpan(i * n, n);
                double radial = TensorPrimitives.Dot<double>(d, g);
                for (int k = 0; k < n; k++)
                    du[k * r + i] = (float)(du[k * r + i] + (g[k] - radial * d[k]) / norm);
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(directions);
            ArrayPool<double>.Shared.Return(norms);
        }
    }

    /// <summary>Accumulates <c>∂L/∂û_i</c> (before the projection) over rows <c>[start, end)</c> into <paramref name="partial"/> <c>[r, n]</c>.</summary>
    private static void GradientRows(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, double[] directions, Span<double> partial, int start, int end, int n, int r)
    {
        double[] z = ArrayPool<double>.Shared.Rent(n);
        double[] g = ArrayPool<double>.Shared.Rent(n);
        try
        {
            var zs = z.AsSpan(0, n);
            var gs = g.AsSpan(0, n);
            for (int b = start; b < end; b++)
            {
                Widen(x.Slice(b * n, n), zs);
                Widen(dy.Slice(b * n, n), gs);
                // z_1 = H_1 … H_r x.
                for (int i = r - 1; i >= 0; i--) Reflect(zs, directions.AsSpan(i * n, n));
                for (int i = 0; i < r; i++)
                {
                    var d = directions.AsSpan(i * n, n);
                    // z_{i+1} = H_i z_i (H_i is an involution); a zero direction leaves z and g unchanged and adds nothing.
                    double zDot = Reflect(zs, d);            // û_iᵀ z_i; then û_iᵀ z_{i+1} = −zDot
                    double gDot = TensorPrimitives.Dot<double>(d, gs); // û_iᵀ g_i
                    var p = partial.Slice(i * n, n);
                    // ∂L/∂û_i −= 2 [(û_iᵀ z_{i+1}) g_i + (û_iᵀ g_i) z_{i+1}]
                    TensorPrimitives.MultiplyAdd<double>(gs, 2.0 * zDot, p, p);
                    TensorPrimitives.MultiplyAdd<double>(zs, -2.0 * gDot, p, p);
                    // g_{i+1} = H_i g_i.
                    TensorPrimitives.MultiplyAdd<double>(d, -2.0 * gDot, gs, gs);
                }
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(z);
            ArrayPool<double>.Shared.Return(g);
        }
    }

    private static int GradientChunkCount(int batch, long work, int size)
    {
        if (work <= ParallelThreshold) return 1;
        long byWork = Math.Max(1, work / (ParallelThreshold / 4));
        long byMemory = Math.Max(1, PartialSumBudgetBytes / (8L * size));
        return (int)Math.Max(1, Math.Min(Math.Min(byWork, byMemory), Math.Min(batch, MaxChunks)));
    }

    private static void Transform(ReadOnlySpan<float> input, Span<float> output, ReadOnlySpan<float> u, int batch, int n, int r, bool accumulate, bool transposed)
    {
        if (batch == 0 || n == 0) return;
        double[] directions = ArrayPool<double>.Shared.Rent(Math.Max(1, n * r));
        double[] norms = ArrayPool<double>.Shared.Rent(Math.Max(1, r));
        try
        {
            Normalise(u, directions, norms, n, r);
            long work = 2L * n * r * batch;
            if (work <= ParallelThreshold || batch == 1)
            {
                TransformRows(input, output, directions, 0, batch, n, r, accumulate, transposed);
                return;
            }
            int chunks = (int)Math.Max(1, Math.Min(Math.Min(batch, 4L * Environment.ProcessorCount), work / (ParallelThreshold / 4)));
            var dirs = directions;
            fixed (float* pin = input, pout = output)
            {
                // Spans cannot enter the lambda, so the pinned addresses travel as integers.
                nint inAddress = (nint)pin, outAddress = (nint)pout;
                int length = batch * n;
                // Rows are independent, so the split (which depends on the core count) cannot change any result.
                Parallel.For(0, chunks, c =>
                {
                    int start = (int)((long)batch * c / chunks), end = (int)((long)batch * (c + 1) / chunks);
                    var inSpan = new ReadOnlySpan<float>((float*)inAddress, length);
                    var outSpan = new Span<float>((float*)outAddress, length);
                    TransformRows(inSpan, outSpan, dirs, start, end, n, r, accumulate, transposed);
                });
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(directions);
            ArrayPool<double>.Shared.Return(norms);
        }
    }

    private static void TransformRows(ReadOnlySpan<float> input, Span<float> output, double[] directions, int start, int end, int n, int r, bool accumulate, bool transposed)
    {
        double[] z = ArrayPool<double>.Shared.Rent(n);
        try
        {
            var zs = z.AsSpan(0, n);
            for (int b = start; b < end; b++)
            {
                Widen(input.Slice(b * n, n), zs);
                if (transposed)
                {
                    for (int i = 0; i < r; i++) Reflect(zs, directions.AsSpan(i * n, n));
                }
                else
                {
                    for (int i = r - 1; i >= 0; i--) Reflect(zs, directions.AsSpan(i * n, n));
                }
                var row = output.Slice(b * n, n);
                if (accumulate)
                {
                    for (int k = 0; k < n; k++) row[k] = (float)(row[k] + zs[k]);
                }
                else
                {
                    for (int k = 0; k < n; k++) row[k] = (float)zs[k];
                }
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(z);
        }
    }

    /// <summary><c>z ← (I − 2 d dᵀ) z</c>; returns <c>dᵀ z</c> before the reflection. A zero <paramref name="d"/> leaves z unchanged.</summary>
    private static double Reflect(Span<double> z, ReadOnlySpan<double> d)
    {
        double dot = TensorPrimitives.Dot(d, (ReadOnlySpan<double>)z);
        TensorPrimitives.MultiplyAdd(d, -2.0 * dot, z, z);
        return dot;
    }

    /// <summary>Writes <c>û_i</c> to <c>directions[i·n .. i·n + n)</c> (zeros for a zero column) and <c>‖u_i‖</c> to <c>norms[i]</c>, in float64.</summary>
    private static void Normalise(ReadOnlySpan<float> u, double[] directions, double[] norms, int n, int r)
    {
        for (int i = 0; i < r; i++)
        {
            double sumSquares = 0;
            for (int k = 0; k < n; k++)
            {
                double v = u[k * r + i];
                sumSquares += v * v;
            }
            double norm = Math.Sqrt(sumSquares);
            norms[i] = norm;
            for (int k = 0; k < n; k++) directions[i * n + k] = norm > 0 ? u[k * r + i] / norm : 0.0;
        }
    }

    private static void Widen(ReadOnlySpan<float> source, Span<double> destination)
    {
        for (int k = 0; k < source.Length; k++) destination[k] = source[k];
    }

    private static void Validate(int batch, int n, int r, ReadOnlySpan<float> u, string uName)
    {
        KernelArguments.NonNegative(batch, nameof(batch));
        KernelArguments.NonNegative(n, nameof(n));
        KernelArguments.NonNegative(r, nameof(r));
        KernelArguments.FitsInt32((long)n * r, nameof(r), "n * r");
        KernelArguments.FitsInt32((long)batch * n, nameof(batch), "batch * n");
        KernelArguments.Length(u.Length, (long)n * r, uName, "n * r");
    }

    private static void Activation(int length, int batch, int n, string name)
        => KernelArguments.Length(length, (long)batch * n, name, "batch * n");
}
