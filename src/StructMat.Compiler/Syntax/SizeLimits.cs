using System.Collections.Generic;
using Antlr4.Runtime;
using StructMat.Compiler.Diagnostics;
using StructMat.Compiler.Syntax.Generated;

namespace StructMat.Compiler.Syntax;

/// <summary>
/// Limits that keep every recursive stage within its stack: nesting depth (parentheses and prefix
/// operators) and the number of operators in one declaration. Real layers stay far below both.
/// </summary>
internal static class SizeLimits
{
    public const int MaxDepth = 200;
    public const int MaxOperators = 1000;

    public static Diagnostic? Check(IList<IToken> tokens)
    {
        var depth = 0;
        var prefixRun = 0;
        var operators = 0;
        foreach (var token in tokens)
        {
            switch (token.Text)
            {
                case "(":
                    depth++;
                    break;
                case ")":
                    depth = System.Math.Max(0, depth - 1);
                    break;
                case ";":
                    operators = 0;
                    break;
                case "*" or "/" or "+" or "-":
                    operators++;
                    break;
            }
            prefixRun = token.Text is "-" or "frozen" ? prefixRun + 1 : 0;
            if (token.Type != StructMatLexer.Eof && (depth > MaxDepth || prefixRun > MaxDepth))
            {
                return Diagnostic.Create(DiagnosticDescriptors.NestingTooDeep, Spans.Of(token), MaxDepth);
            }
            if (operators > MaxOperators)
            {
                return Diagnostic.Create(DiagnosticDescriptors.ExpressionTooLong, Spans.Of(token), MaxOperators);
            }
        }
        return null;
    }
}
