using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using StructMat.Compiler.IR;
using StructMat.Compiler.Semantics;
using StructMat.Compiler.Structures;

namespace StructMat.Compiler.Lowering;

/// <summary>
/// Lowers a bound layer to a naive forward IR program. The core lowers the algebra (sums, products, <c>kron</c>,
/// scaling, bias); each structure's parameters come from its table and its ops from its own lowering
/// (<see cref="Structure"/>). The passes make the program fast; this stays obvious. Parameter names are paths in
/// the expression (<c>terms.1.lora_A</c>), as the design fixes them.
/// </summary>
public sealed class LowerLayer
{
    private readonly List<IrValue> _values = new();
    private readonly List<IrParameter> _parameters = new();
    private readonly List<IrOp> _ops = new();
    private readonly Dictionary<int, (int Position, int Id)> _sourcePosition = new();
    private int _currentPosition;
    private MatrixShape _layerShape;
    private readonly List<int> _frozenBases = new();
    private readonly Dictionary<string, MagnitudeSource> _magnitudes = new(StringComparer.Ordinal);

    // How many sub-rows each batch row is processed as (inside kron); every value and op created is scaled by it.
    private int _subRows = 1;

    private LowerLayer()
    {
    }

    public static IrLayer Run(BoundLayer layer)
    {
        var lowering = new LowerLayer { _layerShape = layer.Shape };
        var input = lowering.NewValue(layer.Shape.In, "x");
        var output = lowering.Lower(layer.Body, input, path: "");
        if (layer.HasBias)
        {
            lowering._currentPosition = int.MaxValue;
            var bias = lowering.NewParameter("bias", new[] { layer.Shape.Out }.ToEquatableArray(), trainable: true, InitKind.Zero, 0, 0, "trainable bias", null, null);
            lowering.Add(new BiasOp(output, bias, "add the bias"));
        }
        var forward = new IrProgram(lowering._values.ToEquatableArray(), lowering._ops.ToEquatableArray(), input, output);
        var parameters = PeftKeys.Assign(lowering._parameters, lowering._frozenBases, layer.HasBias ? lowering._parameters.Count - 1 : null, layer.Body);
        return lowering.InSourceOrder(new IrLayer(layer.Name, layer.Shape.In, layer.Shape.Out, parameters.ToEquatableArray(), forward, Backward: null));
    }

    private int Lower(BoundExpression expression, int input, string path)
    {
        _currentPosition = expression.Span.Start;
        switch (expression)
        {
            case BoundPrimitive primitive:
                return LowerStructure(primitive, input, path);
            case BoundProduct product:
            {
                var factors = ExpressionPaths.Factors(product);
                var value = input;
                // y = F0 (F1 (… (Fn x))): apply the rightmost factor first.
                for (var k = factors.Count - 1; k >= 0; k--)
                {
                    value = Lower(factors[k], value, ExpressionPaths.Factor(path, k));
                }
                // diag() * normalize(V): the diag is DoRA's magnitude and starts at V's row norms (the layer starts as V).
                for (var k = 0; k + 1 < factors.Count; k++)
                {
                    if (factors[k] is not BoundDiagonal || factors[k + 1] is not BoundNormalize) continue;
                    var diag = ParameterNamed(ExpressionPaths.Join(ExpressionPaths.Factor(path, k), "diag"));
                    _parameters[diag] = _parameters[diag] with { Init = InitKind.RowNorms, MagnitudeOf = _magnitudes[ExpressionPaths.Factor(path, k + 1)] };
                }
                return value;
            }
            case BoundKron kron:
                return LowerKron(kron, input, path);
            case BoundHadamard hadamard:
                return LowerHadamard(hadamard, input, path);
            case BoundNormalize normalize:
                return LowerNormalize(normalize, input, path);
            case BoundSum sum:
            {
                var terms = sum.Terms.Select((t, k) => Lower(t, input, ExpressionPaths.Term(path, k))).ToList();
                var total = terms[0];
                for (var k = 1; k < terms.Count; k++)
                {
                    var next = NewValue(sum.Shape.Out, "sum");
                    Add(new AddOp(total, terms[k], next, $"{Describe(path, "sum")}: add term {k}"));
                    total = next;
                }
                return total;
            }
            case BoundScale scale:
            {
                var inner = Lower(scale.Operand, input, path);
                var scaled = NewValue(scale.Shape.Out, "scaled");
                Add(new ScaleOp(inner, scaled, (float)scale.Factor, Accumulate: false,
                    $"{Describe(path, "scale")}: times {((float)scale.Factor).ToString("R", CultureInfo.InvariantCulture)}"));
                return scaled;
            }
            default:
                throw new InvalidOperationException($"Cannot lower {expression.GetType().Name}");
        }
    }

