using System.Text;
using StructMat.Compiler.Emit;

namespace StructMat.Compiler.Semantics;

/// <summary>A stable text form of the bound tree: every node with its shape (stage dump "bound").</summary>
public static class BoundDumper
{
    public static string Dump(BoundFile file)
    {
        var text = new StringBuilder();
        text.Append("namespace ").Append(file.Namespace).Append('\n');
        foreach (var layer in file.Layers)
        {
            text.Append("layer ").Append(layer.Name).Append(" : ").Append(layer.Shape).Append(layer.HasBias ? " + bias" : "").Append('\n');
            Node(text, layer.Body, "  ");
        }
        return text.ToString();
    }

    private static void Node(StringBuilder text, BoundExpression expression, string indent)
    {
        text.Append(indent).Append(expression switch
        {
            BoundPrimitive p => p.Structure.Dump(p),
            BoundSum => "sum",
            BoundProduct => "product",
            BoundKron => "kron",
            BoundHadamard h => h.ZeroInit ? "hadamard zero-init-right-A" : "hadamard",
            BoundNormalize => "normalize",
            BoundScale s => "scale " + CSharp.Double(s.Factor),
            _ => throw new System.InvalidOperationException($"No dump for {expression.GetType().Name}"),
        });
        text.Append(" : ").Append(expression.Shape);
        if (expression is BoundPrimitive { Frozen: true }) text.Append(" frozen");
        text.Append('\n');
        switch (expression)
        {
            case BoundSum s:
                foreach (var t in s.Terms) Node(text, t, indent + "  ");
                break;
            case BoundProduct p:
                Node(text, p.Left, indent + "  ");
                Node(text, p.Right, indent + "  ");
                break;
            case BoundKron k:
                Node(text, k.Left, indent + "  ");
                Node(text, k.Right, indent + "  ");
                break;
            case BoundHadamard h:
                Node(text, h.Left, indent + "  ");
                Node(text, h.Right, indent + "  ");
                break;
            case BoundNormalize n:
                Node(text, n.Operand, indent + "  ");
                break;
            case BoundScale s:
                Node(text, s.Operand, indent + "  ");
                break;
        }
    }
}
