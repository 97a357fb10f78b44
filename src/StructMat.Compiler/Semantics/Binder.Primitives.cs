using System.Collections.Generic;
using System.Linq;
using StructMat.Compiler.Diagnostics;
using StructMat.Compiler.Syntax;

namespace StructMat.Compiler.Semantics;

public sealed partial class Binder
{
    /// <summary>The arguments of one call, matched to the structure's parameters.</summary>
    private sealed class Arguments
    {
        public MatrixShape? Explicit;
        public SourceSpan ExplicitSpan;
        public bool ExplicitFailed;
        public readonly Dictionary<string, (ExpressionSyntax Value, SourceSpan Span)> Values = new();
    }

    private BoundExpression? BindPrimitive(string name, SourceSpan nameSpan, EquatableArray<ArgumentSyntax> argumentSyntax,
        SourceSpan span, int? inDim, int? outDim, bool frozen, bool loraContext)
    {
        if (!Primitives.ByName.TryGetValue(name, out var spec))
        {
            Report(DiagnosticDescriptors.UnknownName, nameSpan, name, Primitives.Names);
            return null;
        }
        var arguments = MatchArguments(spec, argumentSyntax, span);
        if (arguments is null) return null;

        if (spec == Primitives.Kron)
        {
            return BindKron(arguments, span, inDim, outDim, frozen);
        }

        // The shape: explicit, else from the context; square-only structures fill one side from the other.
        var shapeIn = arguments.Explicit?.In;
        var shapeOut = arguments.Explicit?.Out;
        if (arguments.Explicit is { } e && (Conflicts(e.In, inDim) || Conflicts(e.Out, outDim)))
        {
            Report(DiagnosticDescriptors.ShapeConflict, arguments.ExplicitSpan, spec.Name, e.In, e.Out,
                inDim?.ToString() ?? "?", outDim?.ToString() ?? "?");
            return null;
        }
        shapeIn ??= inDim;
        shapeOut ??= outDim;
        if (spec.SquareOnly)
        {
            if (shapeIn is { } i && shapeOut is { } o && i != o)
            {
                Report(DiagnosticDescriptors.NotSquare, span, spec.Name, i, o);
                return null;
            }
            shapeIn ??= shapeOut;
            shapeOut ??= shapeIn;
        }
        if (arguments.ExplicitFailed) return null;
        if (shapeIn is null || shapeOut is null)
        {
            var required = spec.Arguments.FirstOrDefault(a => a.Required);
            var extra = required is null ? "" : ", " + required.Name + ": …";
            Report(DiagnosticDescriptors.CannotInferShape, span, shapeIn is null ? "input" : "output", spec.Name, extra);
            return null;
        }
        var shape = new MatrixShape(shapeIn.Value, shapeOut.Value);
        return BindShapedPrimitive(spec, arguments, shape, span, frozen, loraContext);
    }

