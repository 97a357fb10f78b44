using System.Collections.Generic;
using System.Linq;
using StructMat.Compiler.Diagnostics;
using StructMat.Compiler.Emit;
using StructMat.Compiler.IR;
using StructMat.Compiler.Lowering;
using StructMat.Compiler.Passes;
using StructMat.Compiler.Semantics;
using StructMat.Compiler.Syntax;

namespace StructMat.Compiler.Inspection;

// A read-only view of what the compiler makes of each layer, for tools (the smx CLI's explain and bench).
// Every record must be immutable; they are built from the bound tree and the optimised IR, never re-derived.

/// <summary>One node of a layer's expression: its depth in the tree, what it is, and the matrix it stands for.</summary>
public sealed record NodeInfo(int Depth, string Kind, MatrixShape Shape, string Text);

/// <summary>One parameter tensor, as saved (<c>SaveSafeTensors</c> names) and initialised.</summary>
public sealed record ParameterInfo(string Name, EquatableArray<int> Shape, bool Trainable, InitKind Init, string Description, string? PeftKey)
{
    public long Length => Shape.Aggregate(1L, (a, d) => a * d);
}

/// <summary>A leaf structure of the layer, in the order the expression lists it: what the SVG draws as a block.</summary>
public sealed record FactorInfo(string Kind, MatrixShape Shape, bool Frozen, string Text);

/// <summary>Everything a tool reports about one layer.</summary>
public sealed record LayerInfo(
    string Namespace,
    string Name,
    MatrixShape Shape,
    bool HasBias,
    string Explanation,
    EquatableArray<NodeInfo> Nodes,
    EquatableArray<FactorInfo> Factors,
    EquatableArray<ParameterInfo> Parameters,
    long FlopsPerRow,
    long ForwardWorkspaceFloatsPerRow,
    long BackwardWorkspaceFloatsPerRow)
{
    public long ParameterCount => Parameters.Sum(p => p.Length);

    public long TrainableParameterCount => Parameters.Where(p => p.Trainable).Sum(p => p.Length);

    /// <summary>The dense layer of the same shape: in·out weights, plus the bias when this layer has one.</summary>
    public long DenseParameterCount => (long)Shape.In * Shape.Out + (HasBias ? Shape.Out : 0);

    /// <summary>A dense layer's forward multiply-adds per row: in·out.</summary>
    public long DenseFlopsPerRow => (long)Shape.In * Shape.Out;
}

/// <summary>What inspecting a file found: its diagnostics (exactly <see cref="SmxCompiler.Compile"/>'s) and the layers that compile.</summary>
public sealed record FileInspection(EquatableArray<Diagnostic> Diagnostics, EquatableArray<LayerInfo> Layers)
{
    public bool HasErrors => Diagnostics.Any(d => d.IsError);
}

/// <summary>
/// Inspects a .smx file: compiles it with <see cref="SmxCompiler"/> (so diagnostics and the set of layers that generate
/// code are the build's), then describes each generated layer from the same stages the emitter uses.
/// </summary>
public static class LayerInspector
{
    public static FileInspection Inspect(string text, string sourceName)
    {
        var compiled = SmxCompiler.Compile(text, sourceName);
        var generated = new HashSet<string>(compiled.Classes.Select(c => c.Name));
        if (generated.Count == 0) return new FileInspection(compiled.Diagnostics, EquatableArray<LayerInfo>.Empty);

        // Same stack as the compiler: binding and lowering recurse with the expression's depth.
        List<LayerInfo>? layers = null;
        var thread = new System.Threading.Thread(() => layers = Describe(text, generated), 64 * 1024 * 1024);
        thread.Start();
        thread.Join();
        return new FileInspection(compiled.Diagnostics, layers!.ToEquatableArray());
    }

    private static List<LayerInfo> Describe(string text, HashSet<string> generated)
    {
        var (unit, _) = SmxParser.Parse(text);
        var (file, _) = Binder.Bind(unit);
        var layers = new List<LayerInfo>();
        foreach (var layer in file.Layers.Where(l => generated.Contains(l.Name)))
        {
            var model = new LayerModel(file.Namespace, layer, PassPipeline.Run(LowerLayer.Run(layer)));
            var writer = new SourceWriter();
            ExplanationEmitter.Emit(writer, model);
            var explanation = string.Join("\n", writer.ToString().Split('\n').Where(l => l.Length > 0).Select(l => l.StartsWith("// ") ? l.Substring(3) : l));
            var nodes = new List<NodeInfo>();
            var factors = new List<FactorInfo>();
            Walk(layer.Body, 0, nodes, factors);
            var parameters = model.Ir.Parameters.Select(p => new ParameterInfo(p.Name, p.Shape, p.Trainable, p.Init, p.Description, p.PeftKey));
            layers.Add(new LayerInfo(file.Namespace, layer.Name, layer.Shape, layer.HasBias, explanation, nodes.ToEquatableArray(),
                factors.ToEquatableArray(), parameters.ToEquatableArray(), model.Optimized.FlopsPerRow,
                model.Optimized.ForwardPlan.SlotWidths.Sum(w => (long)w), model.Optimized.BackwardPlan.SlotWidths.Sum(w => (long)w)));
        }
        return layers;
    }

    private static void Walk(BoundExpression expression, int depth, List<NodeInfo> nodes, List<FactorInfo> factors)
    {
        void Children(string kind, string text, IEnumerable<BoundExpression> children)
        {
            nodes.Add(new NodeInfo(depth, kind, expression.Shape, text));
            foreach (var child in children) Walk(child, depth + 1, nodes, factors);
        }

        switch (expression)
        {
            case BoundPrimitive p:
                var explained = p.Structure.Explain(p);
                nodes.Add(new NodeInfo(depth, p.Kind, p.Shape, explained));
                factors.Add(new FactorInfo(p.Kind, p.Shape, p.Frozen && p.Structure.Parameters(p).Count > 0, explained));
                break;
            case BoundSum s:
                Children("sum", $"sum of {s.Terms.Count} terms", s.Terms);
                break;
            case BoundProduct product:
                var list = ExpressionPaths.Factors(product);
                Children("product", $"product of {list.Count} factors (the rightmost applies first)", list);
                break;
            case BoundKron k:
                Children("kron", "Kronecker product", new[] { k.Left, k.Right });
                break;
            case BoundNormalize n:
                Children("normalize", "each row to unit L2 norm", new[] { n.Operand });
                break;
            case BoundHadamard h:
                Children("hadamard", "elementwise product of two low-ranks", new BoundExpression[] { h.Left, h.Right });
                break;
            case BoundScale c:
                Children("scale", CSharp.Double(c.Factor) + " times", new[] { c.Operand });
                break;
            default:
                throw new System.InvalidOperationException($"No inspection for {expression.GetType().Name}");
        }
    }
}
