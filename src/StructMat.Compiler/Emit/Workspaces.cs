using System.Collections.Generic;
using System.Linq;
using StructMat.Compiler.Analysis;
using StructMat.Compiler.IR;

namespace StructMat.Compiler.Emit;

/// <summary>The workspace slots and intermediates a program's body opens with, on the CPU (spans) and the device (views) alike.</summary>
internal static class Workspaces
{
    /// <summary>
    /// Takes each workspace slot once, at the widest value the buffer plan puts in it, and slices every
    /// intermediate out of its slot. (Asking per value could grow a slot, and so free its old buffer, while
    /// an earlier value still points into it.)
    /// </summary>
    public static void Emit(SourceWriter w, IrProgram program, BufferPlan plan, Dictionary<int, string> names,
        string viewType, System.Func<int, string, string> getSlot, string slice)
    {
        var values = program.Values.Where(v => !names.ContainsKey(v.Id)).ToList();
        if (values.Count == 0) return;
        w.Comment("Workspace slots for the intermediates (the buffer plan's):");
        foreach (var slot in values.Select(v => plan.Slot(v.Id)).Distinct().OrderBy(s => s))
        {
            w.Line($"{viewType} slot{slot} = {getSlot(slot, "batch * " + plan.SlotWidths[slot])};");
        }
        foreach (var value in values)
        {
            names[value.Id] = value.Name;
            w.Line($"var {value.Name} = slot{plan.Slot(value.Id)}.{slice}(0, batch * {value.Width});");
        }
    }
}
