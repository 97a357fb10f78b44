using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using StructMat.Compiler.IR;
using StructMat.Compiler.Semantics;

namespace StructMat.Compiler.Lowering;

/// <summary>
/// Lowers a bound layer to a naive forward IR program: every structure becomes block matmuls,
/// permutations, scales and adds on fresh values. The passes make it fast; this stays obvious.
/// Parameter names are paths in the expression (<c>terms.1.lora_A</c>), as the design fixes them.
/// </summary>
public sealed class LowerLayer
{
    private readonly List<IrValue> _values = new();
    private readonly List<IrParameter> _parameters = new();
    private readonly List<IrOp> _ops = new();
    private readonly Dictionary<int, (int Position, int Id)> _sourcePosition = new();
    private int _currentPosition;

    // How many sub-rows each batch row is processed as (inside kron); every value and op created is scaled by it.
    private int _subRows = 1;

    private LowerLayer()
    {
    }

    public static IrLayer Run(BoundLayer layer)
    {
        var lowering = new LowerLayer();
        var input = lowering.NewValue(layer.Shape.In, "x");
        var output = lowering.Lower(layer.Body, input, path: "");
        if (layer.HasBias)
        {
            lowering._currentPosition = int.MaxValue;
            var bias = lowering.NewParameter("bias", new[] { layer.Shape.Out }, trainable: true, InitKind.Zero, 0, 0, "trainable bias");
            lowering.Add(new BiasOp(output, bias, "add the bias"));
        }
        var forward = new IrProgram(lowering._values.ToEquatableArray(), lowering._ops.ToEquatableArray(), input, output);
        return lowering.InSourceOrder(new IrLayer(layer.Name, layer.Shape.In, layer.Shape.Out, lowering._parameters.ToEquatableArray(), forward, Backward: null));
    }

