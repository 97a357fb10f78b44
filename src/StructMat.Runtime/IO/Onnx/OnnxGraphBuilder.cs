using System;
using System.Collections.Generic;
using System.Linq;
using StructMat.Runtime.Kernels;
using static StructMat.Runtime.IO.Onnx.OnnxGraph;

namespace StructMat.Runtime.IO.Onnx;

/// <summary>
/// Builds the ONNX graph of a layer's forward program, one call per IR op (the generated <c>WriteOnnx</c> makes them in
/// program order). Values are the IR's: each call names the values it reads and writes by id, and the builder keeps the
/// ONNX tensor each value currently holds, so an op that accumulates into its output becomes the op and an <c>Add</c>.
/// Every activation is a float32 <c>[rows, width]</c> tensor, rows = batch (dynamic); an op with <c>subRows: k</c> sees
/// each batch row as k rows (kron), by a <c>Reshape</c> on each side. Parameters become initializers under their saved
/// names; index maps and shapes become int64 initializers. Standard operators only (opset <see cref="OnnxExport.Opset"/>):
/// Gemm, MatMul, Reshape, Transpose, Gather, Slice, Unsqueeze, Concat, Mul, Add, Sub, Div, Sqrt, ReduceSum, Where,
/// Greater, Cast, Identity. Operations on parameters alone (a weight's transpose, a slice, the dequantised base, DoRA's
/// row norms) are nodes too: ONNX Runtime folds them into constants when it loads the model.
/// </summary>
public sealed class OnnxGraphBuilder
{
    private readonly OnnxGraph _graph;
    private readonly Dictionary<int, string> _current = new();
    private readonly Dictionary<int, int> _widths = new();
    private int _input = -1;
    private int _output = -1;

    internal OnnxGraphBuilder(OnnxGraph graph) => _graph = graph;

    /// <summary>The program's values (ids and widths), its input (the graph's <c>x</c>) and its output (<c>y</c>). Call first.</summary>
    public void Begin(int input, int output, int[] valueIds, int[] valueWidths)
    {
        ArgumentNullException.ThrowIfNull(valueIds);
        ArgumentNullException.ThrowIfNull(valueWidths);
        if (valueIds.Length != valueWidths.Length) throw new ArgumentException("One width per value id.", nameof(valueWidths));
        for (var i = 0; i < valueIds.Length; i++) _widths[valueIds[i]] = valueWidths[i];
        if (!_widths.ContainsKey(input) || !_widths.ContainsKey(output)) throw new ArgumentException("The input and output must be program values.");
        _input = input;
        _output = output;
        _current[input] = OnnxExport.InputName;
    }

    /// <summary>Connects the output value to the graph's output <c>y</c>. Call last.</summary>
    internal void End()
    {
        if (!_current.TryGetValue(_output, out var y)) throw new InvalidOperationException("The layer's ONNX program never writes its output.");
        _graph.NodeInto(OnnxExport.OutputName, "Identity", new[] { y });
    }

    internal int InputWidth => _widths[_input];

    internal int OutputWidth => _widths[_output];

    // ------------------------------------------------------------------ ops (one per IR op kind)

    /// <summary>
    /// <c>out[b, outIdx(g,o)] (+)= alpha · Σ_i W[g,o,i] · in[b, inIdx(g ⊕ s, i)]</c> with W the <c>[groups, blockOut, blockIn]</c>
    /// slice of <paramref name="weight"/> from <paramref name="offset"/>: one Gemm for one group, else a batched MatMul
    /// over the groups between Transposes (strided layouts are those Transposes, never a gather).
    /// </summary>
    public void BlockMatMul(int input, int output, Parameter weight, int offset, int groups, int blockOut, int blockIn,
        BlockLayout inLayout, BlockLayout outLayout, float alpha, bool accumulate, int inputGroupXor = 0, int subRows = 1)
    {
        var x = In(input, subRows);
        var w = Slice(weight, offset, (long)groups * blockOut * blockIn, groups == 1 ? new long[] { blockOut, blockIn } : new long[] { groups, blockOut, blockIn });
        string y;
        if (groups == 1)
        {
            y = Gemm(x, w, alpha);
        }
        else
        {
            // [groups, rows, blockIn], block g holding its inputs in order: one Transpose from either layout.
            var byGroup = inLayout == BlockLayout.Contiguous
                ? _graph.Node("Transpose", new[] { Reshape(x, 0, groups, blockIn) }, Ints("perm", 1, 0, 2))
                : _graph.Node("Transpose", new[] { Reshape(x, 0, blockIn, groups) }, Ints("perm", 2, 0, 1));
            if (inputGroupXor != 0)
            {
                var map = Enumerable.Range(0, groups).Select(g => (long)(g ^ inputGroupXor)).ToArray();
                byGroup = _graph.Node("Gather", new[] { byGroup, _graph.Int64s(map) }, Int("axis", 0));
            }
            var wt = _graph.Node("Transpose", new[] { w }, Ints("perm", 0, 2, 1));                        // [groups, blockIn, blockOut]
            var product = Scaled(_graph.Node("MatMul", new[] { byGroup, wt }), alpha);                    // [groups, rows, blockOut]
            var rowsFirst = outLayout == BlockLayout.Contiguous
                ? _graph.Node("Transpose", new[] { product }, Ints("perm", 1, 0, 2))                      // [rows, groups, blockOut]
                : _graph.Node("Transpose", new[] { product }, Ints("perm", 1, 2, 0));                     // [rows, blockOut, groups]
            y = Reshape(rowsFirst, 0, (long)groups * blockOut);
        }
        Out(output, y, accumulate, subRows);
    }

