using System.Linq;
using StructMat.Compiler.Diagnostics;
using StructMat.Compiler.Syntax;

namespace StructMat.Compiler.Semantics;

/// <summary>
/// What a structure's shape rule sees (<see cref="Structures.Structure.Bind"/>): the resolved shape, its arguments,
/// and the checks shape rules share, each reporting at the exact place with the catalogued diagnostic.
/// </summary>
public sealed class StructureBinding
{
    private readonly Binder _binder;
    private readonly Binder.Arguments _arguments;

    internal StructureBinding(Binder binder, PrimitiveSpec spec, Binder.Arguments arguments, MatrixShape shape, SourceSpan span, bool frozen, bool adapterTerm)
    {
        _binder = binder;
        _arguments = arguments;
        Spec = spec;
        Shape = shape;
        Span = span;
        Frozen = frozen;
        AdapterTerm = adapterTerm;
    }

    public PrimitiveSpec Spec { get; }

    public MatrixShape Shape { get; }

    /// <summary>The whole call, where shape problems are reported.</summary>
    public SourceSpan Span { get; }

    public bool Frozen { get; }

    /// <summary>A term of a sum that also has a frozen term (LoRA's convention: such a low-rank update starts at zero).</summary>
    public bool AdapterTerm { get; }

    public bool Has(string argument) => _arguments.Values.ContainsKey(argument);

    /// <summary>Where an argument is written, or the call when it is absent.</summary>
    public SourceSpan SpanOf(string argument) => _arguments.Values.TryGetValue(argument, out var a) ? a.Span : Span;

    /// <summary>A positive 32-bit integer argument; null when absent or after reporting.</summary>
    public int? Integer(string argument) =>
        _arguments.Values.TryGetValue(argument, out var a) ? _binder.EvaluateDimension(a.Value, $"{Spec.Name}: '{argument}'") : null;

    /// <summary>An option argument (one of its spec's words); null after reporting SMX0124.</summary>
    public string? Option(string argument)
    {
        var options = Spec.Find(argument)!.Options;
        var (value, span) = _arguments.Values[argument];
        if (value is NameSyntax word && options.Contains(word.Name)) return word.Name;
        Report(DiagnosticDescriptors.UnknownOption, span, $"{Spec.Name}: '{argument}'", value is NameSyntax n ? n.Name : "this value", string.Join(", ", options));
        return null;
    }

    /// <summary>The optional <c>seed</c> argument: a non-negative 32-bit integer, or null when absent. False after reporting.</summary>
    public bool TrySeed(out int? seed) => TryNonNegative("seed", out seed);

    /// <summary>An optional argument that is a non-negative 32-bit integer, or null when absent. False after reporting SMX0125.</summary>
    public bool TryNonNegative(string argument, out int? result)
    {
        result = null;
        if (!_arguments.Values.TryGetValue(argument, out var written)) return true;
        if (_binder.Evaluate(written.Value, report: true) is not { } value) return false;
        if (!value.IsInteger || value.Value < 0 || value.Value > int.MaxValue)
        {
            Report(DiagnosticDescriptors.NotInteger, written.Span, $"{Spec.Name}: '{argument}'", value);
            return false;
        }
        result = (int)value.Value;
        return true;
    }

    /// <summary>Whether <paramref name="value"/> lies in [<paramref name="low"/>, <paramref name="high"/>]; SMX0132 at the argument otherwise.</summary>
    public bool InRange(string argument, int value, int low, int high, string meaning)
    {
        if (value >= low && value <= high) return true;
        Report(DiagnosticDescriptors.ArgumentOutOfRange, SpanOf(argument), $"{Spec.Name}: '{argument}'", $"from {low} to {high} ({meaning})", value);
        return false;
    }

    /// <summary>Whether <paramref name="blocks"/> divides both sides (as a block count, or with <paramref name="asBlockSize"/> a block size); SMX0103 otherwise.</summary>
    public bool Divides(int blocks, SourceSpan at, bool asBlockSize = false)
    {
        foreach (var (side, size) in new[] { ("input", Shape.In), ("output", Shape.Out) })
        {
            if (size % blocks == 0) continue;
            Report(DiagnosticDescriptors.BlocksDoNotDivide, at, Spec.Name, asBlockSize ? $"blocks of size {blocks}" : $"{blocks} blocks", side, size);
            return false;
        }
        return true;
    }

    /// <summary>Parameter tensors are indexed with 32-bit ints everywhere (CPU spans, ILGPU views); SMX0118 otherwise.</summary>
    public bool FitsIndex(long elements)
    {
        if (elements <= int.MaxValue) return true;
        Report(DiagnosticDescriptors.IntegerOverflow, Span, $"A parameter tensor of {Spec.Name}", elements);
        return false;
    }

    public void Report(DiagnosticDescriptor descriptor, SourceSpan at, params object[] args) => _binder.ReportAt(descriptor, at, args);
}
