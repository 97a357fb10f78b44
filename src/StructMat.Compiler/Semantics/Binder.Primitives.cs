using System.Collections.Generic;
using System.Linq;
using StructMat.Compiler.Diagnostics;
using StructMat.Compiler.Structures;
using StructMat.Compiler.Syntax;

namespace StructMat.Compiler.Semantics;

public sealed partial class Binder
{
    /// <summary>The arguments of one call, matched to the structure's parameters.</summary>
    internal sealed class Arguments
    {
        public MatrixShape? Explicit;
        public SourceSpan ExplicitSpan;
        public bool ExplicitFailed;
        public readonly Dictionary<string, (ExpressionSyntax Value, SourceSpan Span)> Values = new();
    }

    /// <summary>
    /// A structure call: its arguments, its shape (explicit, else from the context; square-only structures fill one
    /// side from the other), then the structure's own shape rule (<see cref="Structure"/>, through the registry).
    /// </summary>
    private BoundExpression? BindPrimitive(string name, SourceSpan nameSpan, EquatableArray<ArgumentSyntax> argumentSyntax,
        SourceSpan span, int? inDim, int? outDim, bool frozen, bool adapterTerm)
    {
        if (StructureRegistry.Spec(name) is not { } spec)
        {
            Report(DiagnosticDescriptors.UnknownName, nameSpan, name, StructureRegistry.Names, Spelling.Suggestion(name, KnownNames()));
            return null;
        }
        var arguments = MatchArguments(spec, argumentSyntax, span);
        if (arguments is null) return null;

        if (spec == CoreForms.Kron)
        {
            return BindKron(arguments, span, inDim, outDim, frozen);
        }
        if (spec == CoreForms.Hadamard)
        {
            return BindHadamard(arguments, span, inDim, outDim, frozen, adapterTerm);
        }
        if (spec == CoreForms.Normalize)
        {
            return BindNormalize(arguments, inDim, outDim, frozen, span);
        }

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
            // A square-only structure takes no shape of its own to speak of: its neighbours fix its size.
            var required = spec.Arguments.FirstOrDefault(a => a.Required);
            var fix = spec.SquareOnly
                ? $"{spec.Name} is square-only and nothing around it fixes its size; give a neighbouring factor an explicit shape"
                : $"give it an explicit shape, e.g. {spec.Name}(in -> out{(required is null ? "" : ", " + required.Name + ": …")})";
            Report(DiagnosticDescriptors.CannotInferShape, span, shapeIn is null ? "input" : "output", $"'{spec.Name}'", fix);
            return null;
        }
        var shape = new MatrixShape(shapeIn.Value, shapeOut.Value);
        return StructureRegistry.Find(name)!.Bind(new StructureBinding(this, spec, arguments, shape, span, frozen, adapterTerm));
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

    // hadamard(A, B): both operands take the context's shape (or each other's). This version applies it to two
    // low-ranks only, as LoHa's rank r₁·r₂ product; any other operand is SMX0133, never a silent dense fallback.
    private BoundExpression? BindHadamard(Arguments arguments, SourceSpan span, int? inDim, int? outDim, bool frozen, bool adapterTerm)
    {
        var syntax = new[] { arguments.Values["left"].Value, arguments.Values["right"].Value };
        var probes = syntax.Select(s => ShapeProbe.Of(s, this)).ToArray();
        var shapeIn = inDim ?? probes[0].In ?? probes[1].In;
        var shapeOut = outDim ?? probes[0].Out ?? probes[1].Out;
        var operands = new BoundExpression?[2];
        for (var k = 0; k < 2; k++) operands[k] = BindMatrix(syntax[k], shapeIn ?? operands[0]?.Shape.In, shapeOut ?? operands[0]?.Shape.Out, frozen, adapterTerm: false);
        if (operands[0] is null || operands[1] is null) return null;
        for (var k = 0; k < 2; k++)
        {
            if (operands[k] is BoundLowRank) continue;
            Report(DiagnosticDescriptors.HadamardOperand, syntax[k].Span, k == 0 ? "left" : "right", Describe(operands[k]!));
            return null;
        }
        // Both were bound to one shape: the second takes the first's when nothing else fixed it.
        return new BoundHadamard((BoundLowRank)operands[0]!, (BoundLowRank)operands[1]!, adapterTerm, span);
    }