    private int Lower(BoundExpression expression, int input, string path)
    {
        _currentPosition = expression.Span.Start;
        switch (expression)
        {
            case BoundDense dense:
            {
                var (i, o) = (dense.Shape.In, dense.Shape.Out);
                var w = NewParameter(Join(path, "weight"), new[] { o, i }, !dense.Frozen, InitKind.MuP, i, o,
                    dense.Seed is { } seed ? $"dense {i} -> {o}, initialised from seed {seed}" : $"dense {i} -> {o}");
                if (dense.Seed is { } shared) _parameters[w] = _parameters[w] with { Seed = shared };
                return MatMul(input, w, 1, o, i, $"{Describe(path, "dense")}: W [{o}, {i}]");
            }
            case BoundLowRank lowRank:
            {
                using var scope = new LearningRateScope(this, lowRank.Shape.In, matrices: 2);
                var (i, o, r) = (lowRank.Shape.In, lowRank.Shape.Out, lowRank.Rank);
                var a = NewParameter(Join(path, "lora_A"), new[] { r, i }, !lowRank.Frozen, InitKind.MuP, i, r, $"lowrank down-projection {i} -> {r}");
                var b = NewParameter(Join(path, "lora_B"), new[] { o, r }, !lowRank.Frozen, lowRank.ZeroInitB ? InitKind.Zero : InitKind.MuP, r, o,
                    $"lowrank up-projection {r} -> {o}");
                var t = MatMul(input, a, 1, r, i, $"{Describe(path, "lowrank")}: down-projection A [{r}, {i}]");
                return MatMul(t, b, 1, o, r, $"{Describe(path, "lowrank")}: up-projection B [{o}, {r}]");
            }
            case BoundBlockDiagonal block:
            {
                var (g, bo, bi) = (block.Blocks, block.BlockOut, block.BlockIn);
                var w = NewParameter(Join(path, "weight"), new[] { g, bo, bi }, !block.Frozen, InitKind.MuP, bi, bo, $"blockdiag {g} blocks of {bo}x{bi}");
                return MatMul(input, w, g, bo, bi, $"{Describe(path, "blockdiag")}: {g} blocks of {bo}x{bi}");
            }
            case BoundMonarch monarch:
            {
                using var scope = new LearningRateScope(this, monarch.Shape.In, matrices: 2);
                return LowerMonarch(monarch, input, path);
            }
            case BoundDiagonal diagonal:
            {
                var n = diagonal.Shape.In;
                var d = NewParameter(Join(path, "diag"), new[] { n }, !diagonal.Frozen, InitKind.Ones, n, n, $"diagonal {n}");
                var output = NewValue(n, "t");
                Add(new DiagonalOp(input, output, d, false, $"{Describe(path, "diag")}: y = d ⊙ x"));
                return output;
            }
            case BoundPermutation permutation:
            {
                var n = permutation.Shape.In;
                var output = NewValue(n, "t");
                var seed = permutation.Permutation == PermutationKind.Random ? $", seed {permutation.Seed}" : "";
                var map = new IndexMap(permutation.Permutation switch
                {
                    PermutationKind.Reverse => IndexMapKind.Reverse,
                    PermutationKind.BitReversal => IndexMapKind.BitReversal,
                    PermutationKind.Shuffle => IndexMapKind.Shuffle,
                    _ => IndexMapKind.Random,
                }, n) { Seed = permutation.Permutation == PermutationKind.Random ? permutation.Seed : 0 };
                Add(new GatherOp(input, output, map, Inverse: false, Accumulate: false,
                    $"{Describe(path, "perm")}: y[j] = x[map[j]], {permutation.Permutation.ToString().ToLowerInvariant()}{seed}"));
                return output;
            }
            case BoundHouseholder householder:
            {
                var (n, r) = (householder.Shape.In, householder.Reflections);
                var u = NewParameter(Join(path, "hra_u"), new[] { n, r }, !householder.Frozen, InitKind.HouseholderIdentity, n, r,
                    $"householder reflection vectors, {r} columns of length {n}");
                var output = NewValue(n, "t");
                Add(new HouseholderOp(input, output, u, n, r, Transposed: false, Accumulate: false,
                    $"{Describe(path, "householder")}: y = H_1 … H_{r} x, {r} reflections"));
                return output;
            }
            case BoundProduct product:
            {
                var factors = ExpressionPaths.Factors(product);
                var value = input;
                // y = F0 (F1 (… (Fn x))): apply the rightmost factor first.
                for (var k = factors.Count - 1; k >= 0; k--)
                {
                    value = Lower(factors[k], value, ExpressionPaths.Factor(path, k));
                }
                return value;
            }
            case BoundKron kron:
                return LowerKron(kron, input, path);
            case BoundButterfly butterfly:
                return LowerButterfly(butterfly, input, path);
            case BoundBlockSparse sparse:
                return LowerBlockSparse(sparse, input, path);
            case BoundBtt btt:
            {
                using var scope = new LearningRateScope(this, btt.Shape.In, matrices: 2);
                // Core 0 maps each i1-block of m0 inputs to (α, j0) outputs; core 1 maps, for each j0, the (i1, α)
                // entries, which sit at stride n0 in core 0's output (i.e. read strided), to the n1 outputs j1.
                var (r, m0, m1, n0, n1) = (btt.Rank, btt.M0, btt.M1, btt.N0, btt.N1);
                var name = Describe(path, "btt");
                var c0 = NewParameter(Join(path, "cores.0"), new[] { m1, r * n0, m0 }, !btt.Frozen, InitKind.MuP, m0, r * n0,
                    $"btt core 0: {m1} blocks of {r * n0}x{m0}");
                var c1 = NewParameter(Join(path, "cores.1"), new[] { n0, n1, m1 * r }, !btt.Frozen, InitKind.MuP, m1 * r, n1,
                    $"btt core 1: {n0} blocks of {n1}x{m1 * r}");
                var t = MatMul(input, c0, m1, r * n0, m0, $"{name}: core 0, {m1} blocks of {r * n0}x{m0}");
                var y = NewValue(n0 * n1, "t");
                Add(new MatMulOp(t, y, c1, n0, n1, m1 * r, Layout.Strided, Layout.Contiguous, 1f, false,
                    $"{name}: core 1, {n0} blocks of {n1}x{m1 * r}"));
                return y;
            }
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
                throw new System.InvalidOperationException($"Cannot lower {expression.GetType().Name}; the generator reports unimplemented structures before lowering.");
        }
    }

