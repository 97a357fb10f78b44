using System;

namespace StructMat.Runtime.Projection;

/// <summary>
/// A float64 singular value decomposition by one-sided (Hestenes) Jacobi rotations, used by the projections.
/// The rotations orthogonalise the columns of the matrix with the smaller column count (the matrix itself when
/// <c>rows ≥ cols</c>, else its transpose), which gives singular values with high relative accuracy and
/// orthonormal singular vectors. Deterministic: a fixed cyclic pair order, a fixed sweep limit, singular
/// values sorted descending by a stable sort, and each pair's sign fixed so that the entry of largest
/// magnitude of the right singular vector (the first on ties) is positive.
/// Cost: O(sweeps · rows · cols · min(rows, cols)), typically 6–12 sweeps.
/// </summary>
internal sealed class JacobiSvd
{
    private const int MaxSweeps = 80;

    private JacobiSvd(int rows, int cols, double[] u, double[] sigma, double[] v)
    {
        Rows = rows;
        Cols = cols;
        U = u;
        Sigma = sigma;
        V = v;
    }

    /// <summary>Rows of the decomposed matrix.</summary>
    public int Rows { get; }

    /// <summary>Columns of the decomposed matrix.</summary>
    public int Cols { get; }

    /// <summary><c>min(Rows, Cols)</c> singular values, descending.</summary>
    public double[] Sigma { get; }

    /// <summary>Left singular vectors, stored vector by vector: <c>U[j·Rows + i]</c> is entry i of u_j.</summary>
    public double[] U { get; }

    /// <summary>Right singular vectors, stored vector by vector: <c>V[j·Cols + i]</c> is entry i of v_j.</summary>
    public double[] V { get; }

    /// <summary>Decomposes the row-major <c>[rows, cols]</c> matrix <paramref name="a"/> (not modified).</summary>
    public static JacobiSvd Decompose(ReadOnlySpan<double> a, int rows, int cols)
    {
        if (rows <= 0 || cols <= 0) throw new ArgumentException("The matrix must have positive dimensions.", nameof(a));
        if (a.Length != (long)rows * cols) throw new ArgumentException($"a has {a.Length} elements, not {rows}·{cols}.", nameof(a));

        bool transpose = rows < cols;
        // Tall orientation: m ≥ n; the n columns of the tall matrix are stored contiguously.
        int m = transpose ? cols : rows, n = transpose ? rows : cols;
        var columns = new double[checked(m * n)];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
            {
                if (transpose) columns[i * m + j] = a[i * cols + j];
                else columns[j * m + i] = a[i * cols + j];
            }

        var rotations = new double[checked(n * n)];
        for (int j = 0; j < n; j++) rotations[j * n + j] = 1.0;
        Orthogonalise(columns, m, n, rotations);

        // Singular values are the column norms; sort descending (stable, so ties keep their order).
        var norms = new double[n];
        for (int j = 0; j < n; j++) norms[j] = Math.Sqrt(Dot(columns.AsSpan(j * m, m), columns.AsSpan(j * m, m)));
        var order = new int[n];
        for (int j = 0; j < n; j++) order[j] = j;
        StableSortDescending(order, norms);

        var sigma = new double[n];
        var left = new double[checked(m * n)];
        var right = new double[checked(n * n)];
        for (int t = 0; t < n; t++)
        {
            int j = order[t];
            double s = norms[j];
            sigma[t] = s;
            if (s > 0)
                for (int i = 0; i < m; i++) left[t * m + i] = columns[j * m + i] / s;
            // When s = 0 the left vector stays zero: it only ever appears multiplied by s.
            for (int i = 0; i < n; i++) right[t * n + i] = rotations[j * n + i];
        }

        // In the tall orientation A = Left·Σ·Rightᵀ; for a transposed input, Aᵀ = Left·Σ·Rightᵀ, so A's U is Right.
        double[] u = transpose ? right : left, v = transpose ? left : right;
        int uLength = rows, vLength = cols;
        for (int t = 0; t < n; t++) FixSign(u.AsSpan(t * uLength, uLength), v.AsSpan(t * vLength, vLength));
        return new JacobiSvd(rows, cols, u, sigma, v);
    }

    /// <summary>
    /// Rotates pairs of columns until every pair is orthogonal to working precision, accumulating the rotations
    /// (stored vector by vector, <c>rotations[j·n + i]</c>) so that <c>A·R = columns</c>.
    /// </summary>
    private static void Orthogonalise(double[] columns, int m, int n, double[] rotations)
    {
        // Stop a pair when its cosine is below what rounding in an m-term dot product can resolve.
        double tolerance = Math.Max(1.0, Math.Sqrt(m)) * 2.3e-16;
        for (int sweep = 0; sweep < MaxSweeps; sweep++)
        {
            bool rotated = false;
            for (int i = 0; i < n - 1; i++)
                for (int j = i + 1; j < n; j++)
                {
                    var ci = columns.AsSpan(i * m, m);
                    var cj = columns.AsSpan(j * m, m);
                    double alpha = Dot(ci, ci), beta = Dot(cj, cj), gamma = Dot(ci, cj);
                    if (alpha == 0 || beta == 0) continue;
                    if (Math.Abs(gamma) <= tolerance * Math.Sqrt(alpha) * Math.Sqrt(beta)) continue;
                    rotated = true;
                    // The rotation that diagonalises [[alpha, gamma], [gamma, beta]].
                    double zeta = (beta - alpha) / (2 * gamma);
                    double t = Math.Abs(zeta) > 1e150
                        ? 0.5 / zeta
                        : Math.Sign(zeta == 0 ? 1.0 : zeta) / (Math.Abs(zeta) + Math.Sqrt(1 + zeta * zeta));
                    double c = 1 / Math.Sqrt(1 + t * t), s = c * t;
                    Rotate(ci, cj, c, s);
                    Rotate(rotations.AsSpan(i * n, n), rotations.AsSpan(j * n, n), c, s);
                }
            if (!rotated) return;
        }
    }

    private static void Rotate(Span<double> x, Span<double> y, double c, double s)
    {
        for (int k = 0; k < x.Length; k++)
        {
            double a = x[k], b = y[k];
            x[k] = c * a - s * b;
            y[k] = s * a + c * b;
        }
    }

    private static double Dot(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        double sum = 0;
        for (int k = 0; k < x.Length; k++) sum += x[k] * y[k];
        return sum;
    }

    private static void StableSortDescending(int[] order, double[] keys)
    {
        // Insertion sort: n is at most a few thousand and the order after Jacobi is usually nearly sorted.
        for (int a = 1; a < order.Length; a++)
        {
            int item = order[a], b = a - 1;
            while (b >= 0 && keys[order[b]] < keys[item])
            {
                order[b + 1] = order[b];
                b--;
            }
            order[b + 1] = item;
        }
    }

    private static void FixSign(Span<double> u, Span<double> v)
    {
        int largest = 0;
        for (int k = 1; k < v.Length; k++)
            if (Math.Abs(v[k]) > Math.Abs(v[largest])) largest = k;
        if (v[largest] >= 0) return;
        for (int k = 0; k < u.Length; k++) u[k] = -u[k];
        for (int k = 0; k < v.Length; k++) v[k] = -v[k];
    }
}
