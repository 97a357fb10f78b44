using System;
using System.Collections.Generic;
using StructMat.Compiler.Diagnostics;
using StructMat.Compiler.Emit;
using StructMat.Compiler.IR;
using StructMat.Compiler.Lowering;
using StructMat.Compiler.Semantics;

namespace StructMat.Compiler.Structures;

/// <summary>
/// <c>btt(rank: r)</c>, Compute Better Spent's block tensor-train with 2 cores: in = m0·m1, out = n0·n1 (their
/// <c>factorize</c>), W[j0·n1 + j1, i1·m0 + i0] = Σ_α C0[i1, α·n0 + j0, i0] · C1[j0, j1, i1·r + α], stored as
/// <c>cores.0 [m1, r·n0, m0]</c> and <c>cores.1 [n0, n1, m1·r]</c> (blocks [out, in], as every StructMat block).
/// </summary>
public sealed record BoundBtt(MatrixShape Shape, int Rank, int M0, int M1, int N0, int N1, bool Frozen, SourceSpan Span) : BoundPrimitive(Shape, Frozen, Span)
{
    public override Structure Structure => Btt.Instance;
}

/// <summary><c>btt(rank: r)</c>, optionally <c>cores: 2</c> (the only count supported: SMX0303). Rank 1 is Monarch up to its output order.</summary>
public sealed class Btt : Structure<BoundBtt>
{
    public static readonly Btt Instance = new();

    public override PrimitiveSpec Spec { get; } = new("btt", false,
        new ArgumentSpec("rank", ArgumentKind.Integer, true, "btt(rank: 4)"),
        new ArgumentSpec("cores", ArgumentKind.Integer, false, "btt(rank: 4, cores: 2)"));

    /// <summary>
    /// Compute Better Spent's <c>factorize(n, 2)</c>: each prime factor (ascending, with multiplicity) multiplies the
    /// currently smallest of the two numbers (ties: the first), then the pair is sorted.
    /// </summary>
    public static (int Small, int Large) Factorize(int n)
    {
        var numbers = new[] { 1, 1 };
        var rest = n;
        for (var prime = 2; (long)prime * prime <= rest; prime++)
        {
            while (rest % prime == 0)
            {
                numbers[numbers[1] < numbers[0] ? 1 : 0] *= prime;
                rest /= prime;
            }
        }
        if (rest > 1) numbers[numbers[1] < numbers[0] ? 1 : 0] *= rest;
        return (Math.Min(numbers[0], numbers[1]), Math.Max(numbers[0], numbers[1]));
    }

    internal override BoundBtt? BindShape(StructureBinding b)
    {
        if (b.Integer("rank") is not { } rank) return null;
        if (b.Has("cores"))
        {
            if (b.Integer("cores") is not { } cores) return null;
            if (cores != 2)
            {
                b.Report(DiagnosticDescriptors.UnsupportedCores, b.SpanOf("cores"), cores);
                return null;
            }
        }
        var (m0, m1) = Factorize(b.Shape.In);
        var (n0, n1) = Factorize(b.Shape.Out);
        return b.FitsIndex((long)m1 * rank * n0 * m0) && b.FitsIndex((long)n0 * n1 * m1 * rank)
            ? new BoundBtt(b.Shape, rank, m0, m1, n0, n1, b.Frozen, b.Span)
            : null;
    }

    public override IReadOnlyList<ParameterSpec> Parameters(BoundBtt t) => new[]
    {
        new ParameterSpec("cores.0", new[] { t.M1, t.Rank * t.N0, t.M0 }, InitKind.MuP, t.M0, t.Rank * t.N0,
            $"btt core 0: {t.M1} blocks of {t.Rank * t.N0}x{t.M0}"),
        new ParameterSpec("cores.1", new[] { t.N0, t.N1, t.M1 * t.Rank }, InitKind.MuP, t.M1 * t.Rank, t.N1,
            $"btt core 1: {t.N0} blocks of {t.N1}x{t.M1 * t.Rank}"),
    };

    public override LearningRateScope? LearningRates(BoundBtt t) => new(t.Shape.In, Matrices: 2);

    // Core 0 maps each i1-block of m0 inputs to (α, j0) outputs; core 1 maps, for each j0, the (i1, α) entries,
    // which sit at stride n0 in core 0's output (i.e. read strided), to the n1 outputs j1.
    internal override int Lower(BoundBtt t, StructureLowering l, int input)
    {
        var (r, m0, m1, n0, n1) = (t.Rank, t.M0, t.M1, t.N0, t.N1);
        var c0 = l.MatMul(input, l.Parameter("cores.0"), m1, r * n0, m0, $"{l.Name}: core 0, {m1} blocks of {r * n0}x{m0}");
        var y = l.NewValue(n0 * n1);
        l.Add(new MatMulOp(c0, y, l.Parameter("cores.1"), n0, n1, m1 * r, Layout.Strided, Layout.Contiguous, 1f, false,
            $"{l.Name}: core 1, {n0} blocks of {n1}x{m1 * r}"));
        return y;
    }

    internal override DenseForm DenseOracle(BoundBtt t, Func<string, string> data) =>
        new($"btt {t.Shape.In} -> {t.Shape.Out}: Σ over the rank index of the two cores, entry by entry",
            $"{TypeNames.DenseMath}.BlockTensorTrain({data("cores.0")}, {data("cores.1")}, {t.M0}, {t.M1}, {t.N0}, {t.N1}, {t.Rank})");

    public override string Explain(BoundBtt t) => $"btt {t.Shape}, rank {t.Rank}: in = {t.M0}·{t.M1}, out = {t.N0}·{t.N1}, two cores";

    public override string Dump(BoundBtt t) => $"btt rank={t.Rank} in={t.M0}x{t.M1} out={t.N0}x{t.N1}";
}
