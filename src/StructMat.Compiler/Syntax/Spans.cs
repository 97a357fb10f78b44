using Antlr4.Runtime;
using StructMat.Compiler.Diagnostics;

namespace StructMat.Compiler.Syntax;

/// <summary>Source spans from ANTLR tokens and contexts (tokens never span lines in this grammar).</summary>
internal static class Spans
{
    public static SourceSpan Of(IToken token)
    {
        var length = token.Type == TokenConstants.EOF ? 0 : token.StopIndex - token.StartIndex + 1;
        var start = token.Type == TokenConstants.EOF ? token.StartIndex : token.StartIndex;
        return new SourceSpan(start < 0 ? 0 : start, length, token.Line - 1, token.Column, token.Line - 1, token.Column + length);
    }

    public static SourceSpan Of(ParserRuleContext context)
    {
        var start = Of(context.Start);
        var stop = context.Stop is null || context.Stop.StopIndex < context.Start.StartIndex ? start : Of(context.Stop);
        return start.Cover(stop);
    }
}
