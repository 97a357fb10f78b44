using System;
using System.Collections.Generic;
using System.Linq;
using StructMat.Compiler.Diagnostics;
using StructMat.Compiler.Structures;
using StructMat.Compiler.Syntax;

namespace StructMat.Compiler.Semantics;

/// <summary>
/// Resolves names and constants and checks shapes. Shapes flow both ways: the layer's declared
/// <c>in -> out</c> flows down; explicit shapes and square-only structures flow up (see
/// <see cref="ShapeProbe"/>) to fix the middle dimension of a product. Every problem is reported
/// at its exact place and binding goes on, so one build shows every error.
/// </summary>
public sealed partial class Binder
{
    private const string DefaultNamespace = "StructMat.Generated";

    private readonly List<Diagnostic> _diagnostics = new();
    private readonly Dictionary<string, NumberValue?> _constants = new(StringComparer.Ordinal);

    private Binder()
    {
    }

    public static (BoundFile File, IReadOnlyList<Diagnostic> Diagnostics) Bind(CompilationUnitSyntax unit)
    {
        var binder = new Binder();
        var layers = binder.BindDeclarations(unit);
        return (new BoundFile(unit.Namespace ?? DefaultNamespace, layers.ToEquatableArray()), binder._diagnostics);
    }

    private List<BoundLayer> BindDeclarations(CompilationUnitSyntax unit)
    {
        var layers = new List<BoundLayer>();
        var declared = new HashSet<string>(StringComparer.Ordinal);
        foreach (var declaration in unit.Declarations)
        {
            if (!declared.Add(declaration.Name) || StructureRegistry.Spec(declaration.Name) is not null || declaration.Name == CoreForms.Bias)
            {
                Report(DiagnosticDescriptors.DuplicateDeclaration, declaration.NameSpan, declaration.Name);
                continue;
            }
            switch (declaration)
            {
                case ConstDeclarationSyntax constant:
                    // Constants see the constants declared above them; a failed one is recorded as null so uses stay quiet.
                    _constants[constant.Name] = Evaluate(constant.Value, report: true);
                    break;
                case LayerDeclarationSyntax layer:
                    // A layer with any error is not bound, even where binding could go on (a second bias), so it generates nothing.
                    var errorsBefore = _diagnostics.Count(d => d.IsError);
                    if (BindLayer(layer) is { } bound && _diagnostics.Count(d => d.IsError) == errorsBefore) layers.Add(bound);
                    break;
            }
        }
        return layers;
    }

    // layer Name : in -> out = term (+ term)* (+ bias)? ;
    private BoundLayer? BindLayer(LayerDeclarationSyntax layer)
    {
        var inFeatures = EvaluateDimension(layer.InFeatures, "the layer's input size");
        var outFeatures = EvaluateDimension(layer.OutFeatures, "the layer's output size");

        var terms = new List<(ExpressionSyntax Term, bool Negated)>();
        FlattenSum(layer.Body, negated: false, terms);
        var biasTerms = terms.Where(t => IsBias(t.Term)).ToList();
        var matrixTerms = terms.Where(t => !IsBias(t.Term)).ToList();
        foreach (var extra in biasTerms.Skip(1))
        {
            Report(DiagnosticDescriptors.MisplacedBias, extra.Term.Span, "here it appears a second time");
        }
        foreach (var negated in biasTerms.Take(1).Where(t => t.Negated))
        {
            Report(DiagnosticDescriptors.MisplacedBias, negated.Term.Span, "it cannot be subtracted");
        }
        if (matrixTerms.Count == 0)
        {
            Report(DiagnosticDescriptors.MisplacedBias, layer.Body.Span, "a layer needs a structure besides the bias");
            return null;
        }
        if (inFeatures is null || outFeatures is null)
        {
            return null;
        }

        var shape = new MatrixShape(inFeatures.Value, outFeatures.Value);
        var body = BindSum(matrixTerms, shape.In, shape.Out, frozen: false, layer.Body.Span);
        return body is null
            ? null
            : new BoundLayer(layer.Name, layer.Documentation, shape, body, HasBias: biasTerms.Count > 0, layer.NameSpan, layer.Span);
    }

