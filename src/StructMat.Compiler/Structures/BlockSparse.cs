using System;
using System.Collections.Generic;
using System.Linq;
using StructMat.Compiler.Diagnostics;
using StructMat.Compiler.Emit;
using StructMat.Compiler.IR;
using StructMat.Compiler.Lowering;
using StructMat.Compiler.Semantics;

namespace StructMat.Compiler.Structures;

/// <summary>
/// <c>blocksparse(block: b, pattern: butterfly)</c>, Pixelated Butterfly's flat block butterfly: with nb = n/b
/// blocks per side, block (i, j) is nonzero iff j = i XOR d for d ∈ {0, 1, 2, 4, …, nb/2}. Parameter
/// <c>blocks [nb·(1 + log2 nb), b, b]</c>, d-major: <c>blocks[m·nb + i]</c> is block (i, i XOR d_m), d_0 = 0, d_m = 2^(m−1).
/// </summary>
public sealed record BoundBlockSparse(MatrixShape Shape, int Block, bool Frozen, SourceSpan Span) : BoundPrimitive(Shape, Frozen, Span)
{
    public int BlocksPerSide => Shape.In / Block;

    /// <summary>The XOR distances of the pattern's block diagonals: 0, 1, 2, 4, …, nb/2.</summary>
    public IEnumerable<int> Distances
    {
        get
        {
            yield return 0;
            for (var d = 1; d < BlocksPerSide; d <<= 1) yield return d;
        }
    }

    public override Structure Structure => BlockSparse.Instance;
}

/// <summary>The flat block butterfly; <c>+ lowrank(…)</c> next to it is Pixelated Butterfly.</summary>
public sealed class BlockSparse : Structure<BoundBlockSparse>
{
    public static readonly BlockSparse Instance = new();

    public override PrimitiveSpec Spec { get; } = new("blocksparse", false,
        new ArgumentSpec("block", ArgumentKind.Integer, true, "blocksparse(block: 32, pattern: butterfly)"),
        new ArgumentSpec("pattern", ArgumentKind.Option, true, "blocksparse(block: 32, pattern: butterfly)", "butterfly"));

    internal override BoundBlockSparse? BindShape(StructureBinding b)
    {
        if (b.Integer("block") is not { } block || !b.Divides(block, b.SpanOf("block"), asBlockSize: true)) return null;
        if (b.Option("pattern") is null) return null;
        if (b.Shape.In != b.Shape.Out)
        {
            b.Report(DiagnosticDescriptors.NotSquare, b.Span, "blocksparse(pattern: butterfly)", b.Shape.In, b.Shape.Out);
            return null;
        }
        var blocksPerSide = b.Shape.In / block;
        if ((blocksPerSide & (blocksPerSide - 1)) != 0)
        {
            b.Report(DiagnosticDescriptors.NotPowerOfTwo, b.SpanOf("block"),
                $"blocksparse(pattern: butterfly): the number of blocks per side (n / block = {b.Shape.In} / {block})", blocksPerSide);
            return null;
        }
        return new BoundBlockSparse(b.Shape, block, b.Frozen, b.Span);
    }

    public override IReadOnlyList<ParameterSpec> Parameters(BoundBlockSparse s)
    {
        var (b, nb, diagonals) = (s.Block, s.BlocksPerSide, s.Distances.Count());
        return new[]
        {
            new ParameterSpec("blocks", new[] { nb * diagonals, b, b }, InitKind.MuP, b * diagonals, b,
                $"flat block butterfly, {diagonals} block diagonals of {nb} blocks of {b}x{b}"),
        };
    }

    // A sum over the block diagonals: for each XOR distance d, swap blocks i and i XOR d, then one block-diagonal
    // matmul with that diagonal's slice of `blocks`; the terms accumulate.
    internal override int Lower(BoundBlockSparse s, StructureLowering l, int input)
    {
        var (n, b, nb) = (s.Shape.In, s.Block, s.BlocksPerSide);
        var blocks = l.Parameter("blocks");
        var distances = s.Distances.ToList();
        int? total = null;
        for (var m = 0; m < distances.Count; m++)
        {
            var d = distances[m];
            var swapped = input;
            if (d != 0)
            {
                swapped = l.NewValue(n);
                l.Add(new GatherOp(input, swapped, new IndexMap(IndexMapKind.BlockXor, n) { Block = b, Distance = d }, Inverse: false, Accumulate: false,
                    $"{l.Name}: block i reads block i XOR {d}"));
            }
            var term = l.MatMul(swapped, blocks, nb, b, b, $"{l.Name}: block diagonal XOR {d}, {nb} blocks of {b}x{b}", m * nb * b * b);
            if (total is { } sum)
            {
                var next = l.NewValue(n, "sum");
                l.Add(new AddOp(sum, term, next, $"{l.Name}: add block diagonal XOR {d}"));
                total = next;
            }
            else
            {
                total = term;
            }
        }
        return total!.Value;
    }

    internal override DenseForm DenseOracle(BoundBlockSparse s, Func<string, string> data) =>
        new($"blocksparse {s.Shape.In} -> {s.Shape.Out}: the flat block butterfly pattern, filled block by block",
            $"{TypeNames.DenseMath}.FlatBlockButterfly({data("blocks")}, {s.Shape.In}, {s.Block})");

    public override string Explain(BoundBlockSparse s) =>
        $"blocksparse {s.Shape}: flat block butterfly, {s.BlocksPerSide} blocks of {s.Block}x{s.Block} per side, {s.Distances.Count()} block diagonals";
}