    private BoundExpression? BindShapedPrimitive(PrimitiveSpec spec, Arguments arguments, MatrixShape shape, SourceSpan span, bool frozen, bool loraContext)
    {
        int? Integer(string argument) =>
            arguments.Values.TryGetValue(argument, out var a) ? EvaluateDimension(a.Value, $"{spec.Name}: '{argument}'") : null;
        SourceSpan SpanOf(string argument) => arguments.Values.TryGetValue(argument, out var a) ? a.Span : span;

        switch (spec.Name)
        {
            case "dense":
                if (!TrySeed(spec, arguments, out var seed)) return null;
                return CheckSize(spec, span, (long)shape.In * shape.Out) ? new BoundDense(shape, frozen, span) { Seed = seed } : null;

            case "lowrank":
                if (Integer("rank") is not { } rank) return null;
                var limit = System.Math.Min(shape.In, shape.Out);
                if (rank > limit)
                {
                    Report(DiagnosticDescriptors.RankTooLarge, SpanOf("rank"), rank, shape.In, shape.Out, limit);
                    return null;
                }
                return CheckSize(spec, span, (long)rank * System.Math.Max(shape.In, shape.Out))
                    ? new BoundLowRank(shape, rank, ZeroInitB: loraContext, frozen, span)
                    : null;

            case "blockdiag":
            case "monarch":
                if (Integer("blocks") is not { } blocks) return null;
                if (!Divides(spec, blocks, shape, SpanOf("blocks"))) return null;
                if (spec.Name == "blockdiag")
                {
                    return CheckSize(spec, span, (long)shape.In / blocks * shape.Out)
                        ? new BoundBlockDiagonal(shape, blocks, frozen, span)
                        : null;
                }
                var monarch = new BoundMonarch(shape, blocks, frozen, span);
                return CheckSize(spec, span, (long)monarch.K * monarch.Q * monarch.P) && CheckSize(spec, span, (long)monarch.L * monarch.S * monarch.R)
                    ? monarch
                    : null;

            case "butterfly":
                if ((shape.In & (shape.In - 1)) != 0 || shape.In < 2)
                {
                    Report(DiagnosticDescriptors.NotPowerOfTwo, span, shape.In < 2 ? "butterfly (of at least 2)" : "butterfly", shape.In);
                    return null;
                }
                return new BoundButterfly(shape, frozen, span);

            case "householder":
                if (Integer("reflections") is not { } reflections) return null;
                if (reflections > shape.In)
                {
                    Report(DiagnosticDescriptors.ReflectionsTooMany, SpanOf("reflections"), reflections, shape.In);
                    return null;
                }
                return new BoundHouseholder(shape, reflections, frozen, span);

            case "blocksparse":
                if (Integer("block") is not { } block || !Divides(spec, block, shape, SpanOf("block"), asBlockSize: true)) return null;
                if (!CheckOption(spec, arguments, "pattern")) return null;
                if (shape.In != shape.Out)
                {
                    Report(DiagnosticDescriptors.NotSquare, span, "blocksparse(pattern: butterfly)", shape.In, shape.Out);
                    return null;
                }
                var blocksPerSide = shape.In / block;
                if ((blocksPerSide & (blocksPerSide - 1)) != 0)
                {
                    Report(DiagnosticDescriptors.NotPowerOfTwo, SpanOf("block"), $"blocksparse(pattern: butterfly): the number of blocks per side (n / block = {shape.In} / {block})", blocksPerSide);
                    return null;
                }
                return new BoundBlockSparse(shape, block, frozen, span);

            case "perm":
                return BindPermutation(spec, arguments, shape, span);

            case "diag":
                return new BoundDiagonal(shape, frozen, span);

            case "btt":
                if (Integer("rank") is not { } bttRank) return null;
                if (arguments.Values.ContainsKey("cores"))
                {
                    var cores = Integer("cores");
                    if (cores is null) return null;
                    if (cores != 2)
                    {
                        Report(DiagnosticDescriptors.UnsupportedCores, SpanOf("cores"), cores);
                        return null;
                    }
                }
                var (m0, m1) = BoundBtt.Factorize(shape.In);
                var (n0, n1) = BoundBtt.Factorize(shape.Out);
                return CheckSize(spec, span, (long)m1 * bttRank * n0 * m0) && CheckSize(spec, span, (long)n0 * n1 * m1 * bttRank)
                    ? new BoundBtt(shape, bttRank, m0, m1, n0, n1, frozen, span)
                    : null;

            default:
                throw new System.InvalidOperationException($"The primitive table has '{spec.Name}' but the binder does not.");
        }
    }