    // The vec-trick: x viewed as [a_in, b_in]; B applied to each of the a_in rows, transpose to [b_out, a_in],
    // A applied to each of the b_out rows, transpose back to [a_out, b_out] (torch.kron's index i·b_out + j).
    private int LowerKron(BoundKron kron, int input, string path)
    {
        var (a, b) = (kron.Left, kron.Right);
        var outer = _subRows;
        _subRows = outer * a.Shape.In;
        var t1 = Lower(b, input, Join(path, "kron.1"));
        _subRows = outer;
        var t2 = Permute(t1, a.Shape.In, b.Shape.Out, $"{Describe(path, "kron")}: view as ({a.Shape.In}, {b.Shape.Out}) and transpose");
        _subRows = outer * b.Shape.Out;
        var t3 = Lower(a, t2, Join(path, "kron.0"));
        _subRows = outer;
        return Permute(t3, b.Shape.Out, a.Shape.Out, $"{Describe(path, "kron")}: view as ({b.Shape.Out}, {a.Shape.Out}) and transpose back");
    }

    // The flat block butterfly as a sum over its block diagonals: for each XOR distance d, swap blocks i and
    // i XOR d, then one block-diagonal matmul with that diagonal's slice of `blocks`; the terms accumulate.
    private int LowerBlockSparse(BoundBlockSparse sparse, int input, string path)
    {
        var (n, b, nb) = (sparse.Shape.In, sparse.Block, sparse.BlocksPerSide);
        var name = Describe(path, "blocksparse");
        var distances = sparse.Distances.ToList();
        var blocks = NewParameter(Join(path, "blocks"), new[] { nb * distances.Count, b, b }, !sparse.Frozen, InitKind.MuP, b * distances.Count, b,
            $"flat block butterfly, {distances.Count} block diagonals of {nb} blocks of {b}x{b}");
        int? total = null;
        for (var m = 0; m < distances.Count; m++)
        {
            var d = distances[m];
            var swapped = input;
            if (d != 0)
            {
                swapped = NewValue(n, "t");
                Add(new GatherOp(input, swapped, new IndexMap(IndexMapKind.BlockXor, n) { Block = b, Distance = d }, Inverse: false, Accumulate: false,
                    $"{name}: block i reads block i XOR {d}"));
            }
            var term = MatMul(swapped, blocks, nb, b, b, $"{name}: block diagonal XOR {d}, {nb} blocks of {b}x{b}", m * nb * b * b);
            if (total is { } sum)
            {
                var next = NewValue(n, "sum");
                Add(new AddOp(sum, term, next, $"{name}: add block diagonal XOR {d}"));
                total = next;
            }
            else
            {
                total = term;
            }
        }
        return total!.Value;
    }

    // Factor k (stride s = 2^k, applied in increasing order) pairs x[g·2s + j] with x[g·2s + s + j]. Viewing each
    // 2s-block as [2, s] and transposing it to [s, 2] puts every pair side by side, so the factor is a
    // block-diagonal matmul of n/2 2x2 blocks (twiddle slice k, as [n/2, 2, 2]) between two transposes.
    private int LowerButterfly(BoundButterfly butterfly, int input, string path)
    {
        var n = butterfly.Shape.In;
        var name = Describe(path, "butterfly");
        var twiddle = NewParameter(Join(path, "twiddle"), new[] { butterfly.Factors, n / 2, 2, 2 }, !butterfly.Frozen, InitKind.MuP, 2, 2,
            $"butterfly twiddles, {butterfly.Factors} factors of {n / 2} 2x2 blocks");
        var value = input;
        var outer = _subRows;
        for (var k = 0; k < butterfly.Factors; k++)
        {
            var stride = 1 << k;
            var blocks = n / (2 * stride);
            _subRows = outer * blocks;
            var paired = stride == 1 ? value : Permute(value, 2, stride, $"{name}: factor {k}, pair elements {stride} apart");
            _subRows = outer;
            var mixed = MatMul(paired, twiddle, n / 2, 2, 2, $"{name}: factor {k} (stride {stride}), {n / 2} 2x2 blocks", k * (n / 2) * 4);
            _subRows = outer * blocks;
            value = stride == 1 ? mixed : Permute(mixed, stride, 2, $"{name}: factor {k}, back to stride {stride}");
            _subRows = outer;
        }
        return value;
    }