    /// <summary>Each row viewed as <c>[rows, cols]</c> and transposed: <c>out[b, c·rows + r] (+)= in[b, r·cols + c]</c>.</summary>
    public void Transpose(int input, int output, int rows, int cols, bool accumulate, int subRows = 1)
    {
        var x = Reshape(In(input, subRows), 0, rows, cols);
        var t = _graph.Node("Transpose", new[] { x }, Ints("perm", 0, 2, 1));
        Out(output, Reshape(t, 0, (long)rows * cols), accumulate, subRows);
    }

    /// <summary><c>out (+)= alpha · in</c>.</summary>
    public void Scale(int input, int output, float alpha, bool accumulate) =>
        Out(output, Scaled(Current(input), alpha), accumulate, 1);

    /// <summary><c>out = left + right</c>.</summary>
    public void Add(int left, int right, int output) =>
        Out(output, _graph.Node("Add", new[] { Current(left), Current(right) }), accumulate: false, 1);

    /// <summary><c>target[b, j] += bias[j]</c>.</summary>
    public void AddBias(int target, Parameter bias) =>
        _current[target] = _graph.Node("Add", new[] { Current(target), _graph.Parameter(bias) });

    /// <summary><c>out (+)= d ⊙ in</c>, d of the (sub-)row width.</summary>
    public void Diagonal(int input, int output, Parameter weight, bool accumulate, int subRows = 1) =>
        Out(output, _graph.Node("Mul", new[] { In(input, subRows), _graph.Parameter(weight) }), accumulate, subRows);

    /// <summary><c>out[b, j] (+)= in[b, map[j]]</c>.</summary>
    public void Gather(int input, int output, int[] map, bool accumulate, int subRows = 1)
    {
        ArgumentNullException.ThrowIfNull(map);
        var indices = _graph.Int64s(map.Select(i => (long)i).ToArray());
        Out(output, _graph.Node("Gather", new[] { In(input, subRows), indices }, Int("axis", 1)), accumulate, subRows);
    }

    /// <summary>
    /// PEFT HRA's <c>H = H_1 ⋯ H_r</c>, <c>H_i = I − 2 û_i û_iᵀ</c> (a zero column is the identity, as in
    /// <see cref="HouseholderKernels"/>): the r reflections one after another, <c>x − 2 (x·û) ûᵀ</c>, H_r first
    /// (H_1 first when <paramref name="transposed"/>). Never the <c>n × n</c> product.
    /// </summary>
    public void Householder(int input, int output, Parameter u, int n, int r, bool transposed, bool accumulate, int subRows = 1)
    {
        var x = In(input, subRows);
        // Unit columns û_i of u [n, r]; a zero column keeps norm 1 and so stays zero.
        var uName = Reshape(_graph.Parameter(u), n, r);
        var norms = _graph.Node("Sqrt", new[] { _graph.Node("ReduceSum", new[] { _graph.Node("Mul", new[] { uName, uName }), _graph.Int64s(new long[] { 0 }) }, Int("keepdims", 1)) });
        var safe = _graph.Node("Where", new[] { _graph.Node("Greater", new[] { norms, _graph.Scalar(0f) }), norms, _graph.Scalar(1f) });
        var unit = _graph.Node("Div", new[] { uName, safe });                                             // [n, r]
        var two = _graph.Scalar(2f);
        for (var step = 0; step < r; step++)
        {
            var i = transposed ? step : r - 1 - step;
            var column = _graph.Node("Slice", new[] { unit, _graph.Int64s(new long[] { i }), _graph.Int64s(new long[] { i + 1 }), _graph.Int64s(new long[] { 1 }) }); // [n, 1]
            var row = Reshape(column, 1, n);
            var dot = _graph.Node("MatMul", new[] { x, column });                                         // [rows, 1]
            var projection = _graph.Node("MatMul", new[] { _graph.Node("Mul", new[] { dot, two }), row });
            x = _graph.Node("Sub", new[] { x, projection });
        }
        Out(output, x, accumulate, subRows);
    }

