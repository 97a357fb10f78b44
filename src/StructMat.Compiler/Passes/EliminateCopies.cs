using System.Collections.Generic;
using System.Linq;
using StructMat.Compiler.Analysis;
using StructMat.Compiler.IR;

namespace StructMat.Compiler.Passes;

/// <summary>
/// Removes <c>u = 1 · t</c> when it is u's only writer: readers of u read t instead. Autodiff emits such
/// copies where a gradient fans out (the backward of a sum); this keeps the backward free of them.
/// </summary>
public static class EliminateCopies
{
    public static IrProgram Run(IrProgram program, int[] externals) => RewriteToFixpoint.Run(program, (ops, du, k) => Eliminate(externals, ops, du, k));

    private static bool Eliminate(int[] externals, List<IrOp> ops, DefUse du, int k)
    {
        if (ops[k] is not ScaleOp { Alpha: 1f, Accumulate: false } copy || externals.Contains(copy.Output)) return false;
        if (du.Writers(copy.Output).Count != 1) return false;
        // The source must not be overwritten while the copy's readers still need it.
        var lastReader = du.Readers(copy.Output).DefaultIfEmpty(k).Max();
        if (du.Writers(copy.Input).Any(w => w > k && w <= lastReader)) return false;
        for (var n = k + 1; n < ops.Count; n++)
        {
            ops[n] = ops[n].RenameOperands(v => v == copy.Output ? copy.Input : v);
        }
        ops.RemoveAt(k);
        return true;
    }
}
