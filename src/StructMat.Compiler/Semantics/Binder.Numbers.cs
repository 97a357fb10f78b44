using System;
using StructMat.Compiler.Diagnostics;
using StructMat.Compiler.Structures;
using StructMat.Compiler.Syntax;

namespace StructMat.Compiler.Semantics;

public sealed partial class Binder
{
    /// <summary>
    /// Evaluates a constant expression. Integers stay integers under + - * and exact division.
    /// Returns null after reporting (or, with <paramref name="report"/> false, silently).
    /// </summary>
    internal NumberValue? Evaluate(ExpressionSyntax syntax, bool report)
    {
        switch (syntax)
        {
            case ErrorExpression:
                return null;
            case NumberSyntax number:
                return new NumberValue(number.Value, number.IsInteger);
            case NameSyntax name when _constants.TryGetValue(name.Name, out var value):
                return value;
            case NameSyntax name when _rejectedConstants.Contains(name.Name):
                return null;
            case NameSyntax name:
                if (report)
                {
                    if (StructureRegistry.Spec(name.Name) is not null || name.Name == CoreForms.Bias)
                        Report(DiagnosticDescriptors.NotANumber, name.Span, "a number");
                    else
                        Report(DiagnosticDescriptors.UnknownName, name.Span, name.Name, StructureRegistry.Names, Spelling.Suggestion(name.Name, KnownNames()));
                }
                return null;
            case NegateSyntax negate:
                return Evaluate(negate.Operand, report) is { } operand ? operand with { Value = -operand.Value } : null;
            case BinarySyntax binary:
                var left = Evaluate(binary.Left, report);
                var right = Evaluate(binary.Right, report);
                return left is null || right is null ? null : Arithmetic(binary, left.Value, right.Value, report);
            default:
                if (report) Report(DiagnosticDescriptors.NotANumber, syntax.Span, "a number");
                return null;
        }
    }

    private NumberValue? Arithmetic(BinarySyntax binary, NumberValue left, NumberValue right, bool report)
    {
        var integers = left.IsInteger && right.IsInteger;
        double result;
        switch (binary.Operator)
        {
            case BinaryOperator.Add: result = left.Value + right.Value; break;
            case BinaryOperator.Subtract: result = left.Value - right.Value; break;
            case BinaryOperator.Multiply: result = left.Value * right.Value; break;
            default:
                if (right.Value == 0)
                {
                    if (report) Report(DiagnosticDescriptors.DivisionByZero, binary.OperatorSpan);
                    return null;
                }
                result = left.Value / right.Value;
                integers &= Math.Floor(result) == result;
                break;
        }
        if (integers && Math.Abs(result) > 9.007199254740992E15)
        {
            if (report) Report(DiagnosticDescriptors.IntegerOverflow, binary.Span, "This integer expression", result.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
            return null;
        }
        return new NumberValue(result, integers);
    }

    /// <summary>A positive 32-bit integer: a dimension, a rank, a block count.</summary>
    internal int? EvaluateDimension(ExpressionSyntax syntax, string what, bool report = true)
    {
        if (Evaluate(syntax, report) is not { } value) return null;
        if (!value.IsInteger)
        {
            if (report) Report(DiagnosticDescriptors.NotInteger, syntax.Span, Capitalize(what), value);
            return null;
        }
        if (value.Value > int.MaxValue)
        {
            if (report) Report(DiagnosticDescriptors.IntegerOverflow, syntax.Span, Capitalize(what), value);
            return null;
        }
        if (value.Value <= 0)
        {
            if (report) Report(DiagnosticDescriptors.NonPositive, syntax.Span, Capitalize(what), value);
            return null;
        }
        return (int)value.Value;
    }

    private static string Capitalize(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text.Substring(1);
}
