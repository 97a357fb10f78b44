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
        switch (expression)
        {
            case BoundPrimitive p:
                // A structure without parameters (perm) is frozen by nature; saying so would only add noise.
                var frozen = p.Frozen && p.Structure.Parameters(p).Count > 0 ? "frozen " : "";
                yield return indent + frozen + p.Structure.Explain(p);
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
            case BoundNormalize n:
                yield return $"{indent}normalize {n.Shape}: each row to unit L2 norm, the norms from the weights (no dense copy)";
                foreach (var line in Tree(n.Operand, indent + "  ")) yield return line;
                break;
            case BoundHadamard h:
                yield return $"{indent}hadamard {h.Shape}: elementwise product, applied as one rank {h.Left.Rank}·{h.Right.Rank} product (face-splitting)";
                foreach (var line in Tree(h.Left, indent + "  ").Concat(Tree(h.Right, indent + "  "))) yield return line;
                break;
            case BoundScale c:
                yield return $"{indent}{CSharp.Double(c.Factor)} times";
                foreach (var line in Tree(c.Operand, indent + "  ")) yield return line;
                break;
            default:
                throw new System.InvalidOperationException($"No explanation for {expression.GetType().Name}");
        }
    }
}