    private BoundExpression? BindPermutation(PrimitiveSpec spec, Arguments arguments, MatrixShape shape, SourceSpan span)
    {
        if (!TrySeed(spec, arguments, out var seed) || !CheckOption(spec, arguments, "kind")) return null;
        arguments.Values.TryGetValue("seed", out var seedArgument);
        var kind = ((NameSyntax)arguments.Values["kind"].Value).Name switch
        {
            "reverse" => PermutationKind.Reverse,
            "bitreversal" => PermutationKind.BitReversal,
            "shuffle" => PermutationKind.Shuffle,
            _ => PermutationKind.Random,
        };
        if (kind == PermutationKind.BitReversal && (shape.In & (shape.In - 1)) != 0)
        {
            Report(DiagnosticDescriptors.NotPowerOfTwo, span, "perm(bitreversal)", shape.In);
            return null;
        }
        if (kind == PermutationKind.Shuffle && shape.In % 2 != 0)
        {
            Report(DiagnosticDescriptors.NotEven, span, "perm(shuffle)", shape.In);
            return null;
        }
        if (kind != PermutationKind.Random && seedArgument.Value is not null)
        {
            Report(DiagnosticDescriptors.UnknownArgument, seedArgument.Span, $"perm({((NameSyntax)arguments.Values["kind"].Value).Name})", "seed", "no seed (only perm(random, seed: …) takes one)");
            return null;
        }
        return new BoundPermutation(shape, kind, seed ?? 0, span);
    }

    /// <summary>The optional <c>seed</c> argument: a non-negative 32-bit integer, or null when absent. False after reporting.</summary>
    private bool TrySeed(PrimitiveSpec spec, Arguments arguments, out int? seed)
    {
        seed = null;
        if (!arguments.Values.TryGetValue("seed", out var argument)) return true;
        if (Evaluate(argument.Value, report: true) is not { } value) return false;
        if (!value.IsInteger || value.Value < 0 || value.Value > int.MaxValue)
        {
            Report(DiagnosticDescriptors.NotInteger, argument.Span, $"{spec.Name}: 'seed'", value);
            return false;
        }
        seed = (int)value.Value;
        return true;
    }

    // kron(A, B) with torch.kron semantics: (A ⊗ B) maps A.in·B.in -> A.out·B.out.
    private BoundExpression? BindKron(Arguments arguments, SourceSpan span, int? inDim, int? outDim, bool frozen)
    {
        var leftSyntax = arguments.Values["left"].Value;
        var rightSyntax = arguments.Values["right"].Value;
        var leftProbe = ShapeProbe.Of(leftSyntax, this);
        var rightProbe = ShapeProbe.Of(rightSyntax, this);
        int? Quotient(int? whole, int? part) => whole is { } w && part is { } p && w % p == 0 ? w / p : null;
        var left = BindMatrix(leftSyntax, leftProbe.In ?? Quotient(inDim, rightProbe.In), leftProbe.Out ?? Quotient(outDim, rightProbe.Out), frozen, false);
        var right = BindMatrix(rightSyntax, rightProbe.In ?? Quotient(inDim, left?.Shape.In), rightProbe.Out ?? Quotient(outDim, left?.Shape.Out), frozen, false);
        if (left is null || right is null) return null;
        var shape = new MatrixShape(left.Shape.In * right.Shape.In, left.Shape.Out * right.Shape.Out);
        if (Conflicts(shape.In, inDim) || Conflicts(shape.Out, outDim))
        {
            Report(DiagnosticDescriptors.KronShapeMismatch, span, left.Shape, right.Shape, shape.In, shape.Out,
                inDim?.ToString() ?? "?", outDim?.ToString() ?? "?");
            return null;
        }
        return new BoundKron(left, right, span);
    }

