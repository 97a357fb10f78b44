using System.Collections.Generic;
using System.Linq;
using StructMat.Compiler.IR;

namespace StructMat.Compiler.Passes;

/// <summary>Drops values no op touches any more (left behind by folding) so dumps and buffer plans show only live ones.</summary>
public static class EliminateDeadValues
{
    public static IrProgram Run(IrProgram program, IEnumerable<int> externals)
    {
        var used = new HashSet<int>(externals);
        foreach (var op in program.Ops)
        {
            used.UnionWith(op.Reads);
            if (op.Writes is { } w) used.Add(w);
        }
        return program with { Values = program.Values.Where(v => used.Contains(v.Id)).ToEquatableArray() };
    }
}
