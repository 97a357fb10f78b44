using System;
using System.Globalization;

namespace StructMat.Compiler.Diagnostics;

public enum Severity
{
    Warning,
    Error,
}

/// <summary>A catalogued problem: an SMX id, a message format and a default severity.</summary>
public sealed record DiagnosticDescriptor(string Id, string Title, string MessageFormat, Severity Severity, string Stage);

/// <summary>One reported problem at a place in an .smx file. Immutable and equatable.</summary>
public sealed record Diagnostic(string Id, string Message, Severity Severity, SourceSpan Span)
{
    public static Diagnostic Create(DiagnosticDescriptor descriptor, SourceSpan span, params object[] args) =>
        new(descriptor.Id, string.Format(CultureInfo.InvariantCulture, descriptor.MessageFormat, args), descriptor.Severity, span);

    public bool IsError => Severity == Severity.Error;

    /// <summary>The compiler-style rendering, <c>file.smx(3,28): error SMX0103: …</c>.</summary>
    public string Format(string path) =>
        $"{path}{Span}: {(IsError ? "error" : "warning")} {Id}: {Message}";

    public override string ToString() => Format(string.Empty);
}
