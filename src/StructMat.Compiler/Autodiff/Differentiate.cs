using System.Collections.Generic;
using System.Linq;
using StructMat.Compiler.Analysis;
using StructMat.Compiler.IR;

namespace StructMat.Compiler.Autodiff;

/// <summary>
/// Reverse-mode differentiation of a forward program. Every forward op is linear in its activation,
/// so each has a closed-form adjoint: a matmul gives a transposed matmul (input gradient) and a
/// weight gradient, a transpose gives the inverse transpose, a scale the same scale, an add two
/// copies, a bias a column sum. The first write of a gradient overwrites and later ones accumulate.
/// The backward program starts by recomputing just the forward values the weight gradients read.
/// </summary>
public static class Differentiate
{
    public static IrProgram Run(IrLayer layer)
    {
        var forward = layer.Forward;
        var values = forward.Values.ToList();
        var nextId = values.Max(v => v.Id) + 1;
        int NewValue(int width, string name)
        {
            values.Add(new IrValue(nextId, width, name));
            return nextId++;
        }

        var gradient = new Dictionary<int, int>
        {
            [forward.Output] = NewValue(layer.OutFeatures, BackwardValues.OutputGradient),
            [forward.Input] = NewValue(layer.InFeatures, BackwardValues.InputGradient),
        };
        int G(int v)
        {
            if (!gradient.TryGetValue(v, out var g)) gradient[v] = g = NewValue(forward.Value(v).Width, "d" + forward.Value(v).Name);
            return g;
        }
        var written = new HashSet<int> { gradient[forward.Output] };
        bool Accumulate(int g) => !written.Add(g);

        var backward = new List<IrOp>();
        foreach (var op in forward.Ops.Reverse())
        {
            switch (op)
            {
                case MatMulOp m:
                    var dOut = G(m.Output);
                    backward.Add(new MatMulTransposedOp(dOut, G(m.Input), m.Weight, m.Groups, m.BlockOut, m.BlockIn, m.InLayout, m.OutLayout,
                        m.Alpha, Accumulate(G(m.Input)), "input gradient of " + m.Comment) { SubRows = m.SubRows, WeightOffset = m.WeightOffset, InGroupXor = m.InGroupXor });
                    if (layer.Parameter(m.Weight).Trainable)
                    {
                        backward.Add(new WeightGradientOp(dOut, m.Input, m.Weight, m.Groups, m.BlockOut, m.BlockIn, m.InLayout, m.OutLayout,
                            m.Alpha, "weight gradient of " + m.Comment) { SubRows = m.SubRows, WeightOffset = m.WeightOffset, InGroupXor = m.InGroupXor });
                    }
                    break;
                case PermuteOp p:
                    backward.Add(new PermuteOp(G(p.Output), G(p.Input), p.Cols, p.Rows, Accumulate(G(p.Input)), "gradient of " + p.Comment + " (the inverse transpose)") { SubRows = p.SubRows });
                    break;
                case ScaleOp s:
                    backward.Add(new ScaleOp(G(s.Output), G(s.Input), s.Alpha, Accumulate(G(s.Input)), "gradient of " + s.Comment));
                    break;
                case AddOp a:
                    backward.Add(new ScaleOp(G(a.Output), G(a.Left), 1f, Accumulate(G(a.Left)), "gradient of " + a.Comment + ", left"));
                    backward.Add(new ScaleOp(G(a.Output), G(a.Right), 1f, Accumulate(G(a.Right)), "gradient of " + a.Comment + ", right"));
                    break;
                case DiagonalOp d:
                    backward.Add(new DiagonalOp(G(d.Output), G(d.Input), d.Weight, Accumulate(G(d.Input)), "input gradient of " + d.Comment) { SubRows = d.SubRows });
                    if (layer.Parameter(d.Weight).Trainable)
                    {
                        backward.Add(new DiagonalGradientOp(G(d.Output), d.Input, d.Weight, "weight gradient of " + d.Comment) { SubRows = d.SubRows });
                    }
                    break;
                case GatherOp g:
                    // y[j] = x[map[j]]  ⇒  dx[map[j]] = dy[j], a gather with the inverse map.
                    backward.Add(g with { Input = G(g.Output), Output = G(g.Input), Inverse = !g.Inverse, Accumulate = Accumulate(G(g.Input)),
                        Comment = "input gradient of " + g.Comment + " (the inverse map)" });
                    break;
                case HouseholderOp h when !h.Transposed:
                    backward.Add(h with { Input = G(h.Output), Output = G(h.Input), Transposed = true, Accumulate = Accumulate(G(h.Input)),
                        Comment = "input gradient of " + h.Comment + " (Hᵀ: the reflections in reverse order)" });
                    if (layer.Parameter(h.Weight).Trainable)
                    {
                        backward.Add(new HouseholderGradientOp(G(h.Output), h.Input, h.Weight, h.N, h.R, "weight gradient of " + h.Comment) { SubRows = h.SubRows });
                    }
                    break;
                case OrthogonalBlocksOp o when !o.Transposed:
                    backward.Add(o with { Input = G(o.Output), Output = G(o.Input), Transposed = true, Accumulate = Accumulate(G(o.Input)),
                        Comment = "input gradient of " + o.Comment + " (dx_i = R_i dy_i)" });
                    if (layer.Parameter(o.Weight).Trainable)
                    {
                        backward.Add(new OrthogonalBlocksGradientOp(G(o.Output), o.Input, o.Weight, o.Blocks, o.Block, o.Terms, "weight gradient of " + o.Comment)
                            { SubRows = o.SubRows, Skew = o.Skew, WeightOffset = o.WeightOffset });
                    }
                    break;
                case ButterflyOp f when !f.Transposed:
                    backward.Add(f with { Input = G(f.Output), Output = G(f.Input), Transposed = true, Accumulate = Accumulate(G(f.Input)),
                        Comment = "input gradient of " + f.Comment + " (the transposed factors in reverse order)" });
                    if (layer.Parameter(f.Weight).Trainable)
                        backward.Add(new ButterflyGradientOp(G(f.Output), f.Input, f.Weight, f.N, "weight gradient of " + f.Comment) { SubRows = f.SubRows });
                    break;
                case QuantMatMulOp q when !q.Transposed:
                    // A quantised base is frozen: only the input gradient, dequantised the same way.
                    backward.Add(q with { Input = G(q.Output), Output = G(q.Input), Transposed = true, Accumulate = Accumulate(G(q.Input)),
                        Comment = "input gradient of " + q.Comment + " (Wᵀ dy)" });
                    break;
                case HadamardLowRankOp h when !h.Transposed:
                    backward.Add(h with { Input = G(h.Output), Output = G(h.Input), Transposed = true, Accumulate = Accumulate(G(h.Input)),
                        Comment = "input gradient of " + h.Comment + " (the transpose: Ãᵀ (B̃ᵀ dy))" });
                    foreach (var target in new[] { 0, 1, 2, 3 })
                    {
                        var factor = target switch { 0 => h.A1, 1 => h.B1, 2 => h.A2, _ => h.B2 };
                        if (!layer.Parameter(factor).Trainable) continue;
                        backward.Add(new HadamardLowRankGradientOp(G(h.Output), h.Input, h.A1, h.B1, h.A2, h.B2, h.In, h.Out, h.R1, h.R2, target,
                            $"weight gradient of {h.Comment}, {(target % 2 == 0 ? "A" : "B")}{target / 2 + 1}") { SubRows = h.SubRows });
                    }
                    break;
                case RowNormalizeOp r:
                    backward.Add(r with { Input = G(r.Output), Output = G(r.Input), Accumulate = Accumulate(G(r.Input)),
                        Comment = "input gradient of " + r.Comment + " (the same diagonal)" });
                    foreach (var target in r.Rank == 0 ? new[] { 2 } : new[] { 0, 1 })
                    {
                        if (!layer.Parameter(target switch { 0 => r.Down, 1 => r.Up, _ => r.Base }).Trainable) continue;
                        backward.Add(new RowNormalizeGradientOp(G(r.Output), r.Input, r.Base, r.Down, r.Up, r.Scale, r.Out, r.In, r.Rank, target,
                            $"gradient through the norms of {r.Comment}, {(target switch { 0 => "lora_A", 1 => "lora_B", _ => "the weight" })}") { SubRows = r.SubRows });
                    }
                    break;
                case BiasOp b:
                    if (layer.Parameter(b.Bias).Trainable) backward.Add(new BiasGradientOp(G(b.Target), b.Bias, "bias gradient: column sums of dy"));
                    break;
                default:
                    throw new System.InvalidOperationException($"No adjoint for {op.GetType().Name}");
            }
        }

        var recompute = Recompute(forward, backward);
        var program = new IrProgram(values.ToEquatableArray(), recompute.Concat(backward).ToEquatableArray(), forward.Input, gradient[forward.Input]);
        return program;
    }

    /// <summary>The forward ops (in order) that produce the activations the backward ops read.</summary>
    private static List<IrOp> Recompute(IrProgram forward, List<IrOp> backward)
    {
        var forwardValues = new HashSet<int>(forward.Values.Select(v => v.Id));
        var needed = new HashSet<int>(backward.SelectMany(op => op.Reads).Where(forwardValues.Contains));
        needed.Remove(forward.Input);
        var du = new DefUse(forward.Ops);
        var keep = new SortedSet<int>();
        var work = new Stack<int>(needed);
        while (work.Count > 0)
        {
            foreach (var writer in du.Writers(work.Pop()))
            {
                if (!keep.Add(writer)) continue;
                foreach (var read in forward.Ops[writer].Reads.Where(r => r != forward.Input)) work.Push(read);
            }
        }
        return keep.Select(k => forward.Ops[k]).ToList();
    }
}
