using System.Collections.Generic;
using System.Linq;

namespace StructMat.Compiler.Semantics;

public enum ArgumentKind
{
    /// <summary>A positive integer (<c>rank: 8</c>).</summary>
    Integer,

    /// <summary>One of a fixed set of words (<c>pattern: butterfly</c>, <c>perm(reverse)</c>).</summary>
    Option,

    /// <summary>A structure (the factors of <c>kron(A, B)</c>).</summary>
    Matrix,
}

public sealed record ArgumentSpec(string Name, ArgumentKind Kind, bool Required, string Example, params string[] Options);

/// <summary>A structure of the language as written: its name, its arguments, and whether it is square-only.</summary>
public sealed record PrimitiveSpec(string Name, bool SquareOnly, params ArgumentSpec[] Arguments)
{
    public string Accepts => Arguments.Length == 0
        ? "only an explicit shape (in -> out)"
        : "an explicit shape (in -> out) and " + string.Join(", ", Arguments.Select(a => "'" + a.Name + "'"));

    public ArgumentSpec? Find(string name) => Arguments.FirstOrDefault(a => a.Name == name);
}

/// <summary>The forms of the core algebra that look like structures: <c>kron(A, B)</c> and the word <c>bias</c>.</summary>
public static class CoreForms
{
    public static readonly PrimitiveSpec Kron = new("kron", false,
        new ArgumentSpec("left", ArgumentKind.Matrix, true, "kron(dense(32 -> 32), dense(32 -> 32))"),
        new ArgumentSpec("right", ArgumentKind.Matrix, true, "kron(dense(32 -> 32), dense(32 -> 32))"));

    /// <summary><c>hadamard(A, B)</c>: the elementwise product of two equally shaped matrices (LoHa's form).</summary>
    public static readonly PrimitiveSpec Hadamard = new("hadamard", false,
        new ArgumentSpec("left", ArgumentKind.Matrix, true, "hadamard(lowrank(rank: 4), lowrank(rank: 4))"),
        new ArgumentSpec("right", ArgumentKind.Matrix, true, "hadamard(lowrank(rank: 4), lowrank(rank: 4))"));

    /// <summary><c>normalize(A)</c>: A with each row scaled to unit L2 norm (DoRA's and weight normalisation's direction).</summary>
    public static readonly PrimitiveSpec Normalize = new("normalize", false,
        new ArgumentSpec("operand", ArgumentKind.Matrix, true, "normalize(frozen dense + 2.0 * lowrank(rank: 8))"));

    /// <summary>Whether <paramref name="spec"/> is one of the core's forms over matrices (kron, hadamard, normalize), whose shape is their operands'.</summary>
    public static bool IsCombinator(PrimitiveSpec spec) => spec == Kron || spec == Hadamard || spec == Normalize;

    /// <summary>The word that adds a trainable bias at the top level of a layer.</summary>
    public const string Bias = "bias";
}
