using System.Collections.Generic;
using StructMat.Compiler.Analysis;
using StructMat.Compiler.IR;

namespace StructMat.Compiler.Passes;

/// <summary>Folds <c>u = c · t</c> into the op that alone produces <c>t</c> (its alpha), when nothing else reads <c>t</c>.</summary>
public static class FoldScales
{
    public static IrProgram Run(IrProgram program) => RewriteToFixpoint.Run(program, (ops, du, k) => Fold(program, ops, du, k));

    private static bool Fold(IrProgram program, List<IrOp> ops, DefUse du, int k)
    {
        if (ops[k] is not ScaleOp { Accumulate: false } scale || scale.Input == program.Input) return false;
        var writers = du.Writers(scale.Input);
        if (writers.Count != 1 || du.Readers(scale.Input).Count != 1 || writers[0] >= k
            || !ops[writers[0]].CanRetarget(scale.Alpha) || ops[writers[0]].Accumulates)
        {
            return false;
        }
        ops[writers[0]] = ops[writers[0]].Retarget(scale.Output, scale.Alpha, accumulate: false);
        ops.RemoveAt(k);
        return true;
    }
}