    /// <summary>
    /// OFT/BOFT's block rotation: <c>out_i (+)= R_iᵀ in_i</c> (<c>R_i in_i</c> when <paramref name="transposed"/>). ONNX has
    /// no standard matrix inverse for the Cayley transform, so the export stores the rotation blocks the kernels build
    /// (<see cref="OrthogonalKernels.Rotations"/>, <c>[blocks, b, b]</c>) as an initializer <c>{name}.rotation</c>
    /// (<c>{name}.rotation@{offset}</c> for a BOFT factor): block-diagonal, never <c>n × n</c>.
    /// </summary>
    public void Orthogonal(int input, int output, Parameter weight, int offset, int blocks, int block, int terms, SkewLayout skew,
        bool transposed, bool accumulate, int subRows = 1)
    {
        ArgumentNullException.ThrowIfNull(weight);
        var length = (long)blocks * OrthogonalKernels.BlockLength(block, skew);
        var rotations = OrthogonalKernels.Rotations(weight.Data.AsSpan(offset, (int)length), blocks, block, terms, skew);
        // W[g, o, i] of the block product: R_iᵀ (forward) or R_i (transposed).
        var bb = block * block;
        var w = new float[blocks * bb];
        for (var g = 0; g < blocks; g++)
            for (var o = 0; o < block; o++)
                for (var i = 0; i < block; i++)
                    w[g * bb + o * block + i] = (float)(transposed ? rotations[g * bb + o * block + i] : rotations[g * bb + i * block + o]);
        var name = weight.Name + ".rotation" + (offset == 0 ? "" : "@" + offset) + (transposed ? ".t" : "");
        var rotation = _graph.Derived(name, w, blocks, block, block);
        var x = Reshape(In(input, subRows), 0, blocks, block);
        var byBlock = _graph.Node("Transpose", new[] { x }, Ints("perm", 1, 0, 2));                       // [blocks, rows, b]
        var wt = _graph.Node("Transpose", new[] { rotation }, Ints("perm", 0, 2, 1));
        var product = _graph.Node("MatMul", new[] { byBlock, wt });
        var y = Reshape(_graph.Node("Transpose", new[] { product }, Ints("perm", 1, 0, 2)), 0, (long)blocks * block);
        Out(output, y, accumulate, subRows);
    }

    /// <summary>
    /// DoRA's row normalisation: <c>out (+)= v / ‖V_o‖</c> with <c>V = W0 + c·B A</c>, the norms from
    /// <c>‖W0_o‖² + 2c (W0 Aᵀ)_o·B_o + c² B_o (A Aᵀ) B_oᵀ</c> as <see cref="NormalizeKernels"/> takes them (a zero row
    /// divides by 1), never V itself. <paramref name="down"/>/<paramref name="up"/> null: weight normalisation, V = W0.
    /// </summary>
    public void RowNormalize(int input, int output, Parameter baseWeight, Parameter? down, Parameter? up, float scale,
        int outFeatures, int inFeatures, int rank, bool accumulate, int subRows = 1)
    {
        var w0 = Reshape(_graph.Parameter(baseWeight), outFeatures, inFeatures);
        var axis1 = _graph.Int64s(new long[] { 1 });
        var squared = _graph.Node("ReduceSum", new[] { _graph.Node("Mul", new[] { w0, w0 }), axis1 }, Int("keepdims", 0));
        if (rank > 0)
        {
            if (down is null || up is null) throw new ArgumentException("A rank above 0 needs the low-rank factors.");
            var a = Reshape(_graph.Parameter(down), rank, inFeatures);
            var b = Reshape(_graph.Parameter(up), outFeatures, rank);
            var baseTimesDown = _graph.Node("Gemm", new[] { w0, a }, Int("transB", 1));                  // W0 Aᵀ [out, r]
            var gram = _graph.Node("Gemm", new[] { a, a }, Int("transB", 1));                             // A Aᵀ [r, r]
            var cross = _graph.Node("ReduceSum", new[] { _graph.Node("Mul", new[] { baseTimesDown, b }), axis1 }, Int("keepdims", 0));
            var low = _graph.Node("ReduceSum", new[] { _graph.Node("Mul", new[] { _graph.Node("MatMul", new[] { b, gram }), b }), axis1 }, Int("keepdims", 0));
            squared = _graph.Node("Add", new[] { squared, _graph.Node("Mul", new[] { cross, _graph.Scalar(2f * scale) }) });
            squared = _graph.Node("Add", new[] { squared, _graph.Node("Mul", new[] { low, _graph.Scalar(scale * scale) }) });
        }
        var positive = _graph.Node("Greater", new[] { squared, _graph.Scalar(0f) });
        var norms = _graph.Node("Where", new[] { positive, _graph.Node("Sqrt", new[] { squared }), _graph.Scalar(1f) });
        Out(output, _graph.Node("Div", new[] { In(input, subRows), norms }), accumulate, subRows);
    }

