using System.Collections.Generic;
using System.Linq;
using StructMat.Compiler.Semantics;

namespace StructMat.Compiler.Structures;

/// <summary>Every structure of the language, in the order messages list them. A new structure is added here.</summary>
public static class StructureRegistry
{
    public static readonly IReadOnlyList<Structure> All = new Structure[]
    {
        Dense.Instance, LowRank.Instance, BlockDiagonal.Instance, Monarch.Instance, Butterfly.Instance, BlockSparse.Instance,
        Householder.Instance, Oft.Instance, Boft.Instance, Btt.Instance, Diagonal.Instance, Permutation.Instance,
    };

    private static readonly Dictionary<string, Structure> ByName = All.ToDictionary(s => s.Name);

    public static Structure? Find(string name) => ByName.TryGetValue(name, out var structure) ? structure : null;

    /// <summary>The spec of a structure or of <c>kron</c> / <c>hadamard</c> (the core's structure-like forms with arguments).</summary>
    public static PrimitiveSpec? Spec(string name) =>
        Find(name)?.Spec ?? name switch
        {
            "kron" => CoreForms.Kron,
            "hadamard" => CoreForms.Hadamard,
            "normalize" => CoreForms.Normalize,
            _ => null,
        };

    /// <summary>For "unknown name" messages.</summary>
    public static string Names => string.Join(", ", All.Select(s => s.Name).Append(CoreForms.Kron.Name).Append(CoreForms.Hadamard.Name).Append(CoreForms.Normalize.Name));
}
