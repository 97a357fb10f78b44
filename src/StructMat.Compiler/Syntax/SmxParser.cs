using System.Collections.Generic;
using Antlr4.Runtime;
using StructMat.Compiler.Diagnostics;
using StructMat.Compiler.Syntax.Generated;

namespace StructMat.Compiler.Syntax;

/// <summary>The front door of the syntax stage: text in, AST and syntax diagnostics out.</summary>
public static class SmxParser
{
    public static (CompilationUnitSyntax Unit, IReadOnlyList<Diagnostic> Diagnostics) Parse(string text)
    {
        var diagnostics = new List<Diagnostic>();
        var listener = new SyntaxErrorListener(diagnostics);

        var lexer = new SmxLexer(new AntlrInputStream(text));
        lexer.RemoveErrorListeners();
        lexer.AddErrorListener(listener);

        var tokens = new CommonTokenStream(lexer);
        tokens.Fill();
        if (SizeLimits.Check(tokens.GetTokens()) is { } tooLarge)
        {
            // Refuse before parsing: recursion depth in the parser and in every later stage follows these sizes.
            diagnostics.Add(tooLarge);
            return (new CompilationUnitSyntax(null, EquatableArray<DeclarationSyntax>.Empty, tooLarge.Span), diagnostics);
        }
        var parser = new StructMatParser(tokens);
        parser.RemoveErrorListeners();
        parser.AddErrorListener(listener);

        var tree = parser.compilationUnit();
        var unit = (CompilationUnitSyntax)new AstBuilder(tokens, diagnostics).Visit(tree);
        return (unit, diagnostics);
    }
}
