using System;
using System.Linq;
using Antlr4.Runtime;
using Antlr4.Runtime.Misc;
using StructMat.Compiler.Diagnostics;
using StructMat.Compiler.Syntax.Generated;

namespace StructMat.Compiler.Syntax;

/// <summary>
/// ANTLR's recovery with StructMat's words: every syntax error says what the construct needs at that point, in
/// the user's terms (the input size, an operand after '+', ';' to end the layer), what was found instead, and an
/// example of the construct. ANTLR's own texts ("mismatched input … expecting {…}") never reach a user.
/// </summary>
internal sealed class SmxErrorStrategy : DefaultErrorStrategy
{
    private readonly System.Collections.Generic.List<Diagnostic> _diagnostics;

    public SmxErrorStrategy(System.Collections.Generic.List<Diagnostic> diagnostics) => _diagnostics = diagnostics;

    /// <summary>The errors whose offending token is the end of the file (after an unclosed comment, its echo).</summary>
    public System.Collections.Generic.List<Diagnostic> AtEndOfFile { get; } = new();

    public override void ReportError(Parser recognizer, RecognitionException e)
    {
        if (InErrorRecoveryMode(recognizer)) return;
        BeginErrorCondition(recognizer);
        Report(recognizer, e.OffendingToken, e.GetExpectedTokens(), e);
    }

    // An extra token ANTLR deletes (its "extraneous input").
    protected override void ReportUnwantedToken(Parser recognizer)
    {
        if (InErrorRecoveryMode(recognizer)) return;
        BeginErrorCondition(recognizer);
        Report(recognizer, recognizer.CurrentToken, GetExpectedTokens(recognizer), null);
    }

    // A token ANTLR pretends was there (its "missing X at Y").
    protected override void ReportMissingToken(Parser recognizer)
    {
        if (InErrorRecoveryMode(recognizer)) return;
        BeginErrorCondition(recognizer);
        Report(recognizer, recognizer.CurrentToken, GetExpectedTokens(recognizer), null);
    }

    /// <summary>The declarations with a syntax error (namespace included): what the parser kept of them is not what was written.</summary>
    public System.Collections.Generic.HashSet<ParserRuleContext> Truncated { get; } = new();

    private void Report(Parser parser, IToken found, IntervalSet expected, RecognitionException? e)
    {
        ParserRuleContext? declaration = null;
        for (RuleContext? c = parser.Context; c is not null; c = c.Parent)
        {
            if (c is StructMatParser.LayerDeclContext or StructMatParser.ConstDeclContext or StructMatParser.NamespaceDeclContext)
            {
                declaration = (ParserRuleContext)c;
            }
        }
        // One syntax error per declaration: after the first, ANTLR's recovery inside it (a call within a call) yields
        // complaints about tokens that are fine as written, and the declaration is checked no further anyway.
        if (declaration is not null && !Truncated.Add(declaration)) return;
        var (message, span) = SyntaxMessages.Describe((StructMatParser)parser, found, expected);
        var diagnostic = Diagnostic.Create(DiagnosticDescriptors.SyntaxError, span ?? Spans.Of(found), message);
        // Recovery can meet the same spot twice (an inner and an enclosing decision); one message is enough.
        if (_diagnostics.Any(d => d.Id == diagnostic.Id && d.Span.Start == diagnostic.Span.Start)) return;
        _diagnostics.Add(diagnostic);
        if (found.Type == TokenConstants.EOF) AtEndOfFile.Add(diagnostic);
    }
}

/// <summary>The words of <see cref="SmxErrorStrategy"/>: what is expected where, and what was found.</summary>
internal static class SyntaxMessages
{
    private const string LayerExample = "layer Name : 64 -> 64 = lowrank(rank: 8) + bias;";
    private const string ConstExample = "const width = 64;";
    private const string NamespaceExample = "namespace App.Layers;";

    private static readonly string[] Keywords = { "namespace", "const", "layer", "frozen" };

