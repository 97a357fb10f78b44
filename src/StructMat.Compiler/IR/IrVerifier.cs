using System;
using System.Collections.Generic;
using System.Linq;

namespace StructMat.Compiler.IR;

/// <summary>
/// Checks the invariants every pass must keep: values are written before they are read, the first write of a value
/// overwrites (later ones may accumulate), and every op keeps its own shape rules (<see cref="IrOp.Violations"/>:
/// widths match its arithmetic, parameter slices fit their tensors, gradients go to trainable parameters). Run after
/// every pass; a failure is a compiler bug.
/// </summary>
public static class IrVerifier
{
    public static void Verify(IrLayer layer, IrProgram program, string stage, IEnumerable<int> externals)
    {
        var defined = new HashSet<int>(externals);
        var widths = program.Values.ToDictionary(v => v.Id, v => v.Width);
        int Width(int id) => widths.TryGetValue(id, out var width) ? width : throw Fail(stage, $"value %{id} is not in the value table");
        var parameters = new HashSet<int>(layer.Parameters.Select(p => p.Id));

        for (var k = 0; k < program.Ops.Count; k++)
        {
            var op = program.Ops[k];
            foreach (var read in op.Reads)
            {
                if (!defined.Contains(read)) throw Fail(stage, $"op {k} ({op.GetType().Name}) reads %{read} before it is written");
            }
            foreach (var slice in new[] { op.WeightSlice, op.GradientSlice }.OfType<ParameterSlice>())
            {
                if (!parameters.Contains(slice.Parameter)) throw Fail(stage, $"op {k} ({op.GetType().Name}) uses parameter {slice.Parameter}, which the layer does not have");
            }
            if (op.SubRows < 1) throw Fail(stage, $"op {k} ({op.GetType().Name}): sub-rows {op.SubRows}");
            foreach (var violation in op.Violations(layer, Width))
            {
                throw Fail(stage, $"op {k} ({op.GetType().Name}): {violation}");
            }
            if (op.Writes is { } written)
            {
                Width(written);
                if (!defined.Contains(written) && op.Accumulates) throw Fail(stage, $"op {k} accumulates into %{written} before anything wrote it");
                defined.Add(written);
            }
        }
        if (!defined.Contains(program.Output)) throw Fail(stage, $"the output %{program.Output} is never written");
    }

    private static InvalidOperationException Fail(string stage, string message) =>
        new($"IR verification failed after {stage}: {message}");
}