    /// <summary>A structure: its parameters from its table (in table order), then its own ops.</summary>
    private int LowerStructure(BoundPrimitive primitive, int input, string path)
    {
        var structure = primitive.Structure;
        var scope = structure.LearningRates(primitive);
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var spec in structure.Parameters(primitive))
        {
            ids[spec.Name] = NewParameter(ExpressionPaths.Join(path, spec.Name), spec.Shape, !primitive.Frozen, spec.Init, spec.FanIn, spec.FanOut,
                spec.Description, spec.Seed, scope, spec.Peft, spec.ElementType);
        }
        // A frozen dense of the layer's own shape is what PEFT calls the base layer.
        if (primitive is BoundDense && primitive.Frozen && primitive.Shape == _layerShape) _frozenBases.Add(ids["weight"]);
        return structure.Lower(primitive, new StructureLowering(this, Describe(path, structure.Name), ids), input);
    }

    /// <summary>
    /// <c>hadamard(lowrank, lowrank)</c>: each operand's parameters from its table under <c>hadamard.0.</c> and
    /// <c>hadamard.1.</c>, with PEFT LoHa's keys (<c>hada_w1_a</c> is operand 0's <c>lora_B</c>, <c>hada_w1_b</c> its
    /// <c>lora_A</c>, and likewise <c>hada_w2_*</c>); beside a frozen base, operand 1's <c>lora_A</c> (PEFT's
    /// <c>hada_w2_b</c>) starts at zero. Then one op applies the rank r₁·r₂ product.
    /// </summary>
    private int LowerHadamard(BoundHadamard h, int input, string path)
    {
        var ids = new int[4];
        var operands = new[] { h.Left, h.Right };
        for (var k = 0; k < 2; k++)
        {
            var operand = operands[k];
            var operandPath = ExpressionPaths.Join(path, "hadamard." + k.ToString(CultureInfo.InvariantCulture));
            foreach (var spec in operand.Structure.Parameters(operand))
            {
                var isDown = spec.Name == "lora_A";
                var init = h.ZeroInit && k == 1 && isDown ? InitKind.Zero : spec.Init;
                var peft = $"hada_w{k + 1}_{(isDown ? "b" : "a")}.{{adapter}}";
                ids[2 * k + (isDown ? 0 : 1)] = NewParameter(ExpressionPaths.Join(operandPath, spec.Name), spec.Shape, !operand.Frozen, init, spec.FanIn, spec.FanOut,
                    spec.Description, spec.Seed, scope: null, peft);
            }
        }
        var (r1, r2) = (h.Left.Rank, h.Right.Rank);
        var output = NewValue(h.Shape.Out, "t");
        Add(new HadamardLowRankOp(input, output, ids[0], ids[1], ids[2], ids[3], h.Shape.In, h.Shape.Out, r1, r2, Transposed: false, Accumulate: false,
            $"{Describe(path, "hadamard")}: (B1 A1) ∘ (B2 A2) as the rank {r1}·{r2} product B̃ (Ã x)"));
        return output;
    }

    /// <summary>
    /// <c>normalize(frozen dense + c * lowrank)</c>: the sum lowers as ever (normalize adds nothing to the parameter
    /// paths), then one op divides each output by its row norm of <c>V = W0 + c·B A</c>, computed from the weights.
    /// </summary>
    private int LowerNormalize(BoundNormalize n, int input, string path)
    {
        var v = Lower(n.Operand, input, path);
        var (o, i) = (n.Shape.Out, n.Shape.In);
        var output = NewValue(o, "t");
        if (n.LowRank is null)
        {
            var weight = ParameterNamed(ExpressionPaths.Join(path, "weight"));
            _magnitudes[path] = new MagnitudeSource(weight, -1, -1, 0f, o, i, 0);
            Add(new RowNormalizeOp(v, output, weight, -1, -1, 0f, o, i, 0, Accumulate: false,
                $"{Describe(path, "normalize")}: y_o = v_o / ‖W_o‖ (weight normalisation)"));
            return output;
        }
        var w0 = ParameterNamed(ExpressionPaths.Join(ExpressionPaths.Term(path, n.BaseTerm), "weight"));
        var down = ParameterNamed(ExpressionPaths.Join(ExpressionPaths.Term(path, n.LowRankTerm), "lora_A"));
        var up = ParameterNamed(ExpressionPaths.Join(ExpressionPaths.Term(path, n.LowRankTerm), "lora_B"));
        var (r, c) = (n.LowRank.Rank, (float)n.Scale);
        _magnitudes[path] = new MagnitudeSource(w0, down, up, c, o, i, r);
        Add(new RowNormalizeOp(v, output, w0, down, up, c, o, i, r, Accumulate: false,
            $"{Describe(path, "normalize")}: y_o = v_o / ‖V_o‖, V = W0 + {c.ToString("R", CultureInfo.InvariantCulture)}·B A, norms from W0 Aᵀ and A Aᵀ"));
        return output;
    }

    private int ParameterNamed(string name) =>
        _parameters.FindIndex(p => p.Name == name) is var k and >= 0 ? _parameters[k].Id : throw new InvalidOperationException($"no parameter '{name}'");

    // The vec-trick: x viewed as [a_in, b_in]; B applied to each of the a_in rows, transpose to [b_out, a_in],
    // A applied to each of the b_out rows, transpose back to [a_out, b_out] (torch.kron's index i·b_out + j).
    private int LowerKron(BoundKron kron, int input, string path)
    {
        var (a, b) = (kron.Left, kron.Right);
        int t1, t3;
        using (SubRowsTimes(a.Shape.In)) t1 = Lower(b, input, ExpressionPaths.Join(path, "kron.1"));
        var t2 = Permute(t1, a.Shape.In, b.Shape.Out, $"{Describe(path, "kron")}: view as ({a.Shape.In}, {b.Shape.Out}) and transpose");
        using (SubRowsTimes(b.Shape.Out)) t3 = Lower(a, t2, ExpressionPaths.Join(path, "kron.0"));
        return Permute(t3, b.Shape.Out, a.Shape.Out, $"{Describe(path, "kron")}: view as ({b.Shape.Out}, {a.Shape.Out}) and transpose back");
    }

    internal void Add(IrOp op) => _ops.Add(op with { SubRows = _subRows });

    internal int MatMul(int input, int weight, int groups, int blockOut, int blockIn, string comment, int weightOffset = 0)
    {
        var output = NewValue(groups * blockOut, "t");
        Add(new MatMulOp(input, output, weight, groups, blockOut, blockIn, Layout.Contiguous, Layout.Contiguous, 1f, false, comment) { WeightOffset = weightOffset });
        return output;
    }

    internal int Permute(int input, int rows, int cols, string comment)
    {
        var output = NewValue(rows * cols, "t");
        Add(new PermuteOp(input, output, rows, cols, false, comment));
        return output;
    }

    internal int NewValue(int width, string name)
    {
        var id = _values.Count;
        _values.Add(new IrValue(id, width * _subRows, name == "x" ? name : name + id.ToString(CultureInfo.InvariantCulture)));
        return id;
    }

    internal IDisposable SubRowsTimes(int factor) => new SubRowsScope(this, factor);

    private sealed class SubRowsScope : IDisposable
    {
        private readonly LowerLayer _owner;
        private readonly int _previous;

        public SubRowsScope(LowerLayer owner, int factor)
        {
            _owner = owner;
            _previous = owner._subRows;
            owner._subRows = _previous * factor;
        }

        public void Dispose() => _owner._subRows = _previous;
    }

    /// <summary>
    /// Products lower right to left (the rightmost factor applies first); parameters are renumbered so
    /// they are listed as written in the .smx file, the bias last.
    /// </summary>
    private IrLayer InSourceOrder(IrLayer layer)
    {
        var order = layer.Parameters.OrderBy(p => _sourcePosition[p.Id]).Select(p => p.Id).ToList();
        int Map(int id) => order.IndexOf(id);
        MagnitudeSource? Renumbered(MagnitudeSource? m) =>
            m is null ? null : m with { Base = Map(m.Base), Down = m.Rank == 0 ? -1 : Map(m.Down), Up = m.Rank == 0 ? -1 : Map(m.Up) };
        var parameters = order.Select((id, k) => layer.Parameter(id) with { Id = k, MagnitudeOf = Renumbered(layer.Parameter(id).MagnitudeOf) }).ToEquatableArray();
        var ops = layer.Forward.Ops.Select(op => op.RenumberParameters(Map)).ToEquatableArray();
        return layer with { Parameters = parameters, Forward = layer.Forward with { Ops = ops } };
    }

    private int NewParameter(string name, EquatableArray<int> shape, bool trainable, InitKind init, int fanIn, int fanOut, string description,
        int? seed, LearningRateScope? scope, string? peftKey = null, ElementType elementType = ElementType.Float32)
    {
        var id = _parameters.Count;
        _sourcePosition[id] = (_currentPosition, id);
        _parameters.Add(new IrParameter(id, name, shape, trainable, init, fanIn, fanOut, description)
        {
            Seed = seed,
            LearningRateMultiplier = scope?.MultiplierFor(fanIn) ?? 1f,
            PeftKey = peftKey,
            ElementType = elementType,
        });
        return id;
    }

    private static string Describe(string path, string structure) => path.Length == 0 ? structure : $"{path} ({structure})";
}
