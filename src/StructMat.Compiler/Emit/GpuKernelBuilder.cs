using System.Collections.Generic;
using System.Linq;
using StructMat.Compiler.IR;

namespace StructMat.Compiler.Emit;

/// <summary>
/// Builds the ILGPU kernel for each IR op. Block products run on the runtime's shared-memory tiled grouped GEMM
/// (<see cref="TiledGemm"/>: the layer holds only its shape) where a tile fits the blocks, and on a generated kernel
/// with one thread per output element otherwise (tiny blocks), as do the elementwise ops; sizes are literals (or, for
/// the tiled kernel, specialised constants) so the GPU compiler sees constant loop bounds.
/// Identical ops share one kernel (keyed by their arithmetic).
/// </summary>
internal static class GpuKernelBuilder
{
    private const string View = $"{TypeNames.ArrayView}<float>";

    public static GpuKernel For(IrOp op, IrProgram program, int number)
    {
        switch (op)
        {
            case MatMulOp m:
            {
                var key = $"matmul {m.Groups} {m.BlockOut} {m.BlockIn} {m.InLayout} {m.OutLayout} {CSharp.Float(m.Alpha)} {m.Accumulate}{XorKey(m.InGroupXor)}";
                var description = $"block matmul, {m.Groups} groups of {m.BlockOut}x{m.BlockIn}{OpComments.Suffix(m.InLayout, m.OutLayout, m.Alpha, m.Accumulate, m.InGroupXor)}";
                var (inW, outW) = (m.Groups * m.BlockIn, m.Groups * m.BlockOut);
                var tiled = new TiledGemm(
                    A: Activation("input", m.Groups, m.BlockIn, m.InLayout, rowsAreBatch: true) with { GroupXor = m.InGroupXor },
                    B: new AffineView("weight", m.BlockOut * m.BlockIn, XStride: 1, YStride: m.BlockIn),
                    C: Activation("output", m.Groups, m.BlockOut, m.OutLayout, rowsAreBatch: true),
                    Rows: null, Cols: m.BlockOut, K: m.BlockIn, m.Groups, m.Alpha, m.Accumulate);
                if (tiled.Tiling is GemmTiling tiling)
                {
                    return Tiled("MatMulKernel" + number, key, description, tiled, tiling);
                }
                var body = new List<string>
                {
                    "int b = index.X;",
                    "int j = index.Y;",
                    $"{Decompose("j", "g", "o", m.Groups, m.BlockOut, m.OutLayout)}",
                    "float sum = 0.0f;",
                    $"for (int i = 0; i < {m.BlockIn}; i++)",
                    $"    sum += weight[(g * {m.BlockOut} + o) * {m.BlockIn} + i] * input[b * {inW} + {Index(XorGroup(m.InGroupXor), "i", m.Groups, m.BlockIn, m.InLayout)}];",
                    Store("output", $"b * {outW} + j", m.Alpha, m.Accumulate),
                };
                return new GpuKernel(key, "MatMulKernel" + number, $"{TypeNames.Index2D}", new[] { $"{View} input", $"{View} weight", $"{View} output" }, body.ToArray(), description);
            }
            case MatMulTransposedOp t:
            {
                var key = $"matmul_t {t.Groups} {t.BlockOut} {t.BlockIn} {t.InLayout} {t.OutLayout} {CSharp.Float(t.Alpha)} {t.Accumulate}{XorKey(t.InGroupXor)}";
                var description = $"transposed block matmul (input gradient), {t.Groups} groups of {t.BlockOut}x{t.BlockIn}{OpComments.Suffix(t.InLayout, t.OutLayout, t.Alpha, t.Accumulate, t.InGroupXor)}";
                var (inW, outW) = (t.Groups * t.BlockIn, t.Groups * t.BlockOut);
                var tiled = new TiledGemm(
                    A: Activation("outputGradient", t.Groups, t.BlockOut, t.OutLayout, rowsAreBatch: true),
                    B: new AffineView("weight", t.BlockOut * t.BlockIn, XStride: t.BlockIn, YStride: 1),
                    C: Activation("inputGradient", t.Groups, t.BlockIn, t.InLayout, rowsAreBatch: true) with { GroupXor = t.InGroupXor },
                    Rows: null, Cols: t.BlockIn, K: t.BlockOut, t.Groups, t.Alpha, t.Accumulate);
                if (tiled.Tiling is GemmTiling tiling)
                {
                    return Tiled("MatMulTransposedKernel" + number, key, description, tiled, tiling);
                }
                var body = new List<string>
                {
                    "int b = index.X;",
                    "int k = index.Y;",
                    $"{Decompose("k", "g", "i", t.Groups, t.BlockIn, t.InLayout)}",
                };
                // Input block h's gradient comes from block h XOR d, which read it.
                if (t.InGroupXor != 0) body.Add($"g ^= {t.InGroupXor};");
                body.AddRange(new[]
                {
                    "float sum = 0.0f;",
                    $"for (int o = 0; o < {t.BlockOut}; o++)",
                    $"    sum += weight[(g * {t.BlockOut} + o) * {t.BlockIn} + i] * outputGradient[b * {outW} + {Index("g", "o", t.Groups, t.BlockOut, t.OutLayout)}];",
                    Store("inputGradient", $"b * {inW} + k", t.Alpha, t.Accumulate),
                });
                return new GpuKernel(key, "MatMulTransposedKernel" + number, $"{TypeNames.Index2D}", new[] { $"{View} outputGradient", $"{View} weight", $"{View} inputGradient" }, body.ToArray(), description);
            }
            case WeightGradientOp g:
            {
                var key = $"wgrad {g.Groups} {g.BlockOut} {g.BlockIn} {g.InLayout} {g.OutLayout} {CSharp.Float(g.Alpha)}{XorKey(g.InGroupXor)}";
                var description = $"weight gradient, {g.Groups} groups of {g.BlockOut}x{g.BlockIn}, summed over the batch{(g.InGroupXor == 0 ? "" : $"; block g's input is block g XOR {g.InGroupXor} (block swap folded)")}";
                var (inW, outW) = (g.Groups * g.BlockIn, g.Groups * g.BlockOut);
                var tiled = new TiledGemm(
                    A: Activation("outputGradient", g.Groups, g.BlockOut, g.OutLayout, rowsAreBatch: false),
                    B: Activation("input", g.Groups, g.BlockIn, g.InLayout, rowsAreBatch: true) with { GroupXor = g.InGroupXor },
                    C: new AffineView("weightGradient", g.BlockOut * g.BlockIn, XStride: g.BlockIn, YStride: 1),
                    Rows: g.BlockOut, Cols: g.BlockIn, K: null, g.Groups, g.Alpha, Accumulate: true);
                if (tiled.Tiling is GemmTiling tiling)
                {
                    return Tiled("WeightGradientKernel" + number, key, description, tiled, tiling);
                }
                var body = new[]
                {
                    "int e = index;",
                    $"int g = e / {g.BlockOut * g.BlockIn};",
                    $"int o = e / {g.BlockIn} % {g.BlockOut};",
                    $"int i = e % {g.BlockIn};",
                    "float sum = 0.0f;",
                    "for (int b = 0; b < batch; b++)",
                    $"    sum += outputGradient[b * {outW} + {Index("g", "o", g.Groups, g.BlockOut, g.OutLayout)}] * input[b * {inW} + {Index(XorGroup(g.InGroupXor), "i", g.Groups, g.BlockIn, g.InLayout)}];",
                    Store("weightGradient", "e", g.Alpha, accumulate: true),
                };
                return new GpuKernel(key, "WeightGradientKernel" + number, $"{TypeNames.Index1D}", new[] { $"{View} outputGradient", $"{View} input", $"{View} weightGradient", "int batch" }, body, description);
            }
            case PermuteOp p:
            {
                var width = p.Rows * p.Cols;
                var body = new[]
                {
                    "int b = index.X;",
                    "int j = index.Y;",
                    $"int c = j / {p.Rows};",
                    $"int r = j % {p.Rows};",
                    Store("output", $"b * {width} + j", 1f, p.Accumulate, $"input[b * {width} + r * {p.Cols} + c]"),
                };
                return new GpuKernel($"transpose {p.Rows} {p.Cols} {p.Accumulate}", "TransposeKernel" + number, $"{TypeNames.Index2D}",
                    new[] { $"{View} input", $"{View} output" }, body, $"row transpose of [{p.Rows}, {p.Cols}]");
            }
            case ScaleOp s:
                return new GpuKernel($"scale {CSharp.Float(s.Alpha)} {s.Accumulate}", "ScaleKernel" + number, $"{TypeNames.Index1D}",
                    new[] { $"{View} input", $"{View} output" },
                    new[] { Store("output", "index", s.Alpha, s.Accumulate, "input[index]") }, $"elementwise scale");
            case AddOp:
                return new GpuKernel("add", "AddKernel" + number, $"{TypeNames.Index1D}",
                    new[] { $"{View} left", $"{View} right", $"{View} output" },
                    new[] { "output[index] = left[index] + right[index];" }, "elementwise add");
            case BiasOp b:
            {
                var width = program.Value(b.Target).Width;
                return new GpuKernel($"bias {width}", "BiasKernel" + number, $"{TypeNames.Index2D}", new[] { $"{View} target", $"{View} bias" },
                    new[] { $"target[index.X * {width} + index.Y] += bias[index.Y];" }, "bias add");
            }
            case BiasGradientOp bg:
            {
                var width = program.Value(bg.OutputGradient).Width;
                return new GpuKernel($"biasgrad {width}", "BiasGradientKernel" + number, $"{TypeNames.Index1D}",
                    new[] { $"{View} outputGradient", $"{View} biasGradient", "int batch" },
                    new[]
                    {
                        "int j = index;",
                        "float sum = 0.0f;",
                        "for (int b = 0; b < batch; b++)",
                        $"    sum += outputGradient[b * {width} + j];",
                        "biasGradient[j] += sum;",
                    }, "bias gradient: column sums");
            }
            case DiagonalOp d:
            {
                var width = program.Value(d.Output).Width / d.SubRows;
                return new GpuKernel($"diag {width} {d.Accumulate}", "DiagonalKernel" + number, $"{TypeNames.Index2D}",
                    new[] { $"{View} input", $"{View} diagonal", $"{View} output" },
                    new[] { Store("output", $"index.X * {width} + index.Y", 1f, d.Accumulate, $"diagonal[index.Y] * input[index.X * {width} + index.Y]") },
                    "elementwise product with the diagonal");
            }
            case DiagonalGradientOp dg:
            {
                var width = program.Value(dg.Input).Width / dg.SubRows;
                return new GpuKernel($"diaggrad {width}", "DiagonalGradientKernel" + number, $"{TypeNames.Index1D}",
                    new[] { $"{View} outputGradient", $"{View} input", $"{View} diagonalGradient", "int batch" },
                    new[]
                    {
                        "int j = index;",
                        "float sum = 0.0f;",
                        "for (int b = 0; b < batch; b++)",
                        $"    sum += outputGradient[b * {width} + j] * input[b * {width} + j];",
                        "diagonalGradient[j] += sum;",
                    }, "diagonal gradient: column sums of dy ⊙ x");
            }
            case GatherOp g:
                return new GpuKernel($"gather {g.Width} {g.Accumulate}", "GatherKernel" + number, $"{TypeNames.Index2D}",
                    new[] { $"{View} input", $"{TypeNames.ArrayView}<int> map", $"{View} output" },
                    new[] { Store("output", $"index.X * {g.Width} + index.Y", 1f, g.Accumulate, $"input[index.X * {g.Width} + map[index.Y]]") },
                    "permutation as an index map: output j reads input map[j]");
            default:
                throw new System.InvalidOperationException($"No GPU kernel for {op.GetType().Name}");
        }
    }

