using System.Linq;
using StructMat.Compiler.Structures;
using StructMat.Compiler.Syntax;

namespace StructMat.Compiler.Semantics;

/// <summary>
/// What an expression says about its own shape before any context is applied: an explicit
/// <c>in -> out</c>, or square-only-ness. Quiet: the binder reports problems when it binds.
/// </summary>
internal readonly record struct ShapeProbe(int? In, int? Out, bool Square)
{
    public override string ToString() => $"{In?.ToString() ?? "?"} -> {Out?.ToString() ?? "?"}";

    public static ShapeProbe Of(ExpressionSyntax syntax, Binder binder)
    {
        switch (syntax)
        {
            case NameSyntax name when StructureRegistry.Spec(name.Name) is { } spec:
                return new ShapeProbe(null, null, spec.SquareOnly);
            case CallSyntax call when StructureRegistry.Spec(call.Name) is { } spec:
                if (call.Arguments.Count > 0 && call.Arguments[0] is ShapeArgumentSyntax shape)
                {
                    var i = binder.EvaluateDimension(shape.InFeatures, "", report: false);
                    var o = binder.EvaluateDimension(shape.OutFeatures, "", report: false);
                    return new ShapeProbe(i, o, spec.SquareOnly);
                }
                if (spec == CoreForms.Normalize && call.Arguments.Count == 1)
                    return Of(ValueOf(call.Arguments[0]), binder);
                if (spec == CoreForms.Hadamard && call.Arguments.Count == 2)
                {
                    var l = Of(ValueOf(call.Arguments[0]), binder);
                    var r = Of(ValueOf(call.Arguments[1]), binder);
                    return new ShapeProbe(l.In ?? r.In, l.Out ?? r.Out, l.Square || r.Square);
                }
                if (spec == CoreForms.Kron && call.Arguments.Count == 2)
                {
                    var a = Of(ValueOf(call.Arguments[0]), binder);
                    var b = Of(ValueOf(call.Arguments[1]), binder);
                    return new ShapeProbe(a.In * b.In, a.Out * b.Out, a.Square && b.Square);
                }
                return new ShapeProbe(null, null, spec.SquareOnly);
            case FrozenSyntax frozen:
                return Of(frozen.Operand, binder);
            case NegateSyntax negate:
                return Of(negate.Operand, binder);
            case BinarySyntax { Operator: BinaryOperator.Multiply } product when binder.IsNumeric(product.Left):
                return Of(product.Right, binder);
            case BinarySyntax { Operator: BinaryOperator.Multiply } product when binder.IsNumeric(product.Right):
                return Of(product.Left, binder);
            case BinarySyntax { Operator: BinaryOperator.Multiply } product:
                var left = Of(product.Left, binder);
                var right = Of(product.Right, binder);
                // A square-only factor passes its neighbour's size through: dense(6 -> 8) * diag() has input 6.
                var middle = left.In ?? right.Out;
                return new ShapeProbe(
                    right.In ?? (right.Square ? middle : null),
                    left.Out ?? (left.Square ? middle : null),
                    left.Square && right.Square);
            case BinarySyntax { Operator: BinaryOperator.Add or BinaryOperator.Subtract } sum:
                var probes = new[] { Of(sum.Left, binder), Of(sum.Right, binder) };
                var square = probes.Any(p => p.Square);
                var inDim = probes.Select(p => p.In).FirstOrDefault(d => d is not null);
                var outDim = probes.Select(p => p.Out).FirstOrDefault(d => d is not null);
                return new ShapeProbe(inDim ?? (square ? outDim : null), outDim ?? (square ? inDim : null), square);
            default:
                return default;
        }
    }

    private static ExpressionSyntax ValueOf(ArgumentSyntax argument) => argument switch
    {
        PositionalArgumentSyntax p => p.Value,
        NamedArgumentSyntax n => n.Value,
        _ => new ErrorExpression(argument.Span),
    };
}
