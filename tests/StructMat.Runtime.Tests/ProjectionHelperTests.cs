using System;
using System.Linq;
using Xunit;

namespace StructMat.Runtime.Tests;

/// <summary>
/// Independent reference arithmetic for the projection tests: spectra by the classical two-sided Jacobi
/// eigenvalue method on Gram matrices (a different algorithm from the one-sided Jacobi SVD under test),
/// integer-valued random factors (whose products are exact in float32, so "is exactly structured" survives the
/// float32 dense input), and Frobenius distances.
/// </summary>
internal static class ProjectionMath
{
    /// <summary>Uniform integers in [−range, range] as floats.</summary>
    public static float[] Integers(int length, int seed, int range = 2)
    {
        var rng = new Random(seed);
        var values = new float[length];
        for (int k = 0; k < length; k++) values[k] = rng.Next(-range, range + 1);
        return values;
    }

    /// <summary>Converts to float32, asserting that no value changes (the matrix is exactly representable).</summary>
    public static float[] ExactFloat(double[] values)
    {
        var result = new float[values.Length];
        for (int k = 0; k < values.Length; k++)
        {
            result[k] = (float)values[k];
            Assert.Equal(values[k], (double)result[k]);
        }
        return result;
    }

    public static double[] Widen(float[] values) => values.Select(v => (double)v).ToArray();

    public static double Norm(double[] a) => Math.Sqrt(a.Sum(v => v * v));

    public static double Distance(double[] a, double[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double sum = 0;
        for (int k = 0; k < a.Length; k++) sum += (a[k] - b[k]) * (a[k] - b[k]);
        return Math.Sqrt(sum);
    }

    /// <summary>The Gram matrix of the smaller side: <c>WᵀW</c> when cols ≤ rows, else <c>W·Wᵀ</c>.</summary>
    public static double[] SmallGram(double[] w, int rows, int cols, out int size)
    {
        bool columns = cols <= rows;
        size = columns ? cols : rows;
        int inner = columns ? rows : cols;
        var g = new double[size * size];
        for (int a = 0; a < size; a++)
            for (int b = 0; b < size; b++)
            {
                double sum = 0;
                for (int k = 0; k < inner; k++)
                    sum += columns ? w[k * cols + a] * w[k * cols + b] : w[a * cols + k] * w[b * cols + k];
                g[a * size + b] = sum;
            }
        return g;
    }

    /// <summary>Eigenvalues of a symmetric matrix by cyclic two-sided Jacobi rotations, descending.</summary>
    public static double[] SymmetricEigenvalues(double[] symmetric, int n)
    {
        var a = (double[])symmetric.Clone();
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0, total = 0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                {
                    total += a[i * n + j] * a[i * n + j];
                    if (i != j) off += a[i * n + j] * a[i * n + j];
                }
            if (off <= 1e-30 * total) break;
            for (int p = 0; p < n - 1; p++)
                for (int q = p + 1; q < n; q++)
                {
                    double apq = a[p * n + q];
                    if (apq == 0) continue;
                    double theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
                    double t = Math.Sign(theta == 0 ? 1.0 : theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    // A ← Jᵀ A J with J the rotation in the (p, q) plane.
                    for (int k = 0; k < n; k++)
                    {
                        double akp = a[k * n + p], akq = a[k * n + q];
                        a[k * n + p] = c * akp - s * akq;
                        a[k * n + q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double apk = a[p * n + k], aqk = a[q * n + k];
                        a[p * n + k] = c * apk - s * aqk;
                        a[q * n + k] = s * apk + c * aqk;
                    }
                }
        }
        return Enumerable.Range(0, n).Select(i => a[i * n + i]).OrderByDescending(v => v).ToArray();
    }

    /// <summary>Squared singular values of a <c>[rows, cols]</c> matrix, descending (min(rows, cols) of them).</summary>
    public static double[] SquaredSingularValues(double[] w, int rows, int cols)
    {
        var gram = SmallGram(w, rows, cols, out int size);
        return SymmetricEigenvalues(gram, size);
    }

    /// <summary><c>Σ_{j ≥ keep} σ_j²</c>: what the best rank-<paramref name="keep"/> approximation leaves.</summary>
    public static double DiscardedSquared(double[] w, int rows, int cols, int keep)
        => SquaredSingularValues(w, rows, cols).Skip(keep).Sum();

    /// <summary>Numerical rank from the squared singular values.</summary>
    public static int Rank(double[] w, int rows, int cols)
    {
        var squared = SquaredSingularValues(w, rows, cols);
        return squared.Count(v => v > 1e-12 * Math.Max(squared[0], 1e-300));
    }

    /// <summary>Adds uniform noise of amplitude <paramref name="scale"/> to every entry.</summary>
    public static float[] Perturb(float[] values, double scale, Random rng)
        => values.Select(v => (float)(v + scale * (2 * rng.NextDouble() - 1))).ToArray();
}

public class ProjectionHelperTests
{
    [Fact]
    public void EigenvaluesOfHandComputedMatrices()
    {
        // [[2, 1], [1, 2]] has eigenvalues 3 and 1; [[4, 1, 0], [1, 4, 1], [0, 1, 4]] has 4 + √2, 4, 4 − √2.
        var two = ProjectionMath.SymmetricEigenvalues(new double[] { 2, 1, 1, 2 }, 2);
        Assert.Equal(3.0, two[0], 12);
        Assert.Equal(1.0, two[1], 12);
        var three = ProjectionMath.SymmetricEigenvalues(new double[] { 4, 1, 0, 1, 4, 1, 0, 1, 4 }, 3);
        Assert.Equal(4 + Math.Sqrt(2), three[0], 12);
        Assert.Equal(4.0, three[1], 12);
        Assert.Equal(4 - Math.Sqrt(2), three[2], 12);
    }

    [Fact]
    public void SquaredSingularValuesOfAHandComputedRectangle()
    {
        // [[3, 0], [0, 4], [0, 0]] has singular values 4 and 3; the wide transpose has the same.
        var tall = ProjectionMath.SquaredSingularValues(new double[] { 3, 0, 0, 4, 0, 0 }, 3, 2);
        Assert.Equal(new[] { 16.0, 9.0 }, tall.Select(v => Math.Round(v, 10)));
        var wide = ProjectionMath.SquaredSingularValues(new double[] { 3, 0, 0, 0, 4, 0 }, 2, 3);
        Assert.Equal(new[] { 16.0, 9.0 }, wide.Select(v => Math.Round(v, 10)));
        Assert.Equal(2, ProjectionMath.Rank(new double[] { 3, 0, 0, 0, 4, 0 }, 2, 3));
        Assert.Equal(1, ProjectionMath.Rank(new double[] { 1, 2, 2, 4 }, 2, 2));
    }
}
