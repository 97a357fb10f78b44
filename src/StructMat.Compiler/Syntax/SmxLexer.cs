using Antlr4.Runtime;
using StructMat.Compiler.Syntax.Generated;

namespace StructMat.Compiler.Syntax;

/// <summary>
/// The generated lexer with one change: ANTLR's own error message for an unrecognised character
/// throws on a lone UTF-16 surrogate (half of an emoji), so report without building that message;
/// <see cref="SyntaxErrorListener"/> renders the character itself.
/// </summary>
internal sealed class SmxLexer : StructMatLexer
{
    public SmxLexer(ICharStream input)
        : base(input)
    {
    }

    public override void NotifyListeners(LexerNoViableAltException e) =>
        ErrorListenerDispatch.SyntaxError(ErrorOutput, this, 0, TokenStartLine, TokenStartColumn, "unrecognised character", e);
}
