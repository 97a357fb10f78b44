using System;
using System.Collections.Generic;
using System.Linq;

namespace StructMat.Compiler.IR;

/// <summary>
/// Checks the invariants every pass must keep: values are written before they are read, the first
/// write of a value overwrites (later ones may accumulate), widths match each op's arithmetic, and
/// parameter shapes match the ops that use them. Run after every pass; a failure is a compiler bug.
/// </summary>
public static class IrVerifier
{
    public static void Verify(IrLayer layer, IrProgram program, string stage, IEnumerable<int> externals)
    {
        var defined = new HashSet<int>(externals);
        int Width(int id) => program.Values.FirstOrDefault(v => v.Id == id)?.Width
            ?? throw Fail(stage, $"value %{id} is not in the value table");

        for (var k = 0; k < program.Ops.Count; k++)
        {
            var op = program.Ops[k];
            foreach (var read in IrOps.Reads(op))
            {
                if (!defined.Contains(read)) throw Fail(stage, $"op {k} ({op.GetType().Name}) reads %{read} before it is written");
            }
            switch (op)
            {
                case MatMulOp m:
                    Expect(stage, k, Width(m.Input) == m.SubRows * m.Groups * m.BlockIn && Width(m.Output) == m.SubRows * m.Groups * m.BlockOut, "matmul widths");
                    ExpectWeight(layer, stage, k, m.Weight, m.WeightOffset + (long)m.Groups * m.BlockOut * m.BlockIn);
                    ExpectGroupXor(stage, k, m.InGroupXor, m.Groups, m.InLayout, m.OutLayout);
                    break;
                case MatMulTransposedOp t:
                    Expect(stage, k, Width(t.InputGradient) == t.SubRows * t.Groups * t.BlockIn && Width(t.OutputGradient) == t.SubRows * t.Groups * t.BlockOut, "transposed matmul widths");
                    ExpectWeight(layer, stage, k, t.Weight, t.WeightOffset + (long)t.Groups * t.BlockOut * t.BlockIn);
                    ExpectGroupXor(stage, k, t.InGroupXor, t.Groups, t.InLayout, t.OutLayout);
                    break;
                case WeightGradientOp w:
                    Expect(stage, k, Width(w.Input) == w.SubRows * w.Groups * w.BlockIn && Width(w.OutputGradient) == w.SubRows * w.Groups * w.BlockOut, "weight-gradient widths");
                    Expect(stage, k, layer.Parameter(w.Weight).Trainable, "weight gradient of a frozen parameter");
                    ExpectGroupXor(stage, k, w.InGroupXor, w.Groups, w.InLayout, w.OutLayout);
                    break;
                case PermuteOp p:
                    Expect(stage, k, Width(p.Input) == op.SubRows * p.Rows * p.Cols && Width(p.Output) == op.SubRows * p.Rows * p.Cols, "permute widths");
                    break;
                case ScaleOp s:
                    Expect(stage, k, Width(s.Input) == Width(s.Output), "scale widths");
                    break;
                case AddOp a:
                    Expect(stage, k, Width(a.Left) == Width(a.Output) && Width(a.Right) == Width(a.Output), "add widths");
                    break;
                case BiasOp b:
                    Expect(stage, k, layer.Parameter(b.Bias).Length == Width(b.Target), "bias width");
                    break;
                case DiagonalOp d:
                    Expect(stage, k, Width(d.Input) == Width(d.Output) && d.SubRows * layer.Parameter(d.Weight).Length == Width(d.Output), "diagonal widths");
                    break;
                case DiagonalGradientOp dg:
                    Expect(stage, k, Width(dg.Input) == Width(dg.OutputGradient) && dg.SubRows * layer.Parameter(dg.Weight).Length == Width(dg.Input) && layer.Parameter(dg.Weight).Trainable, "diagonal-gradient widths or frozen parameter");
                    break;
                case GatherOp p:
                    Expect(stage, k, Width(p.Input) == p.SubRows * p.Width && Width(p.Output) == p.SubRows * p.Width, "gather widths");
                    break;
                case HouseholderOp h:
                    Expect(stage, k, Width(h.Input) == h.SubRows * h.N && Width(h.Output) == h.SubRows * h.N && layer.Parameter(h.Weight).Length == (long)h.N * h.R, "householder widths");
                    break;
                case HouseholderGradientOp hg:
                    Expect(stage, k, Width(hg.Input) == hg.SubRows * hg.N && Width(hg.OutputGradient) == hg.SubRows * hg.N && layer.Parameter(hg.Weight).Trainable, "householder-gradient widths or frozen parameter");
                    break;
                case BiasGradientOp g:
                    Expect(stage, k, layer.Parameter(g.Bias).Length == Width(g.OutputGradient), "bias-gradient width");
                    break;
            }
            if (IrOps.Writes(op) is { } written)
            {
                var accumulates = IrOps.Reads(op).Contains(written) && op is not BiasOp;
                if (!defined.Contains(written) && accumulates) throw Fail(stage, $"op {k} accumulates into %{written} before anything wrote it");
                defined.Add(written);
            }
        }
        if (!defined.Contains(program.Output)) throw Fail(stage, $"the output %{program.Output} is never written");
    }

    /// <summary>The op's weights end at <paramref name="end"/>: the whole tensor, or (butterfly) within it.</summary>
    private static void ExpectWeight(IrLayer layer, string stage, int op, int weight, long end) =>
        Expect(stage, op, layer.Parameter(weight).Length >= end, $"weight {layer.Parameter(weight).Name} has {layer.Parameter(weight).Length} elements, the op needs {end}");

    /// <summary>An input group XOR keeps every block inside the groups and comes with contiguous layouts only (the runtime's rule).</summary>
    private static void ExpectGroupXor(string stage, int op, int groupXor, int groups, Layout inLayout, Layout outLayout)
    {
        if (groupXor == 0) return;
        long span = 1;
        while (span <= groupXor) span <<= 1;
        Expect(stage, op, groupXor > 0 && groups % span == 0, $"input group XOR {groupXor} leaves the {groups} groups");
        Expect(stage, op, inLayout == Layout.Contiguous && outLayout == Layout.Contiguous, $"input group XOR {groupXor} with a strided layout");
    }

    private static void Expect(string stage, int op, bool condition, string what)
    {
        if (!condition) throw Fail(stage, $"op {op}: {what}");
    }

    private static InvalidOperationException Fail(string stage, string message) =>
        new($"IR verification failed after {stage}: {message}");
}
