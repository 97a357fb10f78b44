using System.Collections.Generic;
using System.Linq;
using StructMat.Compiler.Analysis;
using StructMat.Compiler.IR;

namespace StructMat.Compiler.Emit;

/// <summary>Emits <c>Forward</c> and <c>Backward</c> for the CPU: one call into the SIMD micro-kernels per IR op.</summary>
internal static class CpuEmitter
{
    public static void Emit(SourceWriter w, LayerModel model)
    {
        var forward = model.Optimized.Forward;
        var backward = model.Optimized.Backward;
        var outputGradient = Passes.OptimizedLayer.OutputGradientOf(backward);

        w.Line("/// <summary>");
        w.Line("/// <c>y = W x" + (model.Bound.HasBias ? " + bias" : "") + "</c> for each of <paramref name=\"batch\"/> rows of <paramref name=\"x\"/> (row-major [batch, " + model.Bound.Shape.In + "]).");
        w.Line("/// Safe to call from several threads at once (each has its own workspace; parameters are only read).");
        w.Line("/// <paramref name=\"y\"/> must not overlap <paramref name=\"x\"/>: an in-place call throws an ArgumentException.");
        w.Line("/// </summary>");
        var tileRows = TileRows(model, forward, model.Optimized.ForwardPlan, extraWidths: 0);
        w.Block($"public void Forward({TypeNames.ReadOnlySpan}<float> x, {TypeNames.Span}<float> y, int batch)", () =>
        {
            EntryChecks.Forward(w, model, device: false);
            if (tileRows is int rows)
            {
                w.Comment($"Tiles of up to {rows} rows (fewer where that shares them out evenly over the cores) run the whole op sequence each, so their intermediates stay in cache.");
                w.Line($"{TypeNames.BatchTiles}.Run(x, y, batch, {model.Bound.Shape.In}, {model.Bound.Shape.Out}, {rows}, Parameters, _forwardTile ??= ForwardTile);");
                return;
            }
            var names = new Dictionary<int, string> { [forward.Input] = "x", [forward.Output] = "y" };
            EmitProgram(w, model, forward, model.Optimized.ForwardPlan, names);
        });
        w.Line();
        if (tileRows is not null)
        {
            w.Line($"private {TypeNames.BatchTiles}.TileAction? _forwardTile;");
            w.Line();
            w.Line("/// <summary>The forward pass over one batch tile (see <see cref=\"Forward\"/>).</summary>");
            w.Block($"private void ForwardTile({TypeNames.ReadOnlySpan}<float> x, {TypeNames.Span}<float> y, int batch)", () =>
            {
                var names = new Dictionary<int, string> { [forward.Input] = "x", [forward.Output] = "y" };
                EmitProgram(w, model, forward, model.Optimized.ForwardPlan, names);
            });
            w.Line();
        }
        w.Line("/// <summary>");
        w.Line("/// Writes dL/dx to <paramref name=\"dx\"/> (overwritten) and adds dL/dW to every trainable parameter's");
        w.Line($"/// <see cref=\"{TypeNames.Parameter}.Gradient\"/>; frozen parameters get none. Recomputes the forward intermediates it needs.");
        w.Line("/// Not concurrent: gradients are shared, so a second thread calling it meanwhile gets an InvalidOperationException.");
        w.Line("/// <paramref name=\"dx\"/> must overlap neither <paramref name=\"x\"/> nor <paramref name=\"dy\"/> (an ArgumentException).");
        w.Line("/// </summary>");
        var backwardTileRows = TileRows(model, backward, model.Optimized.BackwardPlan, extraWidths: model.Bound.Shape.In);
        // A backward tile adds its weight gradients into partial buffers that are cleared, written and summed once
        // per tile: that traffic must stay small beside the intermediates the tile keeps in cache, or tiling loses
        // (measured: lowrank and btt at n = 4096 ran slower tiled, kron faster).
        if (backwardTileRows is int backwardRows
            && model.TrainableParameterCount * 4 > (long)backwardRows * model.Optimized.BackwardPlan.SlotWidths.Sum(s => (long)s))
            backwardTileRows = null;
        w.Block($"public void Backward({TypeNames.ReadOnlySpan}<float> x, {TypeNames.ReadOnlySpan}<float> dy, {TypeNames.Span}<float> dx, int batch)", () =>
        {
            EntryChecks.Backward(w, model, device: false);
            w.Line("using var exclusive = _backwardInUse.Enter();");
            if (backwardTileRows is int rows)
            {
                w.Comment($"Tiles of {rows} rows run the whole op sequence each; parameter gradients are summed per tile, then in tile order.");
                w.Line($"{TypeNames.BatchTiles}.RunBackward(x, dy, dx, batch, {model.Bound.Shape.In}, {model.Bound.Shape.Out}, {rows}, Parameters, _backwardTile ??= BackwardTile);");
                return;
            }
            var names = new Dictionary<int, string> { [forward.Input] = "x", [outputGradient] = "dy", [backward.Output] = "dx" };
            EmitProgram(w, model, backward, model.Optimized.BackwardPlan, names, OwnGradient(model));
        });
        if (backwardTileRows is not null)
        {
            w.Line();
            w.Line($"private {TypeNames.BatchTiles}.BackwardTileAction? _backwardTile;");
            w.Line();
            w.Line("/// <summary>The backward pass over one batch tile, adding parameter gradients into <paramref name=\"gradients\"/> (see <see cref=\"Backward\"/>).</summary>");
            w.Block($"private void BackwardTile({TypeNames.ReadOnlySpan}<float> x, {TypeNames.ReadOnlySpan}<float> dy, {TypeNames.Span}<float> dx, int batch, {TypeNames.GradientTargets} gradients)", () =>
            {
                var names = new Dictionary<int, string> { [forward.Input] = "x", [outputGradient] = "dy", [backward.Output] = "dx" };
                var index = model.Ir.Parameters.Select((p, i) => (p.Id, i)).ToDictionary(t => t.Id, t => t.i);
                var local = new Dictionary<int, string>();
                foreach (var weight in backward.Ops.Select(op => op.GradientSlice?.Parameter).OfType<int>().Distinct())
                {
                    if (local.Count == 0) w.Comment("Gradients go to this tile's partial sums (see BatchTiles.RunBackward).");
                    local[weight] = CSharp.CamelCase(model.Property(weight)) + "Gradient";
                    w.Line($"{TypeNames.Span}<float> {local[weight]} = gradients[{index[weight]}];");
                }
                EmitProgram(w, model, backward, model.Optimized.BackwardPlan, names,
                    (weight, offset, length) => offset == 0 && length == model.Ir.Parameter(weight).Length
                        ? local[weight]
                        : $"{local[weight]}.Slice({offset}, {length})");
            });
        }
    }