    /// <summary>
    /// The message for a syntax error at <paramref name="found"/>, and where to report it when that is not the
    /// found token (a missing ';' is reported right after the token before it, as C# does).
    /// </summary>
    public static (string Message, SourceSpan? Span) Describe(StructMatParser parser, IToken found, IntervalSet expected)
    {
        var tokens = (ITokenStream)parser.InputStream;
        var previous = PreviousToken(tokens, found);
        bool Expects(string literal) => expected.Contains(TypeOf(literal));
        var expectsExpression = expected.Contains(StructMatLexer.IDENT) && expected.Contains(StructMatLexer.INT);
        var what = Found(found);
        var after = previous is null ? null : Found(previous);
        SourceSpan? afterPrevious = previous is null ? null : EndOf(previous);

        // The declaration being parsed comes from the parser's rule stack; what is open inside it (a call's arguments,
        // a parenthesis) comes from the tokens, because ANTLR may report an error inside `lowrank(…)` at the decision
        // of an enclosing `kron(…)`, whose context says nothing of the inner call.
        StructMatParser.LayerDeclContext? layer = null;
        StructMatParser.ConstDeclContext? constant = null;
        ParserRuleContext? declarationContext = null;
        var inNamespace = false;
        for (RuleContext? c = parser.Context; c is not null; c = c.Parent)
        {
            switch (c)
            {
                case StructMatParser.LayerDeclContext l: layer = l; declarationContext = l; break;
                case StructMatParser.ConstDeclContext k: constant = k; declarationContext = k; break;
                case StructMatParser.NamespaceDeclContext n: inNamespace = true; declarationContext = n; break;
            }
        }
        var open = declarationContext is null ? null : InnermostOpen(tokens, declarationContext.Start.TokenIndex, found.TokenIndex);
        var callToken = open is null ? null : PreviousToken(tokens, open);
        var callName = callToken?.Type == StructMatLexer.IDENT ? callToken.Text : null;
        var openAt = open is null ? "" : $"{open.Line}:{open.Column + 1}";
        // `name:` right before the error, inside a call: the value of a named argument is missing.
        var beforePrevious = previous is null ? null : PreviousToken(tokens, previous);
        var argumentName = callName is not null && previous?.Text is ":" or "=" && beforePrevious?.Type == StructMatLexer.IDENT ? beforePrevious.Text : null;
        var operandFollows = IsOperandStart(found);

        // The name as written: a name or a keyword in its place, and not the token the error is at.
        string? NameIn(IToken? token) =>
            token is { TokenIndex: >= 0 } t && t.TokenIndex != found.TokenIndex && (t.Type == StructMatLexer.IDENT || IsKeyword(t.Text)) ? t.Text : null;
        var layerName = NameIn(layer?.name);
        var constantName = NameIn(constant?.name);
        var declaration = layer is not null ? (layerName is null ? "the layer declaration" : $"layer '{layerName}'")
            : constant is not null ? (constantName is null ? "the constant declaration" : $"constant '{constantName}'") : null;

        // A keyword where a namespace part belongs (layer and constant names take keywords in the grammar, so the AST
        // builder reports those).
        if (inNamespace && expected.Contains(StructMatLexer.IDENT) && IsKeyword(found.Text))
        {
            return ($"'{found.Text}' is a keyword and cannot be part of a namespace name; pick another name", null);
        }

        // A declaration without its name.
        if (previous?.Text is "layer" or "const" && (layer is not null || constant is not null) && expected.Contains(StructMatLexer.IDENT))
        {
            return previous.Text == "layer"
                ? ($"Expected the layer's name after 'layer', but found {what}, as in `{LayerExample}`", null)
                : ($"Expected the constant's name after 'const', but found {what}, as in `{ConstExample}`", null);
        }

        // ── The top level: declarations. ──
        if (layer is null && constant is null && !inNamespace)
        {
            if (found.Text == "namespace")
                return ("The namespace declaration must come first, before every layer and constant", null);
            if (found.Type == StructMatLexer.IDENT && new[] { "layer", "const", "namespace" }.FirstOrDefault(k => LooksLike(found.Text, k)) is { } keyword)
            {
                var example = keyword switch { "const" => ConstExample, "namespace" => NamespaceExample, _ => LayerExample };
                return ($"Unknown word '{found.Text}' where a declaration starts: did you mean '{keyword}'? Keywords are lower case, as in `{example}`", null);
            }
            return ($"Expected a declaration — `{LayerExample}` or `{ConstExample}` — but found {what}", null);
        }

        // ── namespace App.Layers; ──
        if (inNamespace)
        {
            if (previous?.Text is "namespace" or ".")
                return ($"Expected a name after '{previous.Text}', but found {what}, as in `{NamespaceExample}`", null);
            if (found.Type == StructMatLexer.IDENT)
                return ($"Namespace parts are joined by '.', as in `{NamespaceExample}`; found {what} after {after}", null);
            return ($"Expected ';' to end the namespace declaration, as in `{NamespaceExample}`", afterPrevious);
        }

        // ── An operand after an operator or 'frozen', anywhere. ──
        if (IsOperator(previous) && !operandFollows)
            return ($"Expected an operand after '{previous!.Text}', but found {what}, as in `dense + lowrank(rank: 8)` or `2.0 * dense`", null);
        if (previous?.Text == "frozen" && !operandFollows)
            return ($"Expected a structure after 'frozen', but found {what}, as in `frozen dense`", null);

        // ── Arguments: lowrank(rank: 8), dense(64 -> 32). ──
        if (callName is not null)
        {
            if (argumentName is not null && previous!.Text == "=")
                return ($"Arguments are written `name: value`: write `{argumentName}: …` with ':' instead of '=', as in `rank: 8`", null);
            if (argumentName is not null && !operandFollows)
                return ($"Expected the value of '{argumentName}' after ':', but found {what}, as in `rank: 8`", null);
            if (previous?.Text == "," && !operandFollows)
                return ($"Expected an argument after ',' in {callName}(…), but found {what}, as in `blocksparse(block: 32, pattern: butterfly)`", null);
            if (previous?.Text == "->" && !operandFollows)
                return ($"Expected the output size after '->' in {callName}(…), but found {what}, as in `dense(64 -> 32)`", null);
            if (previous?.TokenIndex == open!.TokenIndex)
            {
                if (!operandFollows)
                    return ($"Expected an argument or ')' after '{callName}(', but found {what}, as in `lowrank(rank: 8)`", null);
            }
            else if (EndsOperand(previous))
            {
                return found.Type == TokenConstants.EOF || found.Text is ";" or "layer" or "const" or "namespace"
                    ? ($"The arguments of {callName}(…) opened at {openAt} are not closed: expected ')' before {what}", afterPrevious)
                    : ($"Expected ',' between arguments or ')' to close {callName}(…) opened at {openAt}, but found {what}; arguments are written `name: value`, as in `lowrank(rank: 8)`", null);
            }
        }

        // ── ( … ) ──
        if (open is not null && callName is null)
        {
            if (found.Text == ":" && previous?.Type == StructMatLexer.IDENT)
                return ($"'{previous.Text}:' names an argument, which goes directly inside a call's parentheses, as in `lowrank(rank: 8)`", null);
            if (previous?.TokenIndex == open.TokenIndex && !operandFollows)
                return ($"Expected an expression after '(', but found {what}, as in `(dense + lowrank(rank: 8)) * diag()`", null);
            if (EndsOperand(previous))
                return ($"The '(' at {openAt} is not closed: expected ')' (or an operator) before {what}",
                    found.Type == TokenConstants.EOF || found.Text is ";" or "layer" or "const" or "namespace" ? afterPrevious : null);
        }

        // ── A value where a declaration needs one. ──
        if (expectsExpression && open is null)
        {
            if (layer is not null)
            {
                return previous?.Text switch
                {
                    ":" => ($"Expected the input size of {declaration} after ':', but found {what}, as in `{LayerExample}`", null),
                    "->" => ($"Expected the output size of {declaration} after '->', but found {what}, as in `{LayerExample}`", null),
                    _ => ($"Expected the structure of {declaration} after '=', but found {what}, as in `{LayerExample}`", null),
                };
            }
            if (constant is not null)
                return ($"Expected the value of {declaration} after '=', but found {what}, as in `{ConstExample}`", null);
        }

        // ── The fixed parts of a declaration. ──
        if (layer is not null)
        {
            if (Expects(":"))
                return ($"Expected ':' and the shape after the layer's name, but found {what}, as in `{LayerExample}`", null);
            if (Expects("->"))
                return found.Text == "="
                    ? ($"The shape of {declaration} needs an input and an output size, 'in -> out', as in `{LayerExample}`", null)
                    : ($"Expected '->' between the input and output sizes of {declaration}, but found {what}, as in `{LayerExample}`", null);
            if (Expects("="))
                return ($"Expected '=' and the structure after the shape of {declaration}, but found {what}, as in `{LayerExample}`", null);
            if (Expects(";"))
                return Missing(declaration!, previous, found, what, after, afterPrevious);
        }
        if (constant is not null)
        {
            if (Expects("="))
                return ($"Expected '=' and a value after the constant's name, but found {what}: constants are written `{ConstExample}`", null);
            if (Expects(";"))
                return Missing(declaration!, previous, found, what, after, afterPrevious);
        }

        // Whatever is left (no recovery path of this grammar is known to reach here) still reads as words.
        return ($"Unexpected {what}{(declaration is null ? "" : " in " + declaration)}", null);
    }

