using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using StructMat.Compiler.Semantics;

namespace StructMat.Compiler.Emit;

/// <summary>
/// The "structure explanation" at the top of a generated file: what each layer computes as a tree,
/// its parameters, and its cost against the dense layer of the same shape.
/// </summary>
internal static class ExplanationEmitter
{
    public static void Emit(SourceWriter w, LayerModel model)
    {
        var (i, o) = (model.Bound.Shape.In, model.Bound.Shape.Out);
        w.Comment($"{model.ClassName} : {i} -> {o}");
        w.Comment($"  y = W x{(model.Bound.HasBias ? " + bias" : "")}, where W is");
        foreach (var line in Tree(model.Bound.Body, "    ")) w.Comment(line);

        var denseParameters = (long)i * o + (model.Bound.HasBias ? o : 0);
        w.Comment($"  parameters: {CSharp.Count(model.ParameterCount)} ({CSharp.Count(model.TrainableParameterCount)} trainable); " +
                  $"dense: {CSharp.Count(denseParameters)} ({Percent(model.ParameterCount, denseParameters)})");
        foreach (var p in model.Ir.Parameters)
        {
            w.Comment($"    {p.Name} [{string.Join(", ", p.Shape)}]{(p.Trainable ? "" : " frozen")}: {p.Description}");
        }
        var denseFlops = (long)i * o;
        w.Comment($"  multiply-adds per row: {CSharp.Count(model.Optimized.FlopsPerRow)}; dense: {CSharp.Count(denseFlops)} " +
                  $"({Percent(model.Optimized.FlopsPerRow, denseFlops)})");
    }

    private static string Percent(long part, long whole) =>
        (100.0 * part / whole).ToString("0.##", CultureInfo.InvariantCulture) + " % of dense";

    private static IEnumerable<string> Tree(BoundExpression expression, string indent)
    {
        string Frozen(BoundPrimitive p) => p.Frozen ? "frozen " : "";
        switch (expression)
        {
            case BoundDense d:
                yield return $"{indent}{Frozen(d)}dense {d.Shape}";
                break;
            case BoundLowRank l:
                yield return $"{indent}{Frozen(l)}lowrank {l.Shape}, rank {l.Rank}: B·A{(l.ZeroInitB ? " (B starts at zero: a LoRA update)" : "")}";
                break;
            case BoundBlockDiagonal b:
                yield return $"{indent}{Frozen(b)}blockdiag {b.Shape}: {b.Blocks} blocks of {b.BlockOut}x{b.BlockIn}";
                break;
            case BoundMonarch m:
                yield return $"{indent}{Frozen(m)}monarch {m.Shape}: {m.K} blocks of {m.Q}x{m.P}, transpose ({m.R}, {m.L}), {m.L} blocks of {m.S}x{m.R}, transpose ({m.L}, {m.S})";
                break;
            case BoundDiagonal d:
                yield return $"{indent}{Frozen(d)}diag {d.Shape}";
                break;
            case BoundPermutation p:
                yield return $"{indent}perm {p.Shape}: {p.Permutation.ToString().ToLowerInvariant()}{(p.Permutation == PermutationKind.Random ? ", seed " + p.Seed : "")} (an index map)";
                break;
            case BoundHouseholder h:
                yield return $"{indent}{Frozen(h)}householder {h.Shape}: {h.Reflections} reflections H_1 … H_{h.Reflections}";
                break;
            case BoundButterfly b:
                yield return $"{indent}{Frozen(b)}butterfly {b.Shape}: {b.Factors} factors of {b.Shape.In / 2} 2x2 blocks, strides 1, 2, …, {b.Shape.In / 2}";
                break;
            case BoundBlockSparse b:
                yield return $"{indent}{Frozen(b)}blocksparse {b.Shape}: flat block butterfly, {b.BlocksPerSide} blocks of {b.Block}x{b.Block} per side, {b.Distances.Count()} block diagonals";
                break;
            case BoundBtt t:
                yield return $"{indent}{Frozen(t)}btt {t.Shape}, rank {t.Rank}: in = {t.M0}·{t.M1}, out = {t.N0}·{t.N1}, two cores";
                break;
            case BoundSum s:
                yield return $"{indent}sum of {s.Terms.Count} terms";
                foreach (var line in s.Terms.SelectMany(t => Tree(t, indent + "  "))) yield return line;
                break;
            case BoundProduct p:
                var factors = Lowering.ExpressionPaths.Factors(p);
                yield return $"{indent}product of {factors.Count} factors (the rightmost applies first)";
                foreach (var line in factors.SelectMany(f => Tree(f, indent + "  "))) yield return line;
                break;
            case BoundKron k:
                yield return $"{indent}kron {k.Shape}: Kronecker product, applied by the vec-trick";
                foreach (var line in Tree(k.Left, indent + "  ").Concat(Tree(k.Right, indent + "  "))) yield return line;
                break;
            case BoundScale c:
                yield return $"{indent}{CSharp.Double(c.Factor)} times";
                foreach (var line in Tree(c.Operand, indent + "  ")) yield return line;
                break;
        }
    }
}
