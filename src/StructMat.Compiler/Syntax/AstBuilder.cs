using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Antlr4.Runtime;
using StructMat.Compiler.Diagnostics;
using StructMat.Compiler.Syntax.Generated;

namespace StructMat.Compiler.Syntax;

/// <summary>
/// Turns the ANTLR parse tree into immutable AST records. After a syntax error ANTLR's recovery may
/// leave holes; those become <see cref="ErrorExpression"/> so binding can go on quietly.
/// </summary>
internal sealed class AstBuilder : StructMatBaseVisitor<SyntaxNode>
{
    private readonly BufferedTokenStream _tokens;
    private readonly List<Diagnostic> _diagnostics;
    private readonly ISet<ParserRuleContext> _truncated;

    public AstBuilder(BufferedTokenStream tokens, List<Diagnostic> diagnostics, ISet<ParserRuleContext> truncated)
    {
        _tokens = tokens;
        _diagnostics = diagnostics;
        _truncated = truncated;
    }

    // compilationUnit : namespaceDecl? declaration* EOF ;
    public override SyntaxNode VisitCompilationUnit(StructMatParser.CompilationUnitContext context)
    {
        var ns = context.namespaceDecl()?.qualifiedName();
        var name = ns is null ? null : string.Join(".", ns.IDENT().Select(t => t.GetText()));
        var declarations = context.declaration()
            .Select(d => (DeclarationSyntax?)Visit(d.GetChild(0)))
            .Where(d => d is not null && d.Name.Length > 0)
            .Select(d => d!)
            .ToEquatableArray();
        return new CompilationUnitSyntax(name, declarations, Spans.Of(context))
        {
            NamespaceSpan = ns is null ? new SourceSpan(0, 0, 0, 0, 0, 0) : Spans.Of(ns),
        };
    }

    // constDecl : 'const' name '=' expr ';' ;
    public override SyntaxNode VisitConstDecl(StructMatParser.ConstDeclContext context) =>
        new ConstDeclarationSyntax(
            NameOf(context.name, "constant"), SpanOf(context.name, context), DocumentationBefore(context.Start),
            Kept(context, context.expr()), Spans.Of(context));

    // layerDecl : 'layer' name ':' inDim=expr '->' outDim=expr '=' body=expr ';' ;
    public override SyntaxNode VisitLayerDecl(StructMatParser.LayerDeclContext context) =>
        new LayerDeclarationSyntax(
            NameOf(context.name, "layer"), SpanOf(context.name, context), DocumentationBefore(context.Start),
            Kept(context, context.inDim), Kept(context, context.outDim), Kept(context, context.body), Spans.Of(context));

