using System.Collections.Generic;
using StructMat.Compiler.IR;

namespace StructMat.Compiler.Emit;

/// <summary>What the CPU and GPU emitters both say about an op: the rows its kernel sees and what its layouts and flags mean.</summary>
internal static class OpComments
{
    /// <summary>The row count a kernel sees for an op: <c>batch</c>, times the op's sub-rows inside <c>kron</c>.</summary>
    public static string Rows(IrOp op) => op.SubRows == 1 ? "batch" : $"batch * {op.SubRows}";

    /// <summary>What the layouts and flags mean, so the comment says where the permutation went.</summary>
    public static string Suffix(Layout input, Layout output, float alpha, bool accumulate, int inGroupXor = 0)
    {
        var parts = new List<string>();
        if (input == Layout.Strided) parts.Add("input read strided (permutation folded)");
        if (inGroupXor != 0) parts.Add($"block g's input is block g XOR {inGroupXor} (block swap folded)");
        if (output == Layout.Strided) parts.Add("output written strided (permutation folded)");
        if (alpha != 1f) parts.Add("scaled by " + CSharp.Float(alpha));
        if (accumulate) parts.Add("accumulating");
        return parts.Count == 0 ? "" : "; " + string.Join(", ", parts);
    }
}
