using System;
using ILGPU;
using ILGPU.Runtime;

namespace StructMat.Runtime.Gpu;

/// <summary>
/// Householder chains on an ILGPU accelerator, never as matrices: one thread per row applies the r
/// reflections in place to a copy of the row. <c>u</c> is <c>hra_u [n, r]</c> (column i is u_i);
/// H = H_1 … H_r with H_i = I − 2 û_i û_iᵀ, and a zero column is the identity (as on the CPU).
/// The gradient is computed per row into scratch, then summed over rows in a fixed order (deterministic).
/// </summary>
public sealed class HouseholderDevice
{
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int> _reflect;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> _rowGradient;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int, int> _sumRows;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int> _copy;

    public HouseholderDevice(Accelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        _reflect = KernelCache.GetOrLoad(accelerator, "StructMat.Runtime.Householder.Reflect",
            a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int>(Reflect));
        _rowGradient = KernelCache.GetOrLoad(accelerator, "StructMat.Runtime.Householder.RowGradient",
            a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(RowGradient));
        _sumRows = KernelCache.GetOrLoad(accelerator, "StructMat.Runtime.Householder.SumRows",
            a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(SumRows));
        _copy = KernelCache.GetOrLoad(accelerator, "StructMat.Runtime.Householder.Copy",
            a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(Copy));
    }

    /// <summary><c>y (+)= H x</c>, or <c>Hᵀ x</c> when <paramref name="transposed"/>; <paramref name="scratch"/> holds batch·n floats.</summary>
    public void Apply(ArrayView<float> x, ArrayView<float> y, ArrayView<float> u, ArrayView<float> scratch, int batch, int n, int r, bool transposed, bool accumulate)
    {
        if (batch == 0) return;
        var length = batch * n;
        _copy(length, x, scratch, 0);
        _reflect(batch, scratch, u, n, r, transposed ? 1 : 0);
        _copy(length, scratch, y, accumulate ? 1 : 0);
    }

    /// <summary><c>du += ∂(Σ dyᵀ H x)/∂u</c>; scratch: z and g hold batch·n floats, rows holds batch·n·r.</summary>
    public void Gradient(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> u, ArrayView<float> du,
        ArrayView<float> z, ArrayView<float> g, ArrayView<float> rows, int batch, int n, int r)
    {
        if (batch == 0) return;
        _copy(batch * n, x, z, 0);
        _reflect(batch, z, u, n, r, 0); // z = y = H x
        _copy(batch * n, dy, g, 0);
        _rowGradient(batch, z, g, u, rows, n, r);
        _sumRows(n * r, rows, du, batch, n * r);
    }

    // Reflects row `row` of data in place: H_r first, H_1 last (or the reverse for Hᵀ).
    private static void Reflect(Index1D row, ArrayView<float> data, ArrayView<float> u, int n, int r, int transposed)
    {
        for (var step = 0; step < r; step++)
        {
            var i = transposed != 0 ? step : r - 1 - step;
            ReflectRow(data, row * n, u, n, r, i);
        }
    }

    private static void ReflectRow(ArrayView<float> data, int offset, ArrayView<float> u, int n, int r, int i)
    {
        var norm2 = 0.0f;
        var dot = 0.0f;
        for (var k = 0; k < n; k++)
        {
            norm2 += u[k * r + i] * u[k * r + i];
            dot += u[k * r + i] * data[offset + k];
        }
        if (norm2 == 0.0f) return;
        var coefficient = 2.0f * dot / norm2;
        for (var k = 0; k < n; k++) data[offset + k] -= coefficient * u[k * r + i];
    }

    // z holds y = H x and g holds dy for this row. Walks i = 1..r: z ← H_i z (now the input of H_i),
    // writes ∂L/∂u_i for the row, then g ← H_i g.
    private static void RowGradient(Index1D row, ArrayView<float> z, ArrayView<float> g, ArrayView<float> u, ArrayView<float> rows, int n, int r)
    {
        var offset = row * n;
        for (var i = 0; i < r; i++)
        {
            ReflectRow(z, offset, u, n, r, i);
            var norm2 = 0.0f;
            var uz = 0.0f;
            var ug = 0.0f;
            for (var k = 0; k < n; k++)
            {
                norm2 += u[k * r + i] * u[k * r + i];
                uz += u[k * r + i] * z[offset + k];
                ug += u[k * r + i] * g[offset + k];
            }
            var target = row * n * r;
            if (norm2 == 0.0f)
            {
                for (var k = 0; k < n; k++) rows[target + k * r + i] = 0.0f;
                continue;
            }
            // With s = (uᵀz) g + (uᵀg) z, ∂L/∂û = −2 s/‖u‖, and projecting out û and dividing by ‖u‖ gives
            // ∂L/∂u = −2/‖u‖² · (s − u (uᵀs)/‖u‖²): no square root needed.
            var us = 0.0f;
            for (var k = 0; k < n; k++) us += u[k * r + i] * (uz * g[offset + k] + ug * z[offset + k]);
            for (var k = 0; k < n; k++)
            {
                var sk = uz * g[offset + k] + ug * z[offset + k];
                rows[target + k * r + i] = -2.0f / norm2 * (sk - u[k * r + i] * us / norm2);
            }
            ReflectRow(g, offset, u, n, r, i);
        }
    }

    private static void SumRows(Index1D e, ArrayView<float> rows, ArrayView<float> du, int batch, int width)
    {
        var sum = 0.0f;
        for (var b = 0; b < batch; b++) sum += rows[b * width + e];
        du[e] += sum;
    }

    private static void Copy(Index1D e, ArrayView<float> from, ArrayView<float> to, int accumulate)
    {
        to[e] = accumulate != 0 ? to[e] + from[e] : from[e];
    }
}