    /// <summary>A declaration's name; a keyword there is reported once and kept as the name, so binding goes on.</summary>
    private string NameOf(IToken? name, string what)
    {
        if (name is null || name.TokenIndex < 0) return string.Empty;
        if (name.Type != StructMatLexer.IDENT)
        {
            // What the parser found where the name belongs; the parser reported it unless it is a keyword.
            if (name.Text is not ("namespace" or "const" or "layer" or "frozen")) return string.Empty;
            _diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.SyntaxError, Spans.Of(name),
                $"'{name.Text}' is a keyword and cannot name a {what}; pick another name"));
        }
        return name.Text;
    }

    /// <summary>
    /// A part of a declaration (its sizes, its value), unless the parser had to drop or invent tokens in the
    /// declaration: then what it kept is not what was written (`= 2 dense;` keeps `2`), and binding it would only add
    /// a second, misleading message. So a declaration with a syntax error is checked no further; the layer generates
    /// nothing either way.
    /// </summary>
    private ExpressionSyntax Kept(ParserRuleContext declaration, StructMatParser.ExprContext? part) =>
        _truncated.Contains(declaration) ? new ErrorExpression(part is null ? Spans.Of(declaration) : Spans.Of(part)) : Expression(part);

    // expr : '-' expr # negateExpr
    public override SyntaxNode VisitNegateExpr(StructMatParser.NegateExprContext context) =>
        new NegateSyntax(Expression(context.expr()), Spans.Of(context));

    // expr : 'frozen' expr # frozenExpr
    public override SyntaxNode VisitFrozenExpr(StructMatParser.FrozenExprContext context) =>
        new FrozenSyntax(Expression(context.expr()), Spans.Of(context));

    // expr : expr op=('*' | '/') expr # multiplicativeExpr
    public override SyntaxNode VisitMultiplicativeExpr(StructMatParser.MultiplicativeExprContext context) =>
        Binary(context.op, context.expr(0), context.expr(1), context,
            context.op.Text == "*" ? BinaryOperator.Multiply : BinaryOperator.Divide);

    // expr : expr op=('+' | '-') expr # additiveExpr
    public override SyntaxNode VisitAdditiveExpr(StructMatParser.AdditiveExprContext context) =>
        Binary(context.op, context.expr(0), context.expr(1), context,
            context.op.Text == "+" ? BinaryOperator.Add : BinaryOperator.Subtract);

    // expr : '(' expr ')' # parenExpr
    public override SyntaxNode VisitParenExpr(StructMatParser.ParenExprContext context) => Expression(context.expr());

    // expr : IDENT '(' argumentList? ')' # callExpr
    public override SyntaxNode VisitCallExpr(StructMatParser.CallExprContext context)
    {
        // After a syntax error ANTLR's recovery can leave an argument it could not parse: keep an error node in its place.
        var arguments = context.argumentList()?.argument()
                .Select(a => Visit(a) as ArgumentSyntax ?? new PositionalArgumentSyntax(new ErrorExpression(Spans.Of(a)), Spans.Of(a)))
                .ToEquatableArray()
            ?? EquatableArray<ArgumentSyntax>.Empty;
        return new CallSyntax(TextOf(context.IDENT()), SpanOf(context.IDENT(), context), arguments, Spans.Of(context));
    }

    // expr : IDENT # nameExpr
    public override SyntaxNode VisitNameExpr(StructMatParser.NameExprContext context) =>
        new NameSyntax(context.IDENT().GetText(), Spans.Of(context));

    // expr : INT # intExpr
    public override SyntaxNode VisitIntExpr(StructMatParser.IntExprContext context)
    {
        var text = context.GetText();
        if (!double.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value > long.MaxValue)
        {
            _diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.InvalidNumber, Spans.Of(context), text, "too large"));
            value = 0;
        }
        return new NumberSyntax(text, value, IsInteger: true, Spans.Of(context));
    }

    // expr : FLOAT # floatExpr
    public override SyntaxNode VisitFloatExpr(StructMatParser.FloatExprContext context)
    {
        var text = context.GetText();
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || double.IsInfinity(value))
        {
            _diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.InvalidNumber, Spans.Of(context), text, "out of range"));
            value = 0;
        }
        return new NumberSyntax(text, value, IsInteger: false, Spans.Of(context));
    }

    // argument : IDENT ':' expr # namedArgument
    public override SyntaxNode VisitNamedArgument(StructMatParser.NamedArgumentContext context) =>
        new NamedArgumentSyntax(TextOf(context.IDENT()), SpanOf(context.IDENT(), context), Expression(context.expr()), Spans.Of(context));

    // argument : IDENT '=' expr # assignedArgument — a mistake the grammar accepts so it is one clear message, and
    // binding goes on as if it were written `name: value` (no "unknown name" for the argument's name).
    public override SyntaxNode VisitAssignedArgument(StructMatParser.AssignedArgumentContext context)
    {
        var name = TextOf(context.IDENT());
        var equals = context.GetChild(1) is Antlr4.Runtime.Tree.ITerminalNode t ? Spans.Of(t.Symbol) : Spans.Of(context);
        var value = Expression(context.expr());
        _diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.SyntaxError, equals,
            $"Arguments are written `name: value`: write `{name}: {SyntaxText.Of(value)}`, with ':' instead of '='"));
        return new NamedArgumentSyntax(name, SpanOf(context.IDENT(), context), value, Spans.Of(context));
    }

    // argument : inDim=expr '->' outDim=expr # shapeArgument
    public override SyntaxNode VisitShapeArgument(StructMatParser.ShapeArgumentContext context) =>
        new ShapeArgumentSyntax(Expression(context.inDim), Expression(context.outDim), Spans.Of(context));

    // argument : expr # positionalArgument
    public override SyntaxNode VisitPositionalArgument(StructMatParser.PositionalArgumentContext context) =>
        new PositionalArgumentSyntax(Expression(context.expr()), Spans.Of(context));

    private BinarySyntax Binary(IToken op, StructMatParser.ExprContext left, StructMatParser.ExprContext right,
        ParserRuleContext context, BinaryOperator kind) =>
        new(kind, Spans.Of(op), Expression(left), Expression(right), Spans.Of(context));

    /// <summary>A missing or broken sub-tree (already reported by the parser) becomes an error node.</summary>
    private ExpressionSyntax Expression(StructMatParser.ExprContext? context)
    {
        if (context is null || context.exception is not null && context.ChildCount == 0)
        {
            return new ErrorExpression(context is null ? SourceSpan.None : Spans.Of(context));
        }
        return Visit(context) as ExpressionSyntax ?? new ErrorExpression(Spans.Of(context));
    }

    private static string TextOf(Antlr4.Runtime.Tree.ITerminalNode? node) =>
        node is null || node.Symbol.TokenIndex < 0 || node.Symbol.Type != StructMatParser.IDENT ? string.Empty : node.GetText();

    private static SourceSpan SpanOf(Antlr4.Runtime.Tree.ITerminalNode? node, ParserRuleContext fallback) =>
        node is null ? Spans.Of(fallback) : Spans.Of(node.Symbol);

    private static SourceSpan SpanOf(IToken? token, ParserRuleContext fallback) =>
        token is null || token.TokenIndex < 0 ? Spans.Of(fallback) : Spans.Of(token);

    /// <summary>The <c>///</c> lines directly before a declaration, without the slashes.</summary>
    private string? DocumentationBefore(IToken start)
    {
        var hidden = _tokens.GetHiddenTokensToLeft(start.TokenIndex);
        if (hidden is null) return null;
        var docs = hidden.Where(t => t.Type == StructMatLexer.DOC_COMMENT).ToList();
        if (docs.Count == 0) return null;
        var text = new StringBuilder();
        foreach (var token in docs)
        {
            if (text.Length > 0) text.Append('\n');
            text.Append(token.Text.Substring(3).Trim());
        }
        return text.ToString();
    }
}

/// <summary>Stands where the parser recovered from an error; binding skips it without new diagnostics.</summary>
public sealed record ErrorExpression(SourceSpan Span) : ExpressionSyntax(Span);