    /// <summary>
    /// LoHa's <c>((B1 A1) ∘ (B2 A2)) x</c> as a rank r1·r2 product (face splitting): <c>Ã[(p,q), i] = A1[p,i]·A2[q,i]</c>,
    /// <c>B̃[o,(p,q)] = B1[o,p]·B2[o,q]</c>, then two Gemms; never the <c>out × in</c> matrix.
    /// </summary>
    public void HadamardLowRank(int input, int output, Parameter a1, Parameter b1, Parameter a2, Parameter b2, int inFeatures, int outFeatures,
        int r1, int r2, bool transposed, bool accumulate, int subRows = 1)
    {
        var down = Reshape(_graph.Node("Mul", new[]
        {
            Reshape(_graph.Parameter(a1), r1, 1, inFeatures), Reshape(_graph.Parameter(a2), 1, r2, inFeatures),
        }), (long)r1 * r2, inFeatures);                                                                   // Ã [r1·r2, in]
        var up = Reshape(_graph.Node("Mul", new[]
        {
            Reshape(_graph.Parameter(b1), outFeatures, r1, 1), Reshape(_graph.Parameter(b2), outFeatures, 1, r2),
        }), outFeatures, (long)r1 * r2);                                                                  // B̃ [out, r1·r2]
        var x = In(input, subRows);
        var y = transposed
            ? _graph.Node("MatMul", new[] { _graph.Node("MatMul", new[] { x, up }), down })
            : Gemm(Gemm(x, down, 1f), up, 1f);
        Out(output, y, accumulate, subRows);
    }

    /// <summary>
    /// <c>butterfly()</c>: <c>B_{F−1} ⋯ B_0 x</c> with twiddles <c>[F, n/2, 2, 2]</c> (see <see cref="ButterflyKernels"/>), one
    /// factor at a time as a broadcast <c>Mul</c> and a <c>ReduceSum</c> over each 2 × 2 block's input; factor order and the
    /// blocks reversed when <paramref name="transposed"/>.
    /// </summary>
    public void Butterfly(int input, int output, Parameter twiddle, int n, bool transposed, bool accumulate, int subRows = 1)
    {
        var factors = 0;
        while ((1 << factors) < n) factors++;
        var x = In(input, subRows);
        var all = _graph.Parameter(twiddle);
        for (var step = 0; step < factors; step++)
        {
            var k = transposed ? factors - 1 - step : step;
            var stride = 1 << k;
            long groups = n / (2 * stride);
            // W[k, g·s + j, a, c] as [g, j, a, c], then laid out [g, out, in, j].
            var factor = _graph.Node("Gather", new[] { all, _graph.Int64s(new long[] { k }) }, Int("axis", 0));
            var blocks = Reshape(factor, groups, stride, 2, 2);
            var w = _graph.Node("Transpose", new[] { blocks }, transposed ? Ints("perm", 0, 3, 2, 1) : Ints("perm", 0, 2, 3, 1));
            var xs = Reshape(x, 0, groups, 1, 2, stride);                                                 // [rows, g, 1, in, j]
            var terms = _graph.Node("Mul", new[] { xs, w });                                               // [rows, g, out, in, j]
            var sum = _graph.Node("ReduceSum", new[] { terms, _graph.Int64s(new long[] { 3 }) }, Int("keepdims", 0));
            x = Reshape(sum, 0, n);
        }
        Out(output, x, accumulate, subRows);
    }

