using System.Collections.Generic;
using System.Linq;
using StructMat.Compiler.IR;

namespace StructMat.Compiler.Analysis;

/// <summary>
/// Assigns every temporary value a workspace slot; values whose live ranges do not overlap share one.
/// A value is live from the first op that touches it to the last; ranges that merely touch (an op
/// reading one and writing the other) never share, so no kernel runs in place.
/// </summary>
public sealed record BufferPlan(EquatableArray<int> SlotOfValue, EquatableArray<int> SlotWidths)
{
    public int Slot(int value) => SlotOfValue[value];

    public static BufferPlan Create(IrProgram program, IEnumerable<int> externals)
    {
        var external = new HashSet<int>(externals);
        var first = new Dictionary<int, int>();
        var last = new Dictionary<int, int>();
        for (var k = 0; k < program.Ops.Count; k++)
        {
            var touched = program.Ops[k].Reads.ToList();
            if (program.Ops[k].Writes is { } w) touched.Add(w);
            foreach (var v in touched.Where(v => !external.Contains(v)))
            {
                if (!first.ContainsKey(v)) first[v] = k;
                last[v] = k;
            }
        }

        var slotOf = Enumerable.Repeat(-1, program.Values.Count == 0 ? 0 : program.Values.Max(v => v.Id) + 1).ToArray();
        var slotEnd = new List<int>();
        var slotWidth = new List<int>();
        foreach (var v in first.Keys.OrderBy(v => first[v]).ThenBy(v => v))
        {
            var slot = Enumerable.Range(0, slotEnd.Count).Where(s => slotEnd[s] < first[v]).DefaultIfEmpty(-1).First();
            if (slot < 0)
            {
                slot = slotEnd.Count;
                slotEnd.Add(0);
                slotWidth.Add(0);
            }
            slotOf[v] = slot;
            slotEnd[slot] = last[v];
            slotWidth[slot] = System.Math.Max(slotWidth[slot], program.Value(v).Width);
        }
        return new BufferPlan(slotOf.ToEquatableArray(), slotWidth.ToEquatableArray());
    }
}
