using System;
using System.Collections.Generic;
using System.Linq;
using StructMat.Compiler.Analysis;
using StructMat.Compiler.IR;

namespace StructMat.Compiler.Passes;

/// <summary>
/// The loop every peephole pass shares: try the rule at each op in order; after a rewrite, recompute
/// def-use and start over; stop when the rule applies nowhere. Programs are small, so clarity wins.
/// </summary>
internal static class RewriteToFixpoint
{
    /// <param name="rule">Tries to rewrite at op <c>k</c>, editing the list in place; true if it did.</param>
    public static IrProgram Run(IrProgram program, Func<List<IrOp>, DefUse, int, bool> rule)
    {
        while (true)
        {
            var ops = program.Ops.ToList();
            var defUse = new DefUse(ops);
            var changed = false;
            for (var k = 0; k < ops.Count && !changed; k++) changed = rule(ops, defUse, k);
            if (!changed) return program;
            program = program with { Ops = ops.ToEquatableArray() };
        }
    }
}
