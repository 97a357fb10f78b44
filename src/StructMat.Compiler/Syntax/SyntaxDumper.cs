using System.Globalization;
using System.Linq;
using System.Text;

namespace StructMat.Compiler.Syntax;

/// <summary>A stable, indented text form of the AST (stage dump "ast").</summary>
public static class SyntaxDumper
{
    public static string Dump(CompilationUnitSyntax unit)
    {
        var text = new StringBuilder();
        text.Append("namespace ").Append(unit.Namespace ?? "(none)").Append('\n');
        foreach (var declaration in unit.Declarations)
        {
            switch (declaration)
            {
                case ConstDeclarationSyntax c:
                    text.Append("const ").Append(c.Name).Append(' ').Append(c.NameSpan).Append(" = ").Append(Expression(c.Value)).Append('\n');
                    break;
                case LayerDeclarationSyntax l:
                    text.Append("layer ").Append(l.Name).Append(' ').Append(l.NameSpan).Append(" : ").Append(Expression(l.InFeatures))
                        .Append(" -> ").Append(Expression(l.OutFeatures)).Append(" = ").Append(Expression(l.Body)).Append('\n');
                    break;
            }
        }
        return text.ToString();
    }

    /// <summary>Fully parenthesised, so the dump shows how precedence grouped the source.</summary>
    public static string Expression(ExpressionSyntax expression) => expression switch
    {
        NumberSyntax n => n.Text,
        NameSyntax n => n.Name,
        CallSyntax c => c.Name + "(" + string.Join(", ", c.Arguments.Select(Argument)) + ")",
        NegateSyntax n => "(-" + Expression(n.Operand) + ")",
        FrozenSyntax f => "(frozen " + Expression(f.Operand) + ")",
        BinarySyntax b => "(" + Expression(b.Left) + " " + Operator(b.Operator) + " " + Expression(b.Right) + ")",
        ErrorExpression => "<error>",
        _ => expression.GetType().Name,
    };

    private static string Argument(ArgumentSyntax argument) => argument switch
    {
        NamedArgumentSyntax n => n.Name + ": " + Expression(n.Value),
        PositionalArgumentSyntax p => Expression(p.Value),
        ShapeArgumentSyntax s => Expression(s.InFeatures) + " -> " + Expression(s.OutFeatures),
        _ => "?",
    };

    private static string Operator(BinaryOperator op) => op switch
    {
        BinaryOperator.Multiply => "*",
        BinaryOperator.Divide => "/",
        BinaryOperator.Add => "+",
        _ => "-",
    };
}