    /// <summary>Where a parameter's gradient (or a slice of it) is added: its own array.</summary>
    private static GradientOf OwnGradient(LayerModel model) =>
        (weight, offset, length) => offset == 0 && length == model.Ir.Parameter(weight).Length
            ? $"{model.Property(weight)}.Gradient!"
            : $"{TypeNames.MemoryExtensions}.AsSpan({model.Property(weight)}.Gradient!, {offset}, {length})";

    /// <summary>The C# expression of a parameter's gradient buffer, or of <c>length</c> elements of it from <c>offset</c>.</summary>
    private delegate string GradientOf(int weight, int offset, long length);

    /// <summary>Bytes of activations (input, output and intermediates) one forward tile may hold: a few MB, in L2/L3.</summary>
    private const long TileBudgetBytes = 4L << 20;

    /// <summary>
    /// Rows per tile of <paramref name="program"/>, or null to run it over the whole batch at once: tiling pays only
    /// when there are intermediates to keep in cache between ops. At least 64 rows, so that each product still has
    /// the rows to fill the kernels' register tiles; at most 512.
    /// </summary>
    private static int? TileRows(LayerModel model, IrProgram program, BufferPlan plan, int extraWidths)
    {
        if (program.Ops.Count < 2 || plan.SlotWidths.Count == 0) return null;
        long widths = (long)model.Bound.Shape.In + model.Bound.Shape.Out + extraWidths + plan.SlotWidths.Sum(w => (long)w);
        long rows = TileBudgetBytes / (sizeof(float) * widths) / 8 * 8;
        return (int)System.Math.Max(64, System.Math.Min(512, rows));
    }