    // normalize(X): X takes the context's shape. This version normalises a dense (weight normalisation) or DoRA's
    // weight, frozen dense + c * lowrank, whose row norms need no dense copy; anything else is SMX0134.
    private BoundExpression? BindNormalize(Arguments arguments, int? inDim, int? outDim, bool frozen, SourceSpan span)
    {
        var syntax = arguments.Values["operand"].Value;
        var probe = ShapeProbe.Of(syntax, this);
        var operand = BindMatrix(syntax, inDim ?? probe.In, outDim ?? probe.Out, frozen, adapterTerm: false);
        if (operand is null) return null;
        if (operand is BoundDense { Quant: null } dense) return new BoundNormalize(dense, -1, -1, null, 0, span); // weight normalisation
        if (operand is BoundSum { Terms.Count: 2 } sum)
        {
            var baseTerm = sum.Terms.Select((t, k) => (t, k)).FirstOrDefault(p => p.t is BoundDense { Frozen: true, Quant: null });
            var other = baseTerm.t is null ? default : sum.Terms.Select((t, k) => (t, k)).First(p => p.k != baseTerm.k);
            var (lowRank, scale) = other.t switch
            {
                BoundLowRank l => (l, 1.0),
                BoundScale { Operand: BoundLowRank l } s => (l, s.Factor),
                _ => ((BoundLowRank?)null, 0.0),
            };
            if (baseTerm.t is not null && lowRank is not null)
                return new BoundNormalize(sum, baseTerm.k, other.k, lowRank, scale, span);
        }
        Report(DiagnosticDescriptors.NormalizeOperand, syntax.Span, Describe(operand));
        return null;
    }

    private static string Describe(BoundExpression e) => e switch
    {
        BoundDense { Quant: not null } => "a quantised dense (its row norms would need its codes decoded)",
        BoundSum s when s.Terms.Any(t => t is BoundDense { Quant: not null }) => "a sum on a quantised base (its row norms would need its codes decoded)",
        BoundPrimitive p => p.Structure.Name,
        BoundSum => "a sum",
        BoundProduct => "a product",
        BoundScale => "a scaled matrix (move the scale outside: c * hadamard(…))",
        _ => "a " + e.GetType().Name.Replace("Bound", "").ToLowerInvariant(),
    };

