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
    private Diagnostic? _highSurrogate;
    private string _highSurrogateText = "";

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
        var input = (ICharStream)lexer.InputStream;
        var start = lexer.TokenStartCharIndex;
        var text = input.GetText(Antlr4.Runtime.Misc.Interval.Of(start, input.Index));

        // The stream is UTF-16: a character outside the BMP arrives as two errors, one per surrogate. Merge them.
        if (_highSurrogate is { } high && high.Span.End == start && text.Length == 1 && char.IsLowSurrogate(text[0]))
        {
            var pair = _highSurrogateText + text;
            _diagnostics[_diagnostics.Count - 1] = Diagnostic.Create(DiagnosticDescriptors.UnexpectedCharacter,
                high.Span with { Length = 2, EndColumn = high.Span.EndColumn + 1 }, Display(pair));
            _highSurrogate = null;
            return;
        }

        var length = System.Math.Max(1, text.Length);
        var span = new SourceSpan(start, length, line - 1, charPositionInLine, line - 1, charPositionInLine + length);
        var diagnostic = Diagnostic.Create(DiagnosticDescriptors.UnexpectedCharacter, span, Display(text));
        _diagnostics.Add(diagnostic);
        (_highSurrogate, _highSurrogateText) = text.Length == 1 && char.IsHighSurrogate(text[0]) ? (diagnostic, text) : (null, "");
    }

    /// <summary>A character as the message shows it: quoted; control characters and lone surrogates as U+XXXX.</summary>
    private static string Display(string text)
    {
        if (text.Length == 0) return "end of file";
        if (text.Length == 2 && char.IsSurrogatePair(text[0], text[1]))
        {
            return $"'{text}' (U+{char.ConvertToUtf32(text[0], text[1]):X4})";
        }
        var c = text[0];
        return char.IsControl(c) || char.IsSurrogate(c) ? $"U+{(int)c:X4}" : "'" + text + "'";
    }
}