    private static void EmitProgram(SourceWriter w, LayerModel model, IrProgram program, BufferPlan plan, Dictionary<int, string> names, GradientOf? gradientOf = null)
    {
        gradientOf ??= OwnGradient(model);
        EmitWorkspace(w, program, plan, names, $"{TypeNames.Span}<float>", (slot, length) => $"_workspace.Get({slot}, {length})", "Slice");
        var emitted = new HashSet<int>();
        for (var k = 0; k < program.Ops.Count; k++)
        {
            if (emitted.Contains(k)) continue;
            w.Line();
            if (program.Ops[k] is WeightGradientOp && WeightGradientRun(program, k) is { Count: > 1 } run)
            {
                EmitWeightGradients(w, model, run.Select(i => (WeightGradientOp)program.Ops[i]).ToList(), v => names[v], gradientOf);
                emitted.UnionWith(run);
                continue;
            }
            if (k + 1 < program.Ops.Count && program.Ops[k] is MatMulTransposedOp t && program.Ops[k + 1] is WeightGradientOp g && AreOneBackward(t, g)
                && !emitted.Contains(k + 1) && WeightGradientRun(program, k + 1).Count == 1)
            {
                EmitBackwardPair(w, model, t, g, v => names[v], gradientOf);
                k++;
                continue;
            }
            EmitOp(w, model, program.Ops[k], v => names[v], program, gradientOf);
        }
    }

    /// <summary>
    /// The weight gradients, from op <paramref name="k"/> on, that one <c>CpuKernels.BlockWeightGradients</c> call
    /// computes (a flat block butterfly's diagonals): the same dy, input, parameter, block shape, contiguous layouts,
    /// scale and sub-rows, their slices back to back in the parameter, with no op between them writing dy or the input
    /// or adding another gradient into that parameter (so moving the later ones up changes no value and no sum order).
    /// Ordered by slice; just <paramref name="k"/> when there is no such run.
    /// </summary>
    internal static List<int> WeightGradientRun(IrProgram program, int k)
    {
        var first = (WeightGradientOp)program.Ops[k];
        var run = new List<int> { k };
        if (first.InLayout != Layout.Contiguous || first.OutLayout != Layout.Contiguous) return run;
        for (var j = k + 1; j < program.Ops.Count; j++)
        {
            var op = program.Ops[j];
            if (op is WeightGradientOp g && g.OutputGradient == first.OutputGradient && g.Input == first.Input && g.Weight == first.Weight
                && g.Groups == first.Groups && g.BlockOut == first.BlockOut && g.BlockIn == first.BlockIn
                && g.InLayout == Layout.Contiguous && g.OutLayout == Layout.Contiguous && g.Alpha == first.Alpha && g.SubRows == first.SubRows)
            {
                run.Add(j);
                continue;
            }
            if (op.Writes is { } written && (written == first.OutputGradient || written == first.Input)) break;
            if (op.GradientSlice?.Parameter == first.Weight) break;
        }
        var size = first.Groups * first.BlockOut * first.BlockIn;
        var ordered = run.OrderBy(i => ((WeightGradientOp)program.Ops[i]).WeightOffset).ToList();
        var start = ((WeightGradientOp)program.Ops[ordered[0]]).WeightOffset;
        for (var t = 0; t < ordered.Count; t++)
        {
            if (((WeightGradientOp)program.Ops[ordered[t]]).WeightOffset != start + t * size) return new List<int> { k };
        }
        return ordered;
    }