    private static (string, SourceSpan?) Missing(string declaration, IToken? previous, IToken found, string what, string? after, SourceSpan? afterPrevious)
    {
        if (previous is { Type: StructMatLexer.INT or StructMatLexer.FLOAT } && found.Type == StructMatLexer.IDENT)
        {
            return ($"A scale is written with '*': `{previous.Text} * {found.Text}`", null);
        }
        if (found.Type == StructMatLexer.IDENT || found.Type == StructMatLexer.INT || found.Type == StructMatLexer.FLOAT || found.Text == "(")
        {
            return ($"Expected an operator or ';' after {after}, but found {what}: terms are joined by '+' (a sum) or '*' (a product), and ';' ends {declaration}", null);
        }
        if (found.Text == ")")
            return ($"This ')' closes nothing: there is no open '(' before it in {declaration}; delete it", null);
        var example = declaration.StartsWith("constant", StringComparison.Ordinal) || declaration.StartsWith("the constant", StringComparison.Ordinal) ? ConstExample : LayerExample;
        return ($"Expected ';' to end {declaration}, but found {what}, as in `{example}`", found.Type == TokenConstants.EOF || found.Text is "layer" or "const" ? afterPrevious : null);
    }

    /// <summary>A token as a message names it.</summary>
    public static string Found(IToken token) => token.Type switch
    {
        TokenConstants.EOF => "the end of the file",
        StructMatLexer.IDENT => $"the name '{token.Text}'",
        StructMatLexer.INT or StructMatLexer.FLOAT => $"the number {token.Text}",
        _ => IsKeyword(token.Text) ? $"the keyword '{token.Text}'" : $"'{token.Text}'",
    };

