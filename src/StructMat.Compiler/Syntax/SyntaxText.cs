using System.Linq;

namespace StructMat.Compiler.Syntax;

/// <summary>An expression written back as source (one space around binary operators), for messages that show a fix.</summary>
public static class SyntaxText
{
    public static string Of(ExpressionSyntax syntax) => syntax switch
    {
        NumberSyntax n => n.Text,
        NameSyntax n => n.Name,
        CallSyntax c => $"{c.Name}({string.Join(", ", c.Arguments.Select(Of))})",
        NegateSyntax n => "-" + Operand(n.Operand, 3),
        FrozenSyntax f => "frozen " + Operand(f.Operand, 3),
        BinarySyntax b => $"{Operand(b.Left, Precedence(b))} {Symbol(b.Operator)} {Operand(b.Right, Precedence(b) + 1)}",
        _ => "…",
    };

    public static string Of(ArgumentSyntax argument) => argument switch
    {
        NamedArgumentSyntax n => $"{n.Name}: {Of(n.Value)}",
        PositionalArgumentSyntax p => Of(p.Value),
        ShapeArgumentSyntax s => $"{Of(s.InFeatures)} -> {Of(s.OutFeatures)}",
        _ => "…",
    };

    private static string Operand(ExpressionSyntax syntax, int minimum) =>
        syntax is BinarySyntax b && Precedence(b) < minimum ? "(" + Of(b) + ")" : Of(syntax);

    private static int Precedence(BinarySyntax b) => b.Operator is BinaryOperator.Add or BinaryOperator.Subtract ? 1 : 2;

    private static string Symbol(BinaryOperator op) => op switch
    {
        BinaryOperator.Multiply => "*",
        BinaryOperator.Divide => "/",
        BinaryOperator.Add => "+",
        _ => "-",
    };
}