    private static void EmitWeightGradients(SourceWriter w, LayerModel model, List<WeightGradientOp> run, System.Func<int, string> name, GradientOf gradientOf)
    {
        var first = run[0];
        var length = (long)run.Count * first.Groups * first.BlockOut * first.BlockIn;
        w.Comment($"{run.Count} weight gradients in one call (one pass over {name(first.OutputGradient)} and {name(first.Input)} with 8 or more groups and blocks of 8 or more):");
        foreach (var g in run) w.Comment("- " + g.Comment + Suffix(g.InLayout, g.OutLayout, g.Alpha, accumulate: true, g.InGroupXor));
        var xors = string.Join(", ", run.Select(g => g.InGroupXor));
        w.Line($"{TypeNames.CpuKernels}.BlockWeightGradients({name(first.OutputGradient)}, {name(first.Input)}, {gradientOf(first.Weight, first.WeightOffset, length)}, {Rows(first)}, {first.Groups}, {first.BlockOut}, {first.BlockIn}, stackalloc int[] {{ {xors} }}, {CSharp.Float(first.Alpha)});");
    }

    /// <summary>
    /// An input gradient followed by the weight gradient of the same block product (autodiff emits them so): one
    /// kernel computes both from one read of dy. Not with a folded block swap (the kernel has none).
    /// </summary>
    private static bool AreOneBackward(MatMulTransposedOp t, WeightGradientOp g) =>
        g.OutputGradient == t.OutputGradient && g.Weight == t.Weight && g.WeightOffset == t.WeightOffset
        && g.Groups == t.Groups && g.BlockOut == t.BlockOut && g.BlockIn == t.BlockIn
        && g.InLayout == t.InLayout && g.OutLayout == t.OutLayout && g.Alpha == t.Alpha && g.SubRows == t.SubRows
        && g.InGroupXor == 0 && t.InGroupXor == 0 && g.Input != t.InputGradient;

    private static void EmitBackwardPair(SourceWriter w, LayerModel model, MatMulTransposedOp t, WeightGradientOp g, System.Func<int, string> name, GradientOf gradientOf)
    {
        var length = (long)t.Groups * t.BlockOut * t.BlockIn;
        var weights = WeightSlice(model, t.Weight, t.WeightOffset, length, "Data");
        w.Comment(t.Comment + Suffix(t.InLayout, t.OutLayout, t.Alpha, t.Accumulate));
        w.Comment("and " + g.Comment + ", from the same pass over " + name(t.OutputGradient));
        w.Line($"{TypeNames.CpuKernels}.BlockMatMulBackward({name(t.OutputGradient)}, {name(g.Input)}, {name(t.InputGradient)}, {weights}, {gradientOf(g.Weight, g.WeightOffset, length)}, {Rows(t)}, {t.Groups}, {t.BlockOut}, {t.BlockIn}, {TypeNames.BlockLayout}.{t.InLayout}, {TypeNames.BlockLayout}.{t.OutLayout}, {CSharp.Float(t.Alpha)}, accumulate: {(t.Accumulate ? "true" : "false")});");
    }

    /// <summary>A parameter's member, or a slice of it when the op uses part of the tensor (butterfly factors share `twiddle`).</summary>
    private static string WeightSlice(LayerModel model, int weight, int offset, long length, string member) =>
        offset == 0 && length == model.Ir.Parameter(weight).Length
            ? $"{model.Property(weight)}.{member}"
            : $"{TypeNames.MemoryExtensions}.AsSpan({model.Property(weight)}.{member}, {offset}, {length})";

