using System.Collections.Generic;
using System.IO;
using Antlr4.Runtime;
using StructMat.Compiler.Diagnostics;

namespace StructMat.Compiler.Syntax;

/// <summary>
/// Replaces ANTLR's console listeners: every lexer and parser error becomes one catalogued
/// diagnostic at the offending token, and parsing goes on so one build reports every problem.
/// </summary>
internal sealed class SyntaxErrorListener : IAntlrErrorListener<IToken>, IAntlrErrorListener<int>
{
    private readonly List<Diagnostic> _diagnostics;

    public SyntaxErrorListener(List<Diagnostic> diagnostics) => _diagnostics = diagnostics;

    // Parser errors.
    public void SyntaxError(TextWriter output, IRecognizer recognizer, IToken offendingSymbol, int line, int charPositionInLine,
        string msg, RecognitionException e)
    {
        var span = offendingSymbol is null
            ? new SourceSpan(0, 0, line - 1, charPositionInLine, line - 1, charPositionInLine)
            : Spans.Of(offendingSymbol);
        _diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.SyntaxError, span, msg));
    }

    // Lexer errors: ANTLR says "token recognition error at: 'x'"; report the character itself.
    public void SyntaxError(TextWriter output, IRecognizer recognizer, int offendingSymbol, int line, int charPositionInLine,
        string msg, RecognitionException e)
    {
        var lexer = (Lexer)recognizer;
        var start = lexer.TokenStartCharIndex;
        var stop = lexer.InputStream.Index;
        var text = ((ICharStream)lexer.InputStream).GetText(Antlr4.Runtime.Misc.Interval.Of(start, stop));
        var shown = text.Length == 0 ? "end of file" : "'" + text.Replace("\n", "\\n").Replace("\r", "\\r") + "'";
        var span = new SourceSpan(start, System.Math.Max(1, text.Length), line - 1, charPositionInLine, line - 1, charPositionInLine + System.Math.Max(1, text.Length));
        _diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.UnexpectedCharacter, span, shown));
    }
}