    // fly's blockdiag_butterfly_multiply: x [k·p] → blkdiag1 → view (r, l), transpose → blkdiag2 → view (l, s), transpose.
    private int LowerMonarch(BoundMonarch m, int input, string path)
    {
        var name = Describe(path, "monarch");
        var w1 = NewParameter(Join(path, "blkdiag1"), new[] { m.K, m.Q, m.P }, !m.Frozen, InitKind.MuP, m.P, m.Q, $"monarch first block-diagonal factor, {m.K} blocks of {m.Q}x{m.P}");
        var w2 = NewParameter(Join(path, "blkdiag2"), new[] { m.L, m.S, m.R }, !m.Frozen, InitKind.MuP, m.R, m.S, $"monarch second block-diagonal factor, {m.L} blocks of {m.S}x{m.R}");
        var t1 = MatMul(input, w1, m.K, m.Q, m.P, $"{name}: first factor blockdiag(blkdiag1), {m.K} blocks of {m.Q}x{m.P}");
        var t2 = Permute(t1, m.R, m.L, $"{name}: view as ({m.R}, {m.L}) and transpose");
        var t3 = MatMul(t2, w2, m.L, m.S, m.R, $"{name}: second factor blockdiag(blkdiag2), {m.L} blocks of {m.S}x{m.R}");
        return Permute(t3, m.L, m.S, $"{name}: view as ({m.L}, {m.S}) and transpose");
    }

    private void Add(IrOp op) => _ops.Add(op with { SubRows = _subRows });

    private int MatMul(int input, int weight, int groups, int blockOut, int blockIn, string comment, int weightOffset = 0)
    {
        var output = NewValue(groups * blockOut, "t");
        Add(new MatMulOp(input, output, weight, groups, blockOut, blockIn, Layout.Contiguous, Layout.Contiguous, 1f, false, comment) { WeightOffset = weightOffset });
        return output;
    }

    private int Permute(int input, int rows, int cols, string comment)
    {
        var output = NewValue(rows * cols, "t");
        Add(new PermuteOp(input, output, rows, cols, false, comment));
        return output;
    }

    private int NewValue(int width, string name)
    {
        var id = _values.Count;
        _values.Add(new IrValue(id, width * _subRows, name == "x" ? name : name + id.ToString(CultureInfo.InvariantCulture)));
        return id;
    }

    /// <summary>
    /// Products lower right to left (the rightmost factor applies first); parameters are renumbered so
    /// they are listed as written in the .smx file, the bias last.
    /// </summary>
    private IrLayer InSourceOrder(IrLayer layer)
    {
        var order = layer.Parameters.OrderBy(p => _sourcePosition[p.Id]).Select(p => p.Id).ToList();
        int Map(int id) => order.IndexOf(id);
        var parameters = order.Select((id, k) => layer.Parameter(id) with { Id = k }).ToEquatableArray();
        var ops = layer.Forward.Ops.Select(op => op.RenumberParameters(Map)).ToEquatableArray();
        return layer with { Parameters = parameters, Forward = layer.Forward with { Ops = ops } };
    }

    /// <summary>
    /// Compute Better Spent's structure-aware learning rate: inside a structure of input width D with c matrix
    /// tensors, a tensor of fan-in f gets (D / f) / c, which keeps feature updates the size a dense layer's would
    /// have (a dense layer gets 1). Applied to the structures that paper defines: lowrank, monarch, btt.
    /// </summary>
    private sealed class LearningRateScope : System.IDisposable
    {
        private readonly LowerLayer _owner;
        private readonly (int Width, int Matrices)? _previous;

        public LearningRateScope(LowerLayer owner, int width, int matrices)
        {
            _owner = owner;
            _previous = owner._learningRateScope;
            owner._learningRateScope = (width, matrices);
        }

        public void Dispose() => _owner._learningRateScope = _previous;
    }

    private (int Width, int Matrices)? _learningRateScope;

    private int NewParameter(string name, int[] shape, bool trainable, InitKind init, int fanIn, int fanOut, string description)
    {
        var id = _parameters.Count;
        _sourcePosition[id] = (_currentPosition, id);
        var multiplier = _learningRateScope is { } scope ? (float)((double)scope.Width / fanIn / scope.Matrices) : 1f;
        _parameters.Add(new IrParameter(id, name, shape.ToEquatableArray(), trainable, init, fanIn, fanOut, description) { LearningRateMultiplier = multiplier });
        return id;
    }

    private static string Join(string path, string name) => ExpressionPaths.Join(path, name);

    private static string Describe(string path, string structure) => path.Length == 0 ? structure : $"{path} ({structure})";
}