    private static void EmitOp(SourceWriter w, LayerModel model, IrOp op, System.Func<int, string> name, IrProgram program, GradientOf gradientOf)
    {
        string Layouts(Layout i, Layout o) => $"{TypeNames.BlockLayout}.{i}, {TypeNames.BlockLayout}.{o}";
        string Acc(bool accumulate) => accumulate ? "true" : "false";
        string GroupXor(int groupXor) => groupXor == 0 ? "" : $", inputGroupXor: {groupXor}";
        string Weights(int weight, int offset, long length, string member) => WeightSlice(model, weight, offset, length, member);
        // Rows the kernel sees: each batch row is SubRows rows inside kron.
        var batch = CpuEmitter.Rows(op);
        switch (op)
        {
            case MatMulOp m:
                w.Comment(m.Comment + Suffix(m.InLayout, m.OutLayout, m.Alpha, m.Accumulate, m.InGroupXor));
                w.Line($"{TypeNames.CpuKernels}.BlockMatMul({name(m.Input)}, {name(m.Output)}, {Weights(m.Weight, m.WeightOffset, (long)m.Groups * m.BlockOut * m.BlockIn, "Data")}, {batch}, {m.Groups}, {m.BlockOut}, {m.BlockIn}, {Layouts(m.InLayout, m.OutLayout)}, {CSharp.Float(m.Alpha)}, accumulate: {Acc(m.Accumulate)}{GroupXor(m.InGroupXor)});");
                break;
            case MatMulTransposedOp t:
                w.Comment(t.Comment + Suffix(t.InLayout, t.OutLayout, t.Alpha, t.Accumulate, t.InGroupXor));
                w.Line($"{TypeNames.CpuKernels}.BlockMatMulTransposed({name(t.OutputGradient)}, {name(t.InputGradient)}, {Weights(t.Weight, t.WeightOffset, (long)t.Groups * t.BlockOut * t.BlockIn, "Data")}, {batch}, {t.Groups}, {t.BlockOut}, {t.BlockIn}, {Layouts(t.InLayout, t.OutLayout)}, {CSharp.Float(t.Alpha)}, accumulate: {Acc(t.Accumulate)}{GroupXor(t.InGroupXor)});");
                break;
            case WeightGradientOp g:
                w.Comment(g.Comment + Suffix(g.InLayout, g.OutLayout, g.Alpha, accumulate: true, g.InGroupXor));
                w.Line($"{TypeNames.CpuKernels}.BlockWeightGradient({name(g.OutputGradient)}, {name(g.Input)}, {gradientOf(g.Weight, g.WeightOffset, (long)g.Groups * g.BlockOut * g.BlockIn)}, {batch}, {g.Groups}, {g.BlockOut}, {g.BlockIn}, {Layouts(g.InLayout, g.OutLayout)}, {CSharp.Float(g.Alpha)}{GroupXor(g.InGroupXor)});");
                break;
            case PermuteOp p:
                w.Comment(p.Comment + (p.Accumulate ? " (accumulating)" : ""));
                w.Line($"{TypeNames.CpuKernels}.Transpose({name(p.Input)}, {name(p.Output)}, {batch}, {p.Rows}, {p.Cols}, accumulate: {Acc(p.Accumulate)});");
                break;
            case ScaleOp s:
                w.Comment(s.Comment + (s.Accumulate ? " (accumulating)" : ""));
                w.Line($"{TypeNames.CpuKernels}.Scale({name(s.Input)}, {name(s.Output)}, batch * {program.Value(s.Output).Width}, {CSharp.Float(s.Alpha)}, accumulate: {Acc(s.Accumulate)});");
                break;
            case AddOp a:
                w.Comment(a.Comment);
                var width = program.Value(a.Output).Width;
                w.Line($"{TypeNames.CpuKernels}.Scale({name(a.Left)}, {name(a.Output)}, batch * {width}, 1.0f, accumulate: false);");
                w.Line($"{TypeNames.CpuKernels}.Scale({name(a.Right)}, {name(a.Output)}, batch * {width}, 1.0f, accumulate: true);");
                break;
            case BiasOp b:
                w.Comment(b.Comment);
                w.Line($"{TypeNames.CpuKernels}.AddBias({name(b.Target)}, {model.Property(b.Bias)}.Data, batch, {program.Value(b.Target).Width});");
                break;
            case BiasGradientOp bg:
                w.Comment(bg.Comment);
                w.Line($"{TypeNames.CpuKernels}.BiasGradient({name(bg.OutputGradient)}, {gradientOf(bg.Bias, 0, model.Ir.Parameter(bg.Bias).Length)}, batch, {program.Value(bg.OutputGradient).Width});");
                break;
            case DiagonalOp d:
                w.Comment(d.Comment + (d.Accumulate ? " (accumulating)" : ""));
                w.Line($"{TypeNames.ElementKernels}.Diagonal({name(d.Input)}, {name(d.Output)}, {model.Property(d.Weight)}.Data, {batch}, {program.Value(d.Output).Width / d.SubRows}, accumulate: {Acc(d.Accumulate)});");
                break;
            case DiagonalGradientOp dg:
                w.Comment(dg.Comment);
                w.Line($"{TypeNames.ElementKernels}.DiagonalGradient({name(dg.OutputGradient)}, {name(dg.Input)}, {gradientOf(dg.Weight, 0, model.Ir.Parameter(dg.Weight).Length)}, {batch}, {program.Value(dg.Input).Width / dg.SubRows});");
                break;
            case GatherOp g:
                w.Comment(g.Comment + (g.Accumulate ? " (accumulating)" : ""));
                w.Line($"{TypeNames.ElementKernels}.Gather({name(g.Input)}, {name(g.Output)}, {IndexMaps.Field(g)}, {batch}, {g.Width}, accumulate: {Acc(g.Accumulate)});");
                break;
            case HouseholderOp h:
                w.Comment(h.Comment + (h.Accumulate ? " (accumulating)" : ""));
                w.Line($"{TypeNames.HouseholderKernels}.{(h.Transposed ? "ApplyTransposed" : "Apply")}({name(h.Input)}, {name(h.Output)}, {model.Property(h.Weight)}.Data, {batch}, {h.N}, {h.R}, accumulate: {Acc(h.Accumulate)});");
                break;
            case HouseholderGradientOp hg:
                w.Comment(hg.Comment);
                w.Line($"{TypeNames.HouseholderKernels}.Gradient({name(hg.Input)}, {name(hg.OutputGradient)}, {model.Property(hg.Weight)}.Data, {gradientOf(hg.Weight, 0, model.Ir.Parameter(hg.Weight).Length)}, {batch}, {hg.N}, {hg.R});");
                break;
            default:
                throw new System.InvalidOperationException($"No CPU emission for {op.GetType().Name}");
        }
    }