    private Arguments? MatchArguments(PrimitiveSpec spec, EquatableArray<ArgumentSyntax> syntax, SourceSpan callSpan)
    {
        var result = new Arguments();
        var ok = true;
        var position = 0;
        if (ShapeWrittenAsValues(spec, syntax)) return null;
        for (var index = 0; index < syntax.Count; index++)
        {
            switch (syntax[index])
            {
                case ShapeArgumentSyntax shape when index == 0 && CoreForms.IsCombinator(spec):
                    Report(DiagnosticDescriptors.ArgumentType, shape.Span, "in -> out", spec.Name, spec == CoreForms.Kron
                        ? "left out: a Kronecker product's shape is its factors' (A.in·B.in -> A.out·B.out)"
                        : "left out: an elementwise product's shape is its operands' (both the same)");
                    ok = false;
                    break;
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
                        Report(DiagnosticDescriptors.UnknownArgument, named.NameSpan, spec.Name, named.Name, spec.Accepts,
                            Spelling.Suggestion(named.Name, spec.Arguments.Select(a => a.Name)));
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
                    // Values without a name fill the required parameters in order, skipping ones already named; optional
                    // ones (a seed) are always named, so `dense(64)` is not silently `dense(seed: 64)`.
                    while (position < spec.Arguments.Length
                           && (result.Values.ContainsKey(spec.Arguments[position].Name) || !spec.Arguments[position].Required)) position++;
                    if (position >= spec.Arguments.Length)
                    {
                        ReportSurplusValue(spec, syntax, index);
                        ok = false;
                        index = syntax.Count;   // one message for the call
                    }
                    else
                    {
                        result.Values[spec.Arguments[position++].Name] = (positional.Value, positional.Span);
                    }
                    break;
            }
        }
        // After a misspelt or surplus argument, "missing argument" would only repeat the same mistake; otherwise each
        // missing argument is reported.
        if (ok)
        {
            foreach (var missing in spec.Arguments.Where(a => a.Required && !result.Values.ContainsKey(a.Name)))
            {
                Report(DiagnosticDescriptors.MissingArgument, callSpan, spec.Name, missing.Name, missing.Example);
                ok = false;
            }
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

    /// <summary>Every name a use can mean: the structures, kron, bias and the constants declared so far.</summary>
    private IEnumerable<string> KnownNames() =>
        StructureRegistry.All.Select(s => s.Name).Append(CoreForms.Kron.Name).Append(CoreForms.Hadamard.Name).Append(CoreForms.Normalize.Name).Append(CoreForms.Bias).Concat(_constants.Keys);

    /// <summary>
    /// Two leading numbers that no required argument takes: a shape written as other libraries write it
    /// (`dense(64, 32)` for `dense(64 -> 32)`, `lowrank(64, 64, 8)`). Reported once, for the whole call.
    /// </summary>
    private bool ShapeWrittenAsValues(PrimitiveSpec spec, EquatableArray<ArgumentSyntax> syntax)
    {
        var numbers = syntax.TakeWhile(s => s is PositionalArgumentSyntax p && IsNumeric(p.Value)).Count();
        var unnamedRequired = spec.Arguments.Count(x => x.Required && !syntax.Any(s => s is NamedArgumentSyntax n && n.Name == x.Name));
        if (numbers < 2 || numbers < unnamedRequired + 2 || spec.SquareOnly || CoreForms.IsCombinator(spec)) return false;
        var (a, b) = ((PositionalArgumentSyntax)syntax[0], (PositionalArgumentSyntax)syntax[1]);
        var rest = string.Concat(syntax.Skip(2).Select(s => ", " + SyntaxText.Of(s)));
        var filled = syntax.Skip(2).Count(s => s is PositionalArgumentSyntax) + (spec.Arguments.Count(x => x.Required) - unnamedRequired);
        var named = string.Concat(spec.Arguments.Where(x => x.Required).Skip(filled).Select(x => $", {x.Name}: …"));
        Report(DiagnosticDescriptors.ShapeAsArguments, a.Span.Cover(b.Span), $"{spec.Name}({SyntaxText.Of(a.Value)} -> {SyntaxText.Of(b.Value)}{rest}{named})");
        return true;
    }

    /// <summary>A value without a name that no argument takes: say what the structure takes without names.</summary>
    private void ReportSurplusValue(PrimitiveSpec spec, EquatableArray<ArgumentSyntax> syntax, int index)
    {
        var required = spec.Arguments.Where(x => x.Required).ToList();
        var takes = required.Count switch
        {
            0 => "no value without a name",
            1 => $"one value without a name ('{required[0].Name}')",
            var n => $"{n} values without names ({string.Join(", ", required.Select(x => $"'{x.Name}'"))})",
        };
        var byName = spec.Arguments.FirstOrDefault(x => !x.Required) is { } optional
            ? $"; '{optional.Name}' is always named, as in {optional.Example.Replace("frozen ", "")}" : "";
        var shape = $"{spec.Name}(64 -> 32{string.Concat(required.Select(x => $", {x.Name}: …"))})";
        var fix = CoreForms.IsCombinator(spec) ? $"it is written {required[0].Example}"
            : spec.SquareOnly ? byName.TrimStart(';', ' ')
            : $"a shape is written {shape}{byName}";
        if (fix.Length == 0) fix = $"it is written {spec.Name}()";
        Report(DiagnosticDescriptors.TooManyValues, syntax[index].Span, spec.Name, takes, index + 1, fix);
    }
}