using System.Collections.Generic;
using System.Linq;
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
        var strategy = new SmxErrorStrategy(diagnostics);
        var parser = new StructMatParser(tokens) { ErrorHandler = strategy };
        parser.RemoveErrorListeners();
        parser.AddErrorListener(listener);

        var tree = parser.compilationUnit();
        if (tokens.GetTokens().FirstOrDefault(t => t.Type == StructMatLexer.UNTERMINATED_COMMENT) is { } comment)
        {
            // What follows an unclosed '/*' is all comment, so the parser's complaints at the end of the file are its echo.
            foreach (var echo in strategy.AtEndOfFile) diagnostics.Remove(echo);
            var start = Spans.Of(comment);
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.SyntaxError, start with { Length = 2, EndLine = start.StartLine, EndColumn = start.StartColumn + 2 },
                "This comment is never closed: a comment that starts with '/*' ends at '*/'"));
        }
        DropEchoesOfBadCharacters(tokens.GetTokens(), diagnostics);
        var unit = (CompilationUnitSyntax)new AstBuilder(tokens, diagnostics, strategy.Truncated).Visit(tree);
        return (unit, diagnostics);
    }

    /// <summary>
    /// A character the lexer dropped (`dense @ lowrank(…)`) leaves the parser a gap it complains about too; the
    /// character's own message says it all, so a syntax error at the token after it goes.
    /// </summary>
    private static void DropEchoesOfBadCharacters(IList<IToken> tokens, List<Diagnostic> diagnostics)
    {
        var visible = tokens.Where(t => t.Channel == TokenConstants.DefaultChannel).ToList();
        foreach (var bad in diagnostics.Where(d => d.Id == DiagnosticDescriptors.UnexpectedCharacter.Id).ToList())
        {
            // Only the complaint about the token right after the character: one reported at the end of the token
            // before it (a missing ';') is a mistake of its own.
            var after = visible.FirstOrDefault(t => t.StartIndex >= bad.Span.End);
            if (after is null || after.Type == TokenConstants.EOF) continue;
            diagnostics.RemoveAll(d => d.Id == DiagnosticDescriptors.SyntaxError.Id && d.Span.Start == after.StartIndex);
        }
    }
}