    private Arguments? MatchArguments(PrimitiveSpec spec, EquatableArray<ArgumentSyntax> syntax, SourceSpan callSpan)
    {
        var result = new Arguments();
        var ok = true;
        var position = 0;
        for (var index = 0; index < syntax.Count; index++)
        {
            switch (syntax[index])
            {
                case ShapeArgumentSyntax shape when index == 0:
                    result.ExplicitSpan = shape.Span;
                    var i = EvaluateDimension(shape.InFeatures, $"{spec.Name}'s input size");
                    var o = EvaluateDimension(shape.OutFeatures, $"{spec.Name}'s output size");
                    if (i is null || o is null) result.ExplicitFailed = true;
                    else result.Explicit = new MatrixShape(i.Value, o.Value);
                    break;
                case ShapeArgumentSyntax shape:
                    Report(DiagnosticDescriptors.ArgumentType, shape.Span, "in -> out", spec.Name, "the first argument");
                    ok = false;
                    break;
                case NamedArgumentSyntax named:
                    if (spec.Find(named.Name) is null)
                    {
                        Report(DiagnosticDescriptors.UnknownArgument, named.NameSpan, spec.Name, named.Name, spec.Accepts);
                        ok = false;
                    }
                    else if (result.Values.ContainsKey(named.Name))
                    {
                        Report(DiagnosticDescriptors.DuplicateArgument, named.Span, named.Name);
                        ok = false;
                    }
                    else
                    {
                        result.Values[named.Name] = (named.Value, named.Span);
                    }
                    break;
                case PositionalArgumentSyntax positional:
                    // Positional values fill the parameters in order, skipping ones already named.
                    while (position < spec.Arguments.Length && result.Values.ContainsKey(spec.Arguments[position].Name)) position++;
                    if (position >= spec.Arguments.Length)
                    {
                        Report(DiagnosticDescriptors.UnknownArgument, positional.Span, spec.Name, $"#{index + 1}", spec.Accepts);
                        ok = false;
                    }
                    else
                    {
                        result.Values[spec.Arguments[position++].Name] = (positional.Value, positional.Span);
                    }
                    break;
            }
        }
        // After a misspelt or surplus argument, "missing argument" would only repeat the same mistake.
        foreach (var missing in spec.Arguments.Where(a => ok && a.Required && !result.Values.ContainsKey(a.Name)))
        {
            Report(DiagnosticDescriptors.MissingArgument, callSpan, spec.Name, missing.Name, missing.Example);
            ok = false;
        }
        foreach (var argument in spec.Arguments.Where(a => a.Kind == ArgumentKind.Matrix && result.Values.ContainsKey(a.Name)))
        {
            if (IsNumeric(result.Values[argument.Name].Value))
            {
                Report(DiagnosticDescriptors.ArgumentType, result.Values[argument.Name].Span, argument.Name, spec.Name, "a structure");
                ok = false;
            }
        }
        return ok ? result : null;
    }

    private bool CheckOption(PrimitiveSpec spec, Arguments arguments, string name)
    {
        var argumentSpec = spec.Find(name)!;
        var (value, span) = arguments.Values[name];
        if (value is NameSyntax word && argumentSpec.Options.Contains(word.Name)) return true;
        Report(DiagnosticDescriptors.UnknownOption, span, $"{spec.Name}: '{name}'", value is NameSyntax n ? n.Name : "this value",
            string.Join(", ", argumentSpec.Options));
        return false;
    }

    private bool Divides(PrimitiveSpec spec, int blocks, MatrixShape shape, SourceSpan span, bool asBlockSize = false)
    {
        foreach (var (side, size) in new[] { ("input", shape.In), ("output", shape.Out) })
        {
            if (size % blocks != 0)
            {
                if (asBlockSize)
                    Report(DiagnosticDescriptors.BlocksDoNotDivide, span, spec.Name, $"blocks of size {blocks}", side, size);
                else
                    Report(DiagnosticDescriptors.BlocksDoNotDivide, span, spec.Name, $"{blocks} blocks", side, size);
                return false;
            }
        }
        return true;
    }

    /// <summary>Parameter tensors are indexed with 32-bit ints everywhere (CPU spans, ILGPU views).</summary>
    private bool CheckSize(PrimitiveSpec spec, SourceSpan span, long elements)
    {
        if (elements <= int.MaxValue) return true;
        Report(DiagnosticDescriptors.IntegerOverflow, span, $"A parameter tensor of {spec.Name}", elements);
        return false;
    }
}
