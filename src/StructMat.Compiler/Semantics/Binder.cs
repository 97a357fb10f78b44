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

    /// <summary>The smallest normal float32, 2^-126 (netstandard2.0 has no float.MinNormal).</summary>
    private const double MinNormalFloat = 1.1754943508222875E-38;

    /// <summary>The smallest positive float32, 2^-149.</summary>
    private const double SmallestSubnormalFloat = 1.4012984643248171E-45;

    private readonly List<Diagnostic> _diagnostics = new();
    private readonly Dictionary<string, NumberValue?> _constants = new(StringComparer.Ordinal);

    // Constants refused for their name (`const dense = 4;`): a use as a number is that same mistake, so it stays quiet.
    private readonly HashSet<string> _rejectedConstants = new(StringComparer.Ordinal);

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
            var kind = declaration is LayerDeclarationSyntax ? "layer" : "constant";
            if (StructureRegistry.Spec(declaration.Name) is not null || declaration.Name == CoreForms.Bias)
            {
                Report(DiagnosticDescriptors.ReservedName, declaration.NameSpan, declaration.Name,
                    declaration.Name == CoreForms.Bias ? "the word for a layer's bias (`… + bias`)" : "a structure name", kind);
                if (declaration is ConstDeclarationSyntax) _rejectedConstants.Add(declaration.Name);
                continue;
            }
            if (!declared.Add(declaration.Name))
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
            case NameSyntax name when _rejectedConstants.Contains(name.Name) && StructureRegistry.Spec(name.Name) is { } refused && refused.Arguments.Any(a => a.Required):
                // `const kron = 2;` then `kron * dense`: the use is the refused constant, not a call missing its arguments.
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
                Report(DiagnosticDescriptors.ScaleOutOfRange, factorSyntax.Span, c, "is not a finite float32 number (|c| ≤ 3.4028235E+38)");
                factor = null;
            }
            else if (factor is { } small && small.Value != 0 && System.Math.Abs((double)(float)small.Value) < MinNormalFloat)
            {
                // The kernels compute in float32: below its normal range a scale becomes 0 or keeps a few bits of itself
                // (judged on the float32 it rounds to: 1.17549435e-38 rounds up to the smallest normal number).
                var rounded = System.Math.Abs((double)(float)small.Value);
                // A subnormal float32 v = k · 2^-149 keeps the bits of the integer k: floor(log2 k) + 1 of float32's 24.
                var bits = rounded == 0 ? 0 : (int)System.Math.Floor(System.Math.Log(rounded / SmallestSubnormalFloat, 2) + 1e-9) + 1;
                Report(DiagnosticDescriptors.ScaleOutOfRange, factorSyntax.Span, small,
                    bits == 0 ? "rounds to 0 in float32 (its smallest normal number is 1.1754944E-38); write 0 or a larger scale"
                        : $"is below float32's normal range (1.1754944E-38) and keeps only {bits} of float32's 24 significant bits; use a larger scale");
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

        BoundExpression? boundRight;
        if (middle is null && inDim is { } n && outDim is { } m)
        {
            // What the probes leave open, binding may still find (kron(diag(), dense(2 -> 3)) takes 4 -> 6 from its
            // input 8): bind the right factor with the middle open, and only when it needs that size fall back. A square
            // product keeps its size throughout, as a reader means it; otherwise one error names the factor to shape.
            boundRight = Trial(() => BindMatrix(product.Right, inDim, null, frozen, adapterTerm: false), out var rightHeld);
            if (rightHeld is not null)
            {
                // The left factor may fix it from its output (kron(diag(), dense(2 -> 3)) * dense in a 12-wide layer).
                var boundLeftFirst = Trial(() => BindMatrix(product.Left, null, outDim, frozen, adapterTerm: false), out var leftHeld);
                if (leftHeld is null)
                {
                    if (boundLeftFirst is null)
                    {
                        KeepAllButShapeErrors(rightHeld);
                        return null;
                    }
                    boundRight = BindMatrix(product.Right, inDim, boundLeftFirst.Shape.In, frozen, adapterTerm: false);
                    return boundRight is null ? null : new BoundProduct(boundLeftFirst, boundRight, product.Span);
                }
                if (n == m)
                {
                    middle = n;
                    boundRight = BindMatrix(product.Right, inDim, middle, frozen, adapterTerm: false);
                }
                else
                {
                    // Either factor's own mistakes (an unknown name, a bad argument) come first; the size only after them.
                    var errors = _diagnostics.Count(d => d.IsError);
                    KeepAllButShapeErrors(rightHeld);
                    KeepAllButShapeErrors(leftHeld);
                    if (_diagnostics.Count(d => d.IsError) == errors) ReportUnknownMiddle(product, n, m);
                    return null;
                }
            }
        }
        else
        {
            boundRight = BindMatrix(product.Right, inDim, middle, frozen, adapterTerm: false);
        }
        if (boundRight is null)
        {
            // The left factor's own mistakes still count; its size, which the right one was to fix, does not.
            WithoutShapeErrors(() => BindMatrix(product.Left, middle, outDim, frozen, adapterTerm: false));
            return null;
        }
        var boundLeft = BindMatrix(product.Left, boundRight.Shape.Out, outDim, frozen, adapterTerm: false);
        return boundLeft is null ? null : new BoundProduct(boundLeft, boundRight, product.Span);
    }

    /// <summary>
    /// Binds; when that fails for want of a size ("cannot infer"), takes its diagnostics back and hands them over in
    /// <paramref name="held"/> (null otherwise), so the caller can try a size or keep them after all.
    /// </summary>
    private BoundExpression? Trial(System.Func<BoundExpression?> bind, out List<Diagnostic>? held)
    {
        var mark = _diagnostics.Count;
        var bound = bind();
        held = null;
        if (bound is null && _diagnostics.Skip(mark).Any(d => d.Id == DiagnosticDescriptors.CannotInferShape.Id))
        {
            held = _diagnostics.GetRange(mark, _diagnostics.Count - mark);
            _diagnostics.RemoveRange(mark, held.Count);
        }
        return bound;
    }

    /// <summary>Keeps a trial's diagnostics but "cannot infer the size" (a size another part was to fix).</summary>
    private void KeepAllButShapeErrors(IEnumerable<Diagnostic> held) =>
        _diagnostics.AddRange(held.Where(d => d.Id != DiagnosticDescriptors.CannotInferShape.Id));

    /// <summary>Binds for the diagnostics alone, leaving out "cannot infer the size" (a size another part was to fix).</summary>
    private void WithoutShapeErrors(System.Func<BoundExpression?> bind)
    {
        var mark = _diagnostics.Count;
        bind();
        var added = _diagnostics.GetRange(mark, _diagnostics.Count - mark);
        _diagnostics.RemoveRange(mark, added.Count);
        KeepAllButShapeErrors(added);
    }

    private void ReportUnknownMiddle(BinarySyntax product, int inDim, int outDim)
    {
        // The factors that touch the middle size m: the right operand's outermost (leftmost) factor, whose output is m,
        // and the left operand's innermost (rightmost) one, whose input is m. Square-only factors pass m through, so
        // look past them; the first factor that can take a shape is the one to shape.
        var outputs = FactorsFrom(product.Right, outputSide: true).Select(c => (c.Name, c.Syntax, Side: "output"));
        var inputs = FactorsFrom(product.Left, outputSide: false).Select(c => (c.Name, c.Syntax, Side: "input"));
        var target = outputs.Concat(inputs).FirstOrDefault(c => StructureRegistry.Spec(c.Name) is { SquareOnly: false } && !HasExplicitShape(c.Syntax));
        if (target.Name is null || StructureRegistry.Spec(target.Name) is { } core && CoreForms.IsCombinator(core))
        {
            // A sum or a kron beside the middle: the shape belongs to one of its parts.
            Report(DiagnosticDescriptors.CannotInferShape, product.OperatorSpan, "inner", "this product",
                "nothing fixes the size between its factors; give a structure beside the '*' an explicit shape, e.g. dense(in -> m)");
            return;
        }
        var spec = StructureRegistry.Spec(target.Name)!;
        // The known side is the layer's own when the factor is the whole operand (`dense * dense` in a 4 -> 8 layer).
        var shape = target.Side == "output"
            ? $"{(IsWhole(product.Right, target.Syntax) ? inDim.ToString() : "in")} -> m"
            : $"m -> {(IsWhole(product.Left, target.Syntax) ? outDim.ToString() : "out")}";
        var required = spec.Arguments.FirstOrDefault(a => a.Required);
        Report(DiagnosticDescriptors.CannotInferShape, target.Syntax.Span, target.Side, $"'{spec.Name}'",
            $"nothing fixes the size m between the factors of this product; give it an explicit shape, e.g. {spec.Name}({shape}{(required is null ? "" : ", " + required.Name + ": …")})");
    }

    private static bool HasExplicitShape(ExpressionSyntax syntax) =>
        syntax is CallSyntax call && call.Arguments.Count > 0 && call.Arguments[0] is ShapeArgumentSyntax;

    private bool IsWhole(ExpressionSyntax operand, ExpressionSyntax factor) => operand switch
    {
        _ when ReferenceEquals(operand, factor) => true,
        FrozenSyntax f => IsWhole(f.Operand, factor),
        NegateSyntax n => IsWhole(n.Operand, factor),
        BinarySyntax { Operator: BinaryOperator.Multiply } m when IsNumeric(m.Left) => IsWhole(m.Right, factor),
        BinarySyntax { Operator: BinaryOperator.Multiply } m when IsNumeric(m.Right) => IsWhole(m.Left, factor),
        _ => false,
    };

    /// <summary>
    /// The structure calls at one side of a product operand, nearest first: from its output side (the left factor
    /// first) or from its input side (the right factor first). A square-only factor passes the size through, so the
    /// walk goes on past it.
    /// </summary>
    private IEnumerable<(string Name, ExpressionSyntax Syntax)> FactorsFrom(ExpressionSyntax syntax, bool outputSide)
    {
        switch (syntax)
        {
            case NameSyntax n: yield return (n.Name, n); break;
            case CallSyntax c: yield return (c.Name, c); break;
            case FrozenSyntax f: foreach (var x in FactorsFrom(f.Operand, outputSide)) yield return x; break;
            case NegateSyntax g: foreach (var x in FactorsFrom(g.Operand, outputSide)) yield return x; break;
            case BinarySyntax { Operator: BinaryOperator.Multiply } m when IsNumeric(m.Left): foreach (var x in FactorsFrom(m.Right, outputSide)) yield return x; break;
            case BinarySyntax { Operator: BinaryOperator.Multiply } m when IsNumeric(m.Right): foreach (var x in FactorsFrom(m.Left, outputSide)) yield return x; break;
            case BinarySyntax { Operator: BinaryOperator.Multiply } m:
                var (near, far) = outputSide ? (m.Left, m.Right) : (m.Right, m.Left);
                foreach (var x in FactorsFrom(near, outputSide)) yield return x;
                if (ShapeProbe.Of(near, this).Square) foreach (var x in FactorsFrom(far, outputSide)) yield return x;
                break;
        }
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
