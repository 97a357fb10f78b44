using StructMat.Compiler.Diagnostics;

namespace StructMat.Compiler.Syntax;

// The AST: what the user wrote, with source spans, nothing resolved.
// Every node must be immutable and structurally equatable (the generator caches on equality).

public abstract record SyntaxNode(SourceSpan Span);

/// <summary><c>namespace N; declaration*</c>. <see cref="Namespace"/> is null when the file has none.</summary>
public sealed record CompilationUnitSyntax(string? Namespace, EquatableArray<DeclarationSyntax> Declarations, SourceSpan Span)
    : SyntaxNode(Span)
{
    /// <summary>Where the namespace's name is written (the start of the file when there is none).</summary>
    public SourceSpan NamespaceSpan { get; init; }
}

public abstract record DeclarationSyntax(string Name, SourceSpan NameSpan, string? Documentation, SourceSpan Span)
    : SyntaxNode(Span);

/// <summary><c>const name = value;</c></summary>
public sealed record ConstDeclarationSyntax(string Name, SourceSpan NameSpan, string? Documentation, ExpressionSyntax Value, SourceSpan Span)
    : DeclarationSyntax(Name, NameSpan, Documentation, Span);

/// <summary><c>layer Name : in -> out = body;</c></summary>
public sealed record LayerDeclarationSyntax(
    string Name, SourceSpan NameSpan, string? Documentation,
    ExpressionSyntax InFeatures, ExpressionSyntax OutFeatures, ExpressionSyntax Body, SourceSpan Span)
    : DeclarationSyntax(Name, NameSpan, Documentation, Span);

public abstract record ExpressionSyntax(SourceSpan Span) : SyntaxNode(Span);

/// <summary>An integer (<c>32</c>) or real (<c>2.0</c>) literal.</summary>
public sealed record NumberSyntax(string Text, double Value, bool IsInteger, SourceSpan Span) : ExpressionSyntax(Span);

/// <summary>A bare name: a constant, a structure without arguments (<c>dense</c>), or <c>bias</c>.</summary>
public sealed record NameSyntax(string Name, SourceSpan Span) : ExpressionSyntax(Span);

/// <summary><c>name(arguments)</c>: a structure with arguments.</summary>
public sealed record CallSyntax(string Name, SourceSpan NameSpan, EquatableArray<ArgumentSyntax> Arguments, SourceSpan Span)
    : ExpressionSyntax(Span);

/// <summary><c>-operand</c></summary>
public sealed record NegateSyntax(ExpressionSyntax Operand, SourceSpan Span) : ExpressionSyntax(Span);

/// <summary><c>frozen operand</c></summary>
public sealed record FrozenSyntax(ExpressionSyntax Operand, SourceSpan Span) : ExpressionSyntax(Span);

public enum BinaryOperator
{
    Multiply,
    Divide,
    Add,
    Subtract,
}

/// <summary><c>left op right</c> for <c>* / + -</c>.</summary>
public sealed record BinarySyntax(BinaryOperator Operator, SourceSpan OperatorSpan, ExpressionSyntax Left, ExpressionSyntax Right, SourceSpan Span)
    : ExpressionSyntax(Span);

public abstract record ArgumentSyntax(SourceSpan Span) : SyntaxNode(Span);

/// <summary><c>name: value</c></summary>
public sealed record NamedArgumentSyntax(string Name, SourceSpan NameSpan, ExpressionSyntax Value, SourceSpan Span) : ArgumentSyntax(Span);

/// <summary>A value without a name, such as <c>reverse</c> in <c>perm(reverse)</c>.</summary>
public sealed record PositionalArgumentSyntax(ExpressionSyntax Value, SourceSpan Span) : ArgumentSyntax(Span);

/// <summary><c>in -> out</c>, the explicit shape a primitive accepts as its first argument.</summary>
public sealed record ShapeArgumentSyntax(ExpressionSyntax InFeatures, ExpressionSyntax OutFeatures, SourceSpan Span) : ArgumentSyntax(Span);