    private static bool IsBias(ExpressionSyntax syntax) => syntax is NameSyntax { Name: CoreForms.Bias };

    private void FlattenSum(ExpressionSyntax syntax, bool negated, List<(ExpressionSyntax, bool)> terms)
    {
        if (syntax is BinarySyntax { Operator: BinaryOperator.Add or BinaryOperator.Subtract } sum && !IsNumeric(sum))
        {
            FlattenSum(sum.Left, negated, terms);
            FlattenSum(sum.Right, sum.Operator == BinaryOperator.Subtract ? !negated : negated, terms);
            return;
        }
        terms.Add((syntax, negated));
    }

    private BoundExpression? BindSum(List<(ExpressionSyntax Term, bool Negated)> terms, int? inDim, int? outDim, bool frozen, SourceSpan span)
    {
        if (terms.Count == 1 && !terms[0].Negated)
        {
            return BindMatrix(terms[0].Term, inDim, outDim, frozen, adapterTerm: false);
        }

        // Terms that disagree among themselves are one error at the sum, not one per term.
        var probes = terms.Select(t => ShapeProbe.Of(t.Term, this)).ToList();
        inDim ??= probes.Select(p => p.In).FirstOrDefault(d => d is not null) ?? Square(probes, outDim);
        outDim ??= probes.Select(p => p.Out).FirstOrDefault(d => d is not null) ?? Square(probes, inDim);
        for (var i = 1; i < probes.Count; i++)
        {
            for (var j = 0; j < i; j++)
            {
                if (Conflicts(probes[i].In, probes[j].In) || Conflicts(probes[i].Out, probes[j].Out))
                {
                    Report(DiagnosticDescriptors.SumShapeMismatch, terms[i].Term.Span, probes[j], probes[i]);
                    return null;
                }
            }
        }

        // LoRA convention: next to a frozen base, a low-rank update starts at zero (lora_B = 0).
        var adapter = terms.Any(t => t.Term is FrozenSyntax);
        var bound = new List<BoundExpression>();
        foreach (var (term, negated) in terms)
        {
            var b = BindMatrix(term, inDim, outDim, frozen, adapterTerm: adapter && term is not FrozenSyntax);
            if (b is null) return null;
            bound.Add(negated ? new BoundScale(-1.0, b, term.Span) : b);
        }
        return new BoundSum(bound.ToEquatableArray(), span);
    }

    private static int? Square(List<ShapeProbe> probes, int? other) => probes.Any(p => p.Square) ? other : null;

    private static bool Conflicts(int? a, int? b) => a is not null && b is not null && a != b;

    private BoundExpression? BindMatrix(ExpressionSyntax syntax, int? inDim, int? outDim, bool frozen, bool adapterTerm)
    {
        switch (syntax)
        {
            case ErrorExpression:
                return null;
            case NumberSyntax number:
                Report(DiagnosticDescriptors.NotAMatrix, number.Span, $"the number {number.Text}");
                return null;
            case NameSyntax { Name: CoreForms.Bias } bias:
                Report(DiagnosticDescriptors.MisplacedBias, bias.Span, "here it is inside an expression");
                return null;
            case NameSyntax name when _constants.ContainsKey(name.Name):
                Report(DiagnosticDescriptors.NotAMatrix, name.Span, $"the constant '{name.Name}'");
                return null;
            case NameSyntax name:
                return BindPrimitive(name.Name, name.Span, EquatableArray<ArgumentSyntax>.Empty, name.Span, inDim, outDim, frozen, adapterTerm);
            case CallSyntax call:
                return BindPrimitive(call.Name, call.NameSpan, call.Arguments, call.Span, inDim, outDim, frozen, adapterTerm);
            case FrozenSyntax frozenSyntax:
                if (frozen) Report(DiagnosticDescriptors.RedundantFrozen, frozenSyntax.Span);
                return BindMatrix(frozenSyntax.Operand, inDim, outDim, frozen: true, adapterTerm);
            case NegateSyntax negate when IsNumeric(negate):
                Report(DiagnosticDescriptors.NotAMatrix, negate.Span, "a number");
                return null;
            case NegateSyntax negate:
                return BindMatrix(negate.Operand, inDim, outDim, frozen, adapterTerm) is { } negated
                    ? new BoundScale(-1.0, negated, negate.Span)
                    : null;
            case BinarySyntax binary when IsNumeric(binary):
                Report(DiagnosticDescriptors.NotAMatrix, binary.Span, "a number");
                return null;
            case BinarySyntax { Operator: BinaryOperator.Add or BinaryOperator.Subtract } sum:
                var terms = new List<(ExpressionSyntax, bool)>();
                FlattenSum(sum, negated: false, terms);
                return BindSum(terms, inDim, outDim, frozen, sum.Span);
            case BinarySyntax { Operator: BinaryOperator.Multiply } product:
                return BindProductOrScale(product, inDim, outDim, frozen, adapterTerm);
            case BinarySyntax other:
                Report(DiagnosticDescriptors.OperatorNotOnMatrices, other.OperatorSpan, "/");
                return null;
            default:
                throw new InvalidOperationException($"Unexpected syntax {syntax.GetType().Name}");
        }
    }

