using System.Linq;
using StructMat.Compiler.IR;

namespace StructMat.Compiler.Emit;

/// <summary>
/// Emits <c>WriteOnnx</c>: the forward program (as the CPU forward runs it, after the passes) as one
/// <c>OnnxGraphBuilder</c> call per IR op, with the op's comment. The runtime's builder turns each call into standard
/// ONNX operators; this emitter only passes the op's fields on, so the ONNX graph has the program's structure.
/// </summary>
internal static class OnnxEmitter
{
    public static void Emit(SourceWriter w, LayerModel model)
    {
        var program = model.Optimized.Forward;
        w.Line("/// <inheritdoc/>");
        w.Block($"void {TypeNames.IOnnxExportable}.WriteOnnx({TypeNames.OnnxGraphBuilder} g)", () =>
        {
            var ids = string.Join(", ", program.Values.Select(v => v.Id));
            var widths = string.Join(", ", program.Values.Select(v => v.Width));
            w.Line($"g.Begin(input: {program.Input}, output: {program.Output}, valueIds: new[] {{ {ids} }}, valueWidths: new[] {{ {widths} }});");
            foreach (var op in program.Ops)
            {
                w.Comment(op.Comment);
                w.Line(Call(model, op) + ";");
            }
        });
    }

    private static string Call(LayerModel model, IrOp op)
    {
        string P(int parameter) => model.Property(parameter);
        string B(bool value) => value ? "true" : "false";
        string Sub() => op.SubRows == 1 ? "" : $", subRows: {op.SubRows}";
        string Layout(Layout layout) => $"{TypeNames.BlockLayout}.{layout}";
        switch (op)
        {
            case MatMulOp m:
                var xor = m.InGroupXor == 0 ? "" : $", inputGroupXor: {m.InGroupXor}";
                return $"g.BlockMatMul({m.Input}, {m.Output}, {P(m.Weight)}, {m.WeightOffset}, {m.Groups}, {m.BlockOut}, {m.BlockIn}, {Layout(m.InLayout)}, {Layout(m.OutLayout)}, {CSharp.Float(m.Alpha)}, accumulate: {B(m.Accumulate)}{xor}{Sub()})";
            case PermuteOp p:
                return $"g.Transpose({p.Input}, {p.Output}, {p.Rows}, {p.Cols}, accumulate: {B(p.Accumulate)}{Sub()})";
            case ScaleOp s:
                return $"g.Scale({s.Input}, {s.Output}, {CSharp.Float(s.Alpha)}, accumulate: {B(s.Accumulate)})";
            case AddOp a:
                return $"g.Add({a.Left}, {a.Right}, {a.Output})";
            case BiasOp b:
                return $"g.AddBias({b.Target}, {P(b.Bias)})";
            case DiagonalOp d:
                return $"g.Diagonal({d.Input}, {d.Output}, {P(d.Weight)}, accumulate: {B(d.Accumulate)}{Sub()})";
            case GatherOp g:
                return $"g.Gather({g.Input}, {g.Output}, {IndexMaps.Field(g)}, accumulate: {B(g.Accumulate)}{Sub()})";
            case HouseholderOp h:
                return $"g.Householder({h.Input}, {h.Output}, {P(h.Weight)}, {h.N}, {h.R}, transposed: {B(h.Transposed)}, accumulate: {B(h.Accumulate)}{Sub()})";
            case OrthogonalBlocksOp o:
                var skew = o.Skew == SkewKind.Full ? "Full" : "PackedUpper";
                return $"g.Orthogonal({o.Input}, {o.Output}, {P(o.Weight)}, {o.WeightOffset}, {o.Blocks}, {o.Block}, terms: {o.Terms}, {TypeNames.SkewLayout}.{skew}, transposed: {B(o.Transposed)}, accumulate: {B(o.Accumulate)}{Sub()})";
            case RowNormalizeOp r:
                var factors = r.Down < 0 ? "null, null" : $"{P(r.Down)}, {P(r.Up)}";
                return $"g.RowNormalize({r.Input}, {r.Output}, {P(r.Base)}, {factors}, {CSharp.Float(r.Scale)}, {r.Out}, {r.In}, {r.Rank}, accumulate: {B(r.Accumulate)}{Sub()})";
            case HadamardLowRankOp h:
                return $"g.HadamardLowRank({h.Input}, {h.Output}, {P(h.A1)}, {P(h.B1)}, {P(h.A2)}, {P(h.B2)}, {h.In}, {h.Out}, {h.R1}, {h.R2}, transposed: {B(h.Transposed)}, accumulate: {B(h.Accumulate)}{Sub()})";
            case ButterflyOp f:
                return $"g.Butterfly({f.Input}, {f.Output}, {P(f.Weight)}, {f.N}, transposed: {B(f.Transposed)}, accumulate: {B(f.Accumulate)}{Sub()})";
            case QuantMatMulOp q:
                return $"g.QuantMatMul({q.Input}, {q.Output}, {P(q.Codes)}, {P(q.Scales)}, {TypeNames.QuantFormat}.{q.Format}, {q.Out}, {q.In}, {q.Group}, transposed: {B(q.Transposed)}, {CSharp.Float(q.Alpha)}, accumulate: {B(q.Accumulate)}{Sub()})";
            default:
                throw new System.InvalidOperationException($"No ONNX emission for {op.GetType().Name}");
        }
    }
}