    /// <summary>The kernel key's part for an input group XOR (kernels differ by it; none when 0).</summary>
    private static string XorKey(int groupXor) => groupXor == 0 ? "" : $" xor {groupXor}";

    /// <summary>The input block group g reads: g, or g XOR d for a folded block swap.</summary>
    private static string XorGroup(int groupXor) => groupXor == 0 ? "g" : $"(g ^ {groupXor})";

    /// <summary>Splits a row position into (group, element) for a layout.</summary>
    private static string Decompose(string position, string group, string element, int groups, int blockSize, Layout layout) =>
        layout == Layout.Contiguous
            ? $"int {group} = {position} / {blockSize}, {element} = {position} % {blockSize};"
            : $"int {group} = {position} % {groups}, {element} = {position} / {groups};";

    /// <summary>The row position of (group, element) for a layout.</summary>
    private static string Index(string group, string element, int groups, int blockSize, Layout layout) =>
        layout == Layout.Contiguous ? $"{group} * {blockSize} + {element}" : $"{element} * {groups} + {group}";

    /// <summary>
    /// A [batch, groups·blockSize] activation as (group, row, element) or, for weight gradients, (group, element, row):
    /// the layout only changes the group and element strides.
    /// </summary>
    private static AffineView Activation(string name, int groups, int blockSize, Layout layout, bool rowsAreBatch)
    {
        var (groupStride, elementStride) = layout == Layout.Contiguous ? (blockSize, 1) : (1, groups);
        var rowStride = groups * blockSize;
        return rowsAreBatch
            ? new AffineView(name, groupStride, XStride: rowStride, YStride: elementStride)
            : new AffineView(name, groupStride, XStride: elementStride, YStride: rowStride);
    }

    /// <summary>A block product the runtime's tiled kernel runs: no body of its own, only its shape.</summary>
    private static GpuKernel Tiled(string method, string key, string description, TiledGemm gemm, GemmTiling tiling) =>
        new(key, method, IndexType: "", Parameters: System.Array.Empty<string>(), Body: System.Array.Empty<string>(), description)
        {
            Tiling = tiling,
            Gemm = gemm,
        };

    internal static string Store(string target, string at, float alpha, bool accumulate, string value = "sum")
    {
        var scaled = alpha == 1f ? value : $"{CSharp.Float(alpha)} * {value}";
        return accumulate ? $"{target}[{at}] += {scaled};" : $"{target}[{at}] = {scaled};";
    }
}