    private BoundExpression? BindProductOrScale(BinarySyntax product, int? inDim, int? outDim, bool frozen, bool adapterTerm)
    {
        // `c * X` and `X * c` scale; anything else is a matrix product.
        if (IsNumeric(product.Left) || IsNumeric(product.Right))
        {
            var (factorSyntax, operandSyntax) = IsNumeric(product.Left) ? (product.Left, product.Right) : (product.Right, product.Left);
            var factor = Evaluate(factorSyntax, report: true);
            if (factor is { } c && !(System.Math.Abs(c.Value) <= float.MaxValue))
            {
                Report(DiagnosticDescriptors.ScaleOutOfRange, factorSyntax.Span, c);
                factor = null;
            }
            var operand = BindMatrix(operandSyntax, inDim, outDim, frozen, adapterTerm);
            return factor is null || operand is null ? null : new BoundScale(factor.Value.Value, operand, product.Span);
        }

        // A misplaced bias has no shape to lend the other factor; report it alone rather than a cascade.
        if (IsBias(product.Left) || IsBias(product.Right))
        {
            Report(DiagnosticDescriptors.MisplacedBias, (IsBias(product.Left) ? product.Left : product.Right).Span, "here it is inside an expression");
            return null;
        }

        // y = A (B x): A's input is B's output, the middle dimension m.
        var left = ShapeProbe.Of(product.Left, this);
        var right = ShapeProbe.Of(product.Right, this);
        if (Conflicts(left.In, right.Out))
        {
            Report(DiagnosticDescriptors.ProductShapeMismatch, product.OperatorSpan, left, right);
            return null;
        }
        var middle = left.In ?? right.Out ?? (left.Square ? outDim ?? left.Out : null) ?? (right.Square ? inDim ?? right.In : null);
        var boundRight = BindMatrix(product.Right, inDim, middle, frozen, adapterTerm: false);
        var boundLeft = BindMatrix(product.Left, boundRight?.Shape.Out ?? middle, outDim, frozen, adapterTerm: false);
        return boundLeft is null || boundRight is null ? null : new BoundProduct(boundLeft, boundRight, product.Span);
    }

    /// <summary>Whether an expression is a number (literal, constant, or arithmetic on them) rather than a structure.</summary>
    internal bool IsNumeric(ExpressionSyntax syntax) => syntax switch
    {
        NumberSyntax => true,
        NameSyntax name => _constants.ContainsKey(name.Name),
        NegateSyntax negate => IsNumeric(negate.Operand),
        BinarySyntax binary => IsNumeric(binary.Left) && IsNumeric(binary.Right),
        _ => false,
    };

    private void Report(DiagnosticDescriptor descriptor, SourceSpan span, params object[] args) =>
        _diagnostics.Add(Diagnostic.Create(descriptor, span, args));

    internal void ReportAt(DiagnosticDescriptor descriptor, SourceSpan span, params object[] args) => Report(descriptor, span, args);
}
