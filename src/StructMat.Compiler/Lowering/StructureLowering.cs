using System;
using System.Collections.Generic;
using StructMat.Compiler.IR;

namespace StructMat.Compiler.Lowering;

/// <summary>
/// What a structure's lowering (<see cref="Structures.Structure.Lower"/>) builds with: its parameters (already
/// created from its table, by name), fresh values, and ops. Every value and op is scaled by the current sub-rows
/// (inside <c>kron</c>), so a structure lowers the same wherever it stands.
/// </summary>
public sealed class StructureLowering
{
    private readonly LowerLayer _owner;
    private readonly IReadOnlyDictionary<string, int> _parameters;

    internal StructureLowering(LowerLayer owner, string name, IReadOnlyDictionary<string, int> parameters)
    {
        _owner = owner;
        Name = name;
        _parameters = parameters;
    }

    /// <summary>How comments name the structure: <c>monarch</c>, or with its path, <c>terms.1 (lowrank)</c>.</summary>
    public string Name { get; }

    /// <summary>The id of the structure's parameter called <paramref name="name"/> in its table.</summary>
    public int Parameter(string name) => _parameters.TryGetValue(name, out var id)
        ? id
        : throw new InvalidOperationException($"{Name} has no parameter '{name}' in its table");

    public int NewValue(int width, string name = "t") => _owner.NewValue(width, name);

    public void Add(IrOp op) => _owner.Add(op);

    /// <summary>A contiguous block matmul into a fresh value.</summary>
    public int MatMul(int input, int weight, int groups, int blockOut, int blockIn, string comment, int weightOffset = 0) =>
        _owner.MatMul(input, weight, groups, blockOut, blockIn, comment, weightOffset);

    /// <summary>A row transpose of [rows, cols] into a fresh value.</summary>
    public int Permute(int input, int rows, int cols, string comment) => _owner.Permute(input, rows, cols, comment);

    /// <summary>Until disposed, each row is processed as <paramref name="factor"/> times as many sub-rows.</summary>
    public IDisposable SubRowsTimes(int factor) => _owner.SubRowsTimes(factor);
}