    /// <summary>
    /// Takes each workspace slot once, at the widest value the buffer plan puts in it, and slices every
    /// intermediate out of its slot. (Asking per value could grow a slot, and so free its old buffer, while
    /// an earlier value still points into it.)
    /// </summary>
    internal static void EmitWorkspace(SourceWriter w, IrProgram program, BufferPlan plan, Dictionary<int, string> names,
        string viewType, System.Func<int, string, string> getSlot, string slice)
    {
        var values = program.Values.Where(v => !names.ContainsKey(v.Id)).ToList();
        if (values.Count == 0) return;
        w.Comment("Intermediates live in workspace slots; values the buffer plan never holds live together share one.");
        foreach (var slot in values.Select(v => plan.Slot(v.Id)).Distinct().OrderBy(s => s))
        {
            w.Line($"{viewType} slot{slot} = {getSlot(slot, "batch * " + plan.SlotWidths[slot])};");
        }
        foreach (var value in values)
        {
            names[value.Id] = value.Name;
            w.Line($"var {value.Name} = slot{plan.Slot(value.Id)}.{slice}(0, batch * {value.Width});");
        }
    }

    /// <summary>The row count a kernel sees for an op: <c>batch</c>, times the op's sub-rows inside <c>kron</c>.</summary>
    internal static string Rows(IrOp op) => op.SubRows == 1 ? "batch" : $"batch * {op.SubRows}";

    /// <summary>What the layouts and flags mean, so the comment says where the permutation went.</summary>
    internal static string Suffix(Layout input, Layout output, float alpha, bool accumulate, int inGroupXor = 0)
    {
        var parts = new List<string>();
        if (input == Layout.Strided) parts.Add("input read strided (permutation folded)");
        if (inGroupXor != 0) parts.Add($"block g's input is block g XOR {inGroupXor} (block swap folded)");
        if (output == Layout.Strided) parts.Add("output written strided (permutation folded)");
        if (alpha != 1f) parts.Add("scaled by " + CSharp.Float(alpha));
        if (accumulate) parts.Add("accumulating");
        return parts.Count == 0 ? "" : "; " + string.Join(", ", parts);
    }
}