    private static bool IsKeyword(string text) => Array.IndexOf(Keywords, text) >= 0;

    private static bool IsOperator(IToken? token) => token?.Text is "+" or "-" or "*" or "/";

    /// <summary>Whether an operand can start with this token (a name, a number, '(', a prefix '-' or 'frozen').</summary>
    private static bool IsOperandStart(IToken token) =>
        token.Type is StructMatLexer.IDENT or StructMatLexer.INT or StructMatLexer.FLOAT || token.Text is "(" or "-" or "frozen";

    /// <summary>Whether an operand can end with this token (a name, a number, ')').</summary>
    private static bool EndsOperand(IToken? token) =>
        token is not null && (token.Type is StructMatLexer.IDENT or StructMatLexer.INT or StructMatLexer.FLOAT || token.Text == ")");

    /// <summary>The innermost '(' between two tokens that no ')' closes before the second.</summary>
    private static IToken? InnermostOpen(ITokenStream tokens, int from, int before)
    {
        var depth = 0;
        for (var i = before - 1; i >= from && i >= 0; i--)
        {
            var t = tokens.Get(i);
            if (t.Channel != TokenConstants.DefaultChannel) continue;
            if (t.Text == ")") depth++;
            else if (t.Text == "(" && depth-- == 0) return t;
        }
        return null;
    }

    /// <summary>A misspelt keyword: another case, or one letter added, dropped, changed or swapped.</summary>
    private static bool LooksLike(string word, string keyword) =>
        string.Equals(word, keyword, StringComparison.OrdinalIgnoreCase)
        || word.Length >= 4 && Spelling.Distance(word.ToLowerInvariant(), keyword) <= 1;

    private static IToken? PreviousToken(ITokenStream tokens, IToken found)
    {
        for (var i = found.TokenIndex - 1; i >= 0; i--)
        {
            var t = tokens.Get(i);
            if (t.Channel == TokenConstants.DefaultChannel) return t;
        }
        return null;
    }

    /// <summary>The empty span right after a token: where a missing ';' or ')' belongs.</summary>
    private static SourceSpan EndOf(IToken token)
    {
        var span = Spans.Of(token);
        return new SourceSpan(span.Start + span.Length, 0, span.EndLine, span.EndColumn, span.EndLine, span.EndColumn);
    }

    private static int TypeOf(string literal)
    {
        var quoted = "'" + literal + "'";
        var vocabulary = StructMatLexer.DefaultVocabulary;
        for (var type = 1; vocabulary.GetSymbolicName(type) is not null || vocabulary.GetLiteralName(type) is not null; type++)
        {
            if (vocabulary.GetLiteralName(type) == quoted) return type;
        }
        throw new ArgumentException($"No token {quoted} in the grammar", nameof(literal));
    }
}
