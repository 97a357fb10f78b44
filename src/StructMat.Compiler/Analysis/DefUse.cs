using System.Collections.Generic;
using System.Linq;
using StructMat.Compiler.IR;

namespace StructMat.Compiler.Analysis;

/// <summary>Which ops write and which read each value (indices into the op list).</summary>
public sealed class DefUse
{
    private readonly Dictionary<int, List<int>> _writers = new();
    private readonly Dictionary<int, List<int>> _readers = new();

    public DefUse(IReadOnlyList<IrOp> ops)
    {
        for (var k = 0; k < ops.Count; k++)
        {
            if (ops[k].Writes is { } written) Add(_writers, written, k);
            foreach (var read in ops[k].Reads) Add(_readers, read, k);
        }
    }

    public IReadOnlyList<int> Writers(int value) => _writers.TryGetValue(value, out var list) ? list : new List<int>();

    /// <summary>Readers other than the value's own accumulating writers.</summary>
    public IReadOnlyList<int> Readers(int value) =>
        _readers.TryGetValue(value, out var list) ? list.Where(k => !Writers(value).Contains(k)).ToList() : new List<int>();

    private static void Add(Dictionary<int, List<int>> table, int key, int op)
    {
        if (!table.TryGetValue(key, out var list)) table[key] = list = new List<int>();
        if (!list.Contains(op)) list.Add(op);
    }
}
