using System.Collections.Generic;
using System.Globalization;
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
                high.Span with { Length = 2, EndColumn = high.Span.EndColumn + 1 }, Display(pair), "");
            _highSurrogate = null;
            return;
        }

        var length = System.Math.Max(1, text.Length);
        var span = new SourceSpan(start, length, line - 1, charPositionInLine, line - 1, charPositionInLine + length);
        var diagnostic = Diagnostic.Create(DiagnosticDescriptors.UnexpectedCharacter, span, Display(text), Hint(text));
        _diagnostics.Add(diagnostic);
        (_highSurrogate, _highSurrogateText) = text.Length == 1 && char.IsHighSurrogate(text[0]) ? (diagnostic, text) : (null, "");
    }

    /// <summary>What the character usually means, and how StructMat writes it; invisible ones say what they are.</summary>
    private static string Hint(string text)
    {
        switch (text)
        {
            case "@": return ": a product is written with '*', as in `monarch(blocks: 4) * lowrank(rank: 8)`";
            case "#": return ": comments start with '//'";
            case "[" or "]": return ": a shape is written `in -> out`, as in `dense(64 -> 32)`";
            case "\"" or "'": return ": names and options are written without quotes, as in `perm(reverse)`";
        }
        if (text.Length != 1) return "";
        var c = text[0];
        return CharUnicodeInfo.GetUnicodeCategory(c) switch
        {
            _ when char.IsSurrogate(c) => ": half of a character outside the Basic Multilingual Plane; names use letters within it",
            UnicodeCategory.Format => ": an invisible formatting character (often pasted with text); delete it",
            UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
                => ": a space other than the ASCII one; use a plain space",
            UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.SpacingCombiningMark
                => ": a combining mark with no letter before it",
            UnicodeCategory.DecimalDigitNumber => ": numbers are written with the digits 0–9",
            UnicodeCategory.OtherNotAssigned => ": not a character; delete it",
            UnicodeCategory.Control => ": a control character; delete it",
            _ => "",
        };
    }

    /// <summary>
    /// A character as the message shows it: quoted when it is visible; control, formatting and space characters,
    /// combining marks, non-characters and lone surrogates as U+XXXX.
    /// </summary>
    private static string Display(string text)
    {
        if (text.Length == 0) return "end of file";
        if (text.Length == 2 && char.IsSurrogatePair(text[0], text[1]))
        {
            return $"'{text}' (U+{char.ConvertToUtf32(text[0], text[1]):X4})";
        }
        var c = text[0];
        var invisible = char.IsControl(c) || char.IsSurrogate(c) || CharUnicodeInfo.GetUnicodeCategory(c) is
            UnicodeCategory.Format or UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
            or UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.OtherNotAssigned;
        return invisible ? $"U+{(int)c:X4}" : "'" + text + "'";
    }
}
