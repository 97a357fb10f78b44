using System.Globalization;
using System.Linq;
using System.Text;

namespace StructMat.Compiler.IR;

/// <summary>A stable text form of IR programs, for stage dumps and golden files.</summary>
public static class IrDumper
{
    public static string Dump(IrLayer layer, IrProgram program)
    {
        var text = new StringBuilder();
        foreach (var p in layer.Parameters)
        {
            text.Append("param ").Append(p.Name).Append(" [").Append(string.Join(", ", p.Shape)).Append(']')
                .Append(p.Trainable ? "" : " frozen").Append(" init=").Append(p.Init)
                .Append(p.LearningRateMultiplier == 1f ? "" : " lr×" + p.LearningRateMultiplier.ToString("R", CultureInfo.InvariantCulture)).AppendLine();
        }
        foreach (var v in program.Values)
        {
            text.Append("value %").Append(v.Id).Append(' ').Append(v.Name).Append(" [batch, ").Append(v.Width).AppendLine("]");
        }
        text.Append("input %").Append(program.Input).Append(", output %").Append(program.Output).AppendLine();
        foreach (var op in program.Ops)
        {
            text.Append(Op(layer, op));
            if (op.SubRows != 1) text.Append(" subrows=").Append(op.SubRows);
            var offset = op switch { MatMulOp m => m.WeightOffset, MatMulTransposedOp t => t.WeightOffset, WeightGradientOp w => w.WeightOffset, _ => 0 };
            if (offset != 0) text.Append(" weight_offset=").Append(offset);
            text.AppendLine();
        }
        return text.ToString();
    }

    public static string Op(IrLayer layer, IrOp op)
    {
        string P(int id) => layer.Parameter(id).Name;
        string A(float alpha) => alpha == 1f ? "" : " alpha=" + alpha.ToString("R", CultureInfo.InvariantCulture);
        string Acc(bool accumulate) => accumulate ? " +=" : " =";
        string X(int groupXor) => groupXor == 0 ? "" : " xor=" + groupXor.ToString(CultureInfo.InvariantCulture);
        return op switch
        {
            MatMulOp m => $"%{m.Output}{Acc(m.Accumulate)} matmul %{m.Input}, {P(m.Weight)} groups={m.Groups} block={m.BlockOut}x{m.BlockIn} in={m.InLayout}{X(m.InGroupXor)} out={m.OutLayout}{A(m.Alpha)}",
            MatMulTransposedOp t => $"%{t.InputGradient}{Acc(t.Accumulate)} matmul_t %{t.OutputGradient}, {P(t.Weight)} groups={t.Groups} block={t.BlockOut}x{t.BlockIn} in={t.InLayout}{X(t.InGroupXor)} out={t.OutLayout}{A(t.Alpha)}",
            WeightGradientOp w => $"grad({P(w.Weight)}) += outer %{w.OutputGradient}, %{w.Input} groups={w.Groups} block={w.BlockOut}x{w.BlockIn} in={w.InLayout}{X(w.InGroupXor)} out={w.OutLayout}{A(w.Alpha)}",
            PermuteOp p => $"%{p.Output}{Acc(p.Accumulate)} transpose %{p.Input} rows={p.Rows} cols={p.Cols}",
            ScaleOp s => $"%{s.Output}{Acc(s.Accumulate)} scale %{s.Input}{A(s.Alpha)}",
            AddOp a => $"%{a.Output} = add %{a.Left}, %{a.Right}",
            BiasOp b => $"%{b.Target} += bias {P(b.Bias)}",
            BiasGradientOp g => $"grad({P(g.Bias)}) += colsum %{g.OutputGradient}",
            DiagonalOp d => $"%{d.Output}{Acc(d.Accumulate)} diag %{d.Input}, {P(d.Weight)}",
            DiagonalGradientOp dg => $"grad({P(dg.Weight)}) += colsum %{dg.OutputGradient} * %{dg.Input}",
            GatherOp p => $"%{p.Output}{Acc(p.Accumulate)} gather %{p.Input} {p.Permutation.ToString().ToLowerInvariant()}{(p.Permutation == Semantics.PermutationKind.Random ? " seed=" + p.Seed : "")}{(p.Permutation == Semantics.PermutationKind.BlockXor ? $" block={p.Block} distance={p.Seed}" : "")}{(p.Inverse ? " inverse" : "")}",
            HouseholderOp h => $"%{h.Output}{Acc(h.Accumulate)} householder{(h.Transposed ? "_t" : "")} %{h.Input}, {P(h.Weight)} n={h.N} r={h.R}",
            HouseholderGradientOp hg => $"grad({P(hg.Weight)}) += householder_grad %{hg.OutputGradient}, %{hg.Input} n={hg.N} r={hg.R}",
            _ => op.ToString(),
        };
    }
}