    /// <summary>
    /// A quantised frozen base: the codes dequantised by nodes (NF4: each byte's two codes, high nibble first, looked up in
    /// <see cref="QuantizedKernels.Nf4Values"/> and times the group's absmax; int8: code times the row's scale), then
    /// <c>y (+)= alpha · x Wᵀ</c> (<c>alpha · x W</c> when <paramref name="transposed"/>). ONNX has no NF4 type: ONNX
    /// Runtime folds the dequantisation into a float32 W when it loads the model.
    /// </summary>
    public void QuantMatMul(int input, int output, Parameter codes, Parameter scales, QuantFormat format, int outFeatures, int inFeatures,
        int group, bool transposed, float alpha, bool accumulate, int subRows = 1)
    {
        string w;
        if (format == QuantFormat.Nf4)
        {
            var bytes = _graph.Node("Cast", new[] { _graph.Parameter(codes) }, Int("to", (long)global::Onnx.TensorProto.Types.DataType.Int64));
            var sixteen = _graph.Int64s(new long[] { 16 });
            var high = _graph.Node("Div", new[] { bytes, sixteen });
            var low = _graph.Node("Sub", new[] { bytes, _graph.Node("Mul", new[] { high, sixteen }) });
            var pairs = _graph.Node("Concat", new[] { Reshape(high, outFeatures, inFeatures / 2, 1), Reshape(low, outFeatures, inFeatures / 2, 1) }, Int("axis", 2));
            var levels = _graph.Floats(QuantizedKernels.Nf4Values.ToArray(), 16);
            var values = _graph.Node("Gather", new[] { levels, Reshape(pairs, outFeatures, inFeatures / group, group) }, Int("axis", 0));
            var absmax = Reshape(_graph.Parameter(scales), outFeatures, inFeatures / group, 1);
            w = Reshape(_graph.Node("Mul", new[] { values, absmax }), outFeatures, inFeatures);
        }
        else
        {
            var values = _graph.Node("Cast", new[] { _graph.Parameter(codes) }, Int("to", (long)global::Onnx.TensorProto.Types.DataType.Float));
            w = _graph.Node("Mul", new[] { Reshape(values, outFeatures, inFeatures), Reshape(_graph.Parameter(scales), outFeatures, 1) });
        }
        var x = In(input, subRows);
        var y = transposed ? Scaled(_graph.Node("MatMul", new[] { x, w }), alpha) : Gemm(x, w, alpha);
        Out(output, y, accumulate, subRows);
    }

    // ------------------------------------------------------------------ plumbing

    private string Current(int value) =>
        _current.TryGetValue(value, out var name) ? name : throw new InvalidOperationException($"The ONNX program reads value %{value} before any op writes it.");

    /// <summary>The value as <c>[rows · subRows, width / subRows]</c>.</summary>
    private string In(int value, int subRows) =>
        subRows == 1 ? Current(value) : Reshape(Current(value), -1, Width(value) / subRows);

    /// <summary>Makes <paramref name="result"/> the value's tensor (back to <c>[batch, width]</c>), added to the old one when accumulating.</summary>
    private void Out(int value, string result, bool accumulate, int subRows)
    {
        if (subRows != 1) result = Reshape(result, -1, Width(value));
        _current[value] = accumulate && _current.TryGetValue(value, out var old) ? _graph.Node("Add", new[] { old, result }) : result;
    }

    private int Width(int value) =>
        _widths.TryGetValue(value, out var w) ? w : throw new InvalidOperationException($"Value %{value} was not declared in Begin.");

    private string Reshape(string tensor, params long[] shape) => _graph.Node("Reshape", new[] { tensor, _graph.Shape(shape) });

    private string Gemm(string x, string w, float alpha) =>
        alpha == 1f ? _graph.Node("Gemm", new[] { x, w }, Int("transB", 1)) : _graph.Node("Gemm", new[] { x, w }, Int("transB", 1), Float("alpha", alpha));

    private string Scaled(string tensor, float alpha) =>
        alpha == 1f ? tensor : _graph.Node("Mul", new[] { tensor, _graph.Scalar(alpha) });

    /// <summary>The <paramref name="length"/> elements of a parameter from <paramref name="offset"/>, shaped <paramref name="shape"/>.</summary>
    private string Slice(Parameter weight, int offset, long length, long[] shape)
    {
        var name = _graph.Parameter(weight);
        if (offset == 0 && length == weight.Length)
            return weight.Shape.Select(d => (long)d).SequenceEqual(shape) ? name : Reshape(name, shape);
        var flat = Reshape(name, -1);
        var part = _graph.Node("Slice", new[] { flat, _graph.Int64s(new long[] { offset }), _graph.Int64s(new long[] { offset + length }), _graph.Int64s(new long[] { 0 }) });
        return Reshape(part, shape);
    }
}
