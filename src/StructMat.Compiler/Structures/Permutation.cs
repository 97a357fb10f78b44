using System;
using System.Collections.Generic;
using StructMat.Compiler.Diagnostics;
using StructMat.Compiler.Emit;
using StructMat.Compiler.IR;
using StructMat.Compiler.Lowering;
using StructMat.Compiler.Semantics;

namespace StructMat.Compiler.Structures;

/// <summary>The permutations <c>perm(kind)</c> offers; each is an index map, never a matrix.</summary>
public enum PermutationKind
{
    Reverse,
    BitReversal,
    Shuffle,
    Random,
}

/// <summary><c>perm(kind, seed)</c>: <c>y[j] = x[map[j]]</c>; no parameters.</summary>
public sealed record BoundPermutation(MatrixShape Shape, PermutationKind Permutation, int Seed, SourceSpan Span) : BoundPrimitive(Shape, Frozen: true, Span)
{
    public override Structure Structure => Structures.Permutation.Instance;

    /// <summary>The index map, as the IR and the runtime's <c>Permutations</c> define it.</summary>
    public IndexMap Map => new(Permutation switch
    {
        PermutationKind.Reverse => IndexMapKind.Reverse,
        PermutationKind.BitReversal => IndexMapKind.BitReversal,
        PermutationKind.Shuffle => IndexMapKind.Shuffle,
        _ => IndexMapKind.Random,
    }, Shape.In) { Seed = Permutation == PermutationKind.Random ? Seed : 0 };

    public string KindText => Permutation.ToString().ToLowerInvariant();
}

/// <summary><c>perm(reverse | bitreversal | shuffle | random)</c>, <c>perm(random, seed: k)</c>: square, no parameters.</summary>
public sealed class Permutation : Structure<BoundPermutation>
{
    public static readonly Permutation Instance = new();

    public override PrimitiveSpec Spec { get; } = new("perm", SquareOnly: true,
        new ArgumentSpec("kind", ArgumentKind.Option, true, "perm(reverse)", "reverse", "bitreversal", "shuffle", "random"),
        new ArgumentSpec("seed", ArgumentKind.Integer, false, "perm(random, seed: 7)"));

    internal override BoundPermutation? BindShape(StructureBinding b)
    {
        if (!b.TrySeed(out var seed) || b.Option("kind") is not { } word) return null;
        var kind = word switch
        {
            "reverse" => PermutationKind.Reverse,
            "bitreversal" => PermutationKind.BitReversal,
            "shuffle" => PermutationKind.Shuffle,
            _ => PermutationKind.Random,
        };
        var n = b.Shape.In;
        if (kind == PermutationKind.BitReversal && (n & (n - 1)) != 0)
        {
            b.Report(DiagnosticDescriptors.NotPowerOfTwo, b.Span, "perm(bitreversal)", n);
            return null;
        }
        if (kind == PermutationKind.Shuffle && n % 2 != 0)
        {
            b.Report(DiagnosticDescriptors.NotEven, b.Span, "perm(shuffle)", n);
            return null;
        }
        if (kind != PermutationKind.Random && b.Has("seed"))
        {
            b.Report(DiagnosticDescriptors.UnknownArgument, b.SpanOf("seed"), $"perm({word})", "seed", "no seed (only perm(random, seed: …) takes one)", "");
            return null;
        }
        return new BoundPermutation(b.Shape, kind, seed ?? 0, b.Span);
    }

    public override IReadOnlyList<ParameterSpec> Parameters(BoundPermutation p) => Array.Empty<ParameterSpec>();

    internal override int Lower(BoundPermutation p, StructureLowering l, int input)
    {
        var output = l.NewValue(p.Shape.In);
        var seed = p.Permutation == PermutationKind.Random ? $", seed {p.Seed}" : "";
        l.Add(new GatherOp(input, output, p.Map, Inverse: false, Accumulate: false, $"{l.Name}: y[j] = x[map[j]], {p.KindText}{seed}"));
        return output;
    }

    internal override DenseForm DenseOracle(BoundPermutation p, Func<string, string> data) =>
        new($"perm {p.Shape.In} -> {p.Shape.Out}: the permutation matrix of the index map", $"{TypeNames.DenseMath}.Permutation({IndexMaps.Definition(p.Map)})");

    public override string Explain(BoundPermutation p) =>
        $"perm {p.Shape}: {p.KindText}{(p.Permutation == PermutationKind.Random ? ", seed " + p.Seed : "")} (an index map)";

    public override string Dump(BoundPermutation p) => $"perm {p.KindText}{(p.Permutation == PermutationKind.Random ? " seed=" + p.Seed : "")}";
}
