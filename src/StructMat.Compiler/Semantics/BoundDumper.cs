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
        text.Append(indent);
        switch (expression)
        {
            case BoundLowRank l:
                text.Append($"lowrank rank={l.Rank}{(l.ZeroInitB ? " zero-init-B" : "")}");
                break;
            case BoundBlockDiagonal b:
                text.Append($"blockdiag blocks={b.Blocks}");
                break;
            case BoundMonarch m:
                text.Append($"monarch blocks={m.Blocks} blkdiag1=[{m.K}, {m.Q}, {m.P}] blkdiag2=[{m.L}, {m.S}, {m.R}]");
                break;
            case BoundPermutation p:
                text.Append($"perm {p.Permutation.ToString().ToLowerInvariant()}{(p.Permutation == PermutationKind.Random ? " seed=" + p.Seed : "")}");
                break;
            case BoundBtt t:
                text.Append($"btt rank={t.Rank} in={t.M0}x{t.M1} out={t.N0}x{t.N1}");
                break;
            case BoundHouseholder h:
                text.Append($"householder reflections={h.Reflections}");
                break;
            case BoundPrimitive p:
                text.Append(p.Kind);
                break;
            case BoundSum:
                text.Append("sum");
                break;
            case BoundProduct:
                text.Append("product");
                break;
            case BoundKron:
                text.Append("kron");
                break;
            case BoundScale s:
                text.Append("scale ").Append(CSharp.Double(s.Factor));
                break;
        }
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
            case BoundScale s:
                Node(text, s.Operand, indent + "  ");
                break;
        }
    }
}
