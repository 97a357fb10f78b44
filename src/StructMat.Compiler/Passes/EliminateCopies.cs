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
    public static IrProgram Run(IrProgram program, int[] externals)
    {
        var changed = true;
        while (changed)
        {
            changed = false;
            var ops = program.Ops.ToList();
            var du = new DefUse(ops);
            for (var k = 0; k < ops.Count && !changed; k++)
            {
                if (ops[k] is not ScaleOp { Alpha: 1f, Accumulate: false } copy || externals.Contains(copy.Output)) continue;
                if (du.Writers(copy.Output).Count != 1) continue;
                // The source must not be overwritten while the copy's readers still need it.
                var lastReader = du.Readers(copy.Output).DefaultIfEmpty(k).Max();
                if (du.Writers(copy.Input).Any(w => w > k && w <= lastReader)) continue;
                for (var n = k + 1; n < ops.Count; n++)
                {
                    ops[n] = Rename.Reads(ops[n], copy.Output, copy.Input);
                }
                ops.RemoveAt(k);
                changed = true;
            }
            program = program with { Ops = ops.ToEquatableArray() };
        }
        return program;
    }
}
