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
            Report(DiagnosticDescriptors.UnknownName, nameSpan, name, StructureRegistry.Names);
            return null;
        }
        var arguments = MatchArguments(spec, argumentSyntax, span);
        if (arguments is null) return null;

        if (spec == CoreForms.Kron)
        {
            return BindKron(arguments, span, inDim, outDim, frozen);
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
            var required = spec.Arguments.FirstOrDefault(a => a.Required);
            var extra = required is null ? "" : ", " + required.Name + ": …";
            Report(DiagnosticDescriptors.CannotInferShape, span, shapeIn is null ? "input" : "output", spec.Name, extra);
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
}
