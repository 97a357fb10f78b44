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
    public static IrProgram Run(IrProgram program)
    {
        var changed = true;
        while (changed)
        {
            changed = false;
            var ops = program.Ops.ToList();
            var du = new DefUse(ops);
            for (var k = 0; k < ops.Count && !changed; k++)
            {
                if (ops[k] is not AddOp add || add.Left == add.Right) continue;
                var producers = du.Writers(add.Left).Concat(du.Writers(add.Right)).OrderBy(i => i).ToList();
                var fusable = new[] { add.Left, add.Right }.All(v =>
                        v != program.Input && du.Writers(v).Count > 0 && du.Readers(v).All(r => r == k))
                    && producers.All(i => i < k && Retarget.CanRetarget(ops[i], 1f));
                if (!fusable) continue;
                for (var n = 0; n < producers.Count; n++)
                {
                    ops[producers[n]] = Retarget.To(ops[producers[n]], add.Output, 1f, accumulate: n > 0);
                }
                ops.RemoveAt(k);
                changed = true;
            }
            program = program with { Ops = ops.ToEquatableArray() };
        }
        return program;
    }
}
