using System.Collections.Generic;
using System.Linq;
using StructMat.Compiler.Analysis;
using StructMat.Compiler.IR;

namespace StructMat.Compiler.Passes;

/// <summary>
/// Turns <c>c = a + b</c> into "the producers of a and b write c directly, the first overwriting and
/// the rest accumulating", so a sum of structures needs no temporaries and no add kernel.
/// </summary>
public static class FuseAccumulation
{
    public static IrProgram Run(IrProgram program) => RewriteToFixpoint.Run(program, (ops, du, k) => Fuse(program, ops, du, k));

    private static bool Fuse(IrProgram program, List<IrOp> ops, DefUse du, int k)
    {
        if (ops[k] is not AddOp add || add.Left == add.Right) return false;
        var producers = du.Writers(add.Left).Concat(du.Writers(add.Right)).OrderBy(i => i).ToList();
        var fusable = new[] { add.Left, add.Right }.All(v => v != program.Input && du.Writers(v).Count > 0 && du.Readers(v).All(r => r == k))
            && producers.All(i => i < k && ops[i].CanRetarget(1f));
        if (!fusable) return false;
        for (var n = 0; n < producers.Count; n++)
        {
            ops[producers[n]] = ops[producers[n]].Retarget(add.Output, 1f, accumulate: n > 0);
        }
        ops.RemoveAt(k);
        return true;
    }
}
