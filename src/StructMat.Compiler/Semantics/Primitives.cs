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

/// <summary>The structures of the language: their arguments, and whether they are square-only.</summary>
public sealed record PrimitiveSpec(string Name, bool SquareOnly, params ArgumentSpec[] Arguments)
{
    public string Accepts => Arguments.Length == 0
        ? "only an explicit shape (in -> out)"
        : "an explicit shape (in -> out) and " + string.Join(", ", Arguments.Select(a => "'" + a.Name + "'"));

    public ArgumentSpec? Find(string name) => Arguments.FirstOrDefault(a => a.Name == name);
}

public static class Primitives
{
    public static readonly PrimitiveSpec Dense = new("dense", SquareOnly: false,
        new ArgumentSpec("seed", ArgumentKind.Integer, false, "frozen dense(seed: 7)"));

    public static readonly PrimitiveSpec LowRank = new("lowrank", false,
        new ArgumentSpec("rank", ArgumentKind.Integer, true, "lowrank(rank: 8)"));

    public static readonly PrimitiveSpec BlockDiagonal = new("blockdiag", false,
        new ArgumentSpec("blocks", ArgumentKind.Integer, true, "blockdiag(blocks: 4)"));

    public static readonly PrimitiveSpec Monarch = new("monarch", false,
        new ArgumentSpec("blocks", ArgumentKind.Integer, true, "monarch(blocks: 32)"));

    public static readonly PrimitiveSpec Butterfly = new("butterfly", true);

    public static readonly PrimitiveSpec BlockSparse = new("blocksparse", false,
        new ArgumentSpec("block", ArgumentKind.Integer, true, "blocksparse(block: 32, pattern: butterfly)"),
        new ArgumentSpec("pattern", ArgumentKind.Option, true, "blocksparse(block: 32, pattern: butterfly)", "butterfly"));

    public static readonly PrimitiveSpec Kron = new("kron", false,
        new ArgumentSpec("left", ArgumentKind.Matrix, true, "kron(dense(32 -> 32), dense(32 -> 32))"),
        new ArgumentSpec("right", ArgumentKind.Matrix, true, "kron(dense(32 -> 32), dense(32 -> 32))"));

    public static readonly PrimitiveSpec Householder = new("householder", true,
        new ArgumentSpec("reflections", ArgumentKind.Integer, true, "householder(reflections: 8)"));

    public static readonly PrimitiveSpec Btt = new("btt", false,
        new ArgumentSpec("rank", ArgumentKind.Integer, true, "btt(rank: 4)"),
        new ArgumentSpec("cores", ArgumentKind.Integer, false, "btt(rank: 4, cores: 2)"));

    public static readonly PrimitiveSpec Diagonal = new("diag", true);

    public static readonly PrimitiveSpec Permutation = new("perm", true,
        new ArgumentSpec("kind", ArgumentKind.Option, true, "perm(reverse)", "reverse", "bitreversal", "shuffle", "random"),
        new ArgumentSpec("seed", ArgumentKind.Integer, false, "perm(random, seed: 7)"));

    public static readonly IReadOnlyDictionary<string, PrimitiveSpec> ByName = new[]
    {
        Dense, LowRank, BlockDiagonal, Monarch, Butterfly, BlockSparse, Kron, Householder, Btt, Diagonal, Permutation,
    }.ToDictionary(p => p.Name);

    /// <summary>For "unknown name" messages.</summary>
    public static string Names => string.Join(", ", ByName.Keys);

    /// <summary>The word that adds a trainable bias at the top level of a layer.</summary>
    public const string Bias = "bias";
}
