using System.Collections.Generic;
using System.Linq;
using StructMat.Compiler.Analysis;
using StructMat.Compiler.IR;
using StructMat.Compiler.Schedule;

namespace StructMat.Compiler.Emit;

/// <summary>
/// Emits <c>Forward</c> and <c>Backward</c> for the CPU: a translation of the IR and its schedule (<see cref="CpuSchedule"/>),
/// one call into the SIMD micro-kernels per schedule step, over batch tiles where the schedule says so.
/// </summary>
internal static class CpuEmitter
{
    public static void Emit(SourceWriter w, LayerModel model)
    {
        var forward = model.Optimized.Forward;
        var backward = model.Optimized.Backward;
        var outputGradient = Passes.OptimizedLayer.OutputGradientOf(backward);

        w.Line("/// <summary><c>y = W x" + (model.Bound.HasBias ? " + bias" : "") + "</c> for each of <paramref name=\"batch\"/> rows of <paramref name=\"x\"/> (row-major [batch, " + model.Bound.Shape.In + "]).</summary>");
        w.Line("/// <inheritdoc/>");
        var schedule = model.Optimized.Schedule;
        var tileRows = schedule.Forward.Tiles.Rows;
        w.Block($"public void Forward({TypeNames.ReadOnlySpan}<float> x, {TypeNames.Span}<float> y, int batch)", () =>
        {
            EntryChecks.Forward(w, model);
            if (tileRows is int rows)
            {
                w.Comment($"Tiles of up to {rows} rows (fewer where that shares them out evenly over the cores) run the whole op sequence each, so their intermediates stay in cache.");
                w.Line($"{TypeNames.BatchTiles}.Run(x, y, batch, {model.Bound.Shape.In}, {model.Bound.Shape.Out}, {rows}, Parameters, _forwardTile ??= ForwardTile);");
                return;
            }
            var names = new Dictionary<int, string> { [forward.Input] = "x", [forward.Output] = "y" };
            EmitProgram(w, model, forward, model.Optimized.ForwardPlan, schedule.Forward, names);
        });
        w.Line();
        if (tileRows is not null)
        {
            w.Line($"private {TypeNames.BatchTiles}.TileAction? _forwardTile;");
            w.Line();
            w.Comment("Forward on one batch tile.");
            w.Block($"private void ForwardTile({TypeNames.ReadOnlySpan}<float> x, {TypeNames.Span}<float> y, int batch)", () =>
            {
                var names = new Dictionary<int, string> { [forward.Input] = "x", [forward.Output] = "y" };
                EmitProgram(w, model, forward, model.Optimized.ForwardPlan, schedule.Forward, names);
            });
            w.Line();
        }
        w.Line("/// <inheritdoc/>");
        var backwardTileRows = schedule.Backward.Tiles.Rows;
        w.Block($"public void Backward({TypeNames.ReadOnlySpan}<float> x, {TypeNames.ReadOnlySpan}<float> dy, {TypeNames.Span}<float> dx, int batch)", () =>
        {
            EntryChecks.Backward(w, model);
            w.Line("using var exclusive = _backwardInUse.Enter();");
            if (backwardTileRows is int rows)
            {
                w.Comment($"Tiles of {rows} rows run the whole op sequence each; parameter gradients are summed per tile, then in tile order.");
                w.Line($"{TypeNames.BatchTiles}.RunBackward(x, dy, dx, batch, {model.Bound.Shape.In}, {model.Bound.Shape.Out}, {rows}, Parameters, _backwardTile ??= BackwardTile);");
                return;
            }
            var names = new Dictionary<int, string> { [forward.Input] = "x", [outputGradient] = "dy", [backward.Output] = "dx" };
            EmitProgram(w, model, backward, model.Optimized.BackwardPlan, schedule.Backward, names, OwnGradient(model));
        });
        if (backwardTileRows is not null)
        {
            w.Line();
            w.Line($"private {TypeNames.BatchTiles}.BackwardTileAction? _backwardTile;");
            w.Line();
            w.Comment("Backward on one batch tile; parameter gradients go to the tile's own sums (gradients).");
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
                EmitProgram(w, model, backward, model.Optimized.BackwardPlan, schedule.Backward, names,
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

    /// <summary>The program as its schedule says: one kernel call per step, each with its comment.</summary>
    private static void EmitProgram(SourceWriter w, LayerModel model, IrProgram program, BufferPlan plan, ProgramSchedule schedule,
        Dictionary<int, string> names, GradientOf? gradientOf = null)
    {
        gradientOf ??= OwnGradient(model);
        Workspaces.Emit(w, program, plan, names, $"{TypeNames.Span}<float>", (slot, length) => $"_workspace.Get({slot}, {length})", "Slice");
        // DoRA's row norms, once per call, shared by every op below that divides by them or differentiates through them
        // (the schedule runs such a program over the whole batch, so this is once per Forward or Backward call).
        var normalized = program.Ops.OfType<RowNormalizeOp>().Select(r => new MagnitudeSource(r.Base, r.Down, r.Up, r.Scale, r.Out, r.In, r.Rank))
            .Concat(program.Ops.OfType<RowNormalizeGradientOp>().Select(g => new MagnitudeSource(g.Base, g.Down, g.Up, g.Scale, g.Out, g.In, g.Rank)))
            .Distinct();
        foreach (var r in normalized)
        {
            w.Comment(r.Rank == 0
                ? $"The row norms of {model.Ir.Parameter(r.Base).Name}, once for this call."
                : $"The row norms of {model.Ir.Parameter(r.Base).Name} + {CSharp.Float(r.Scale)} · B A, from the weights (W0 Aᵀ, A Aᵀ), once for this call.");
            w.Line($"var {RowNormsName(r.Base)} = {TypeNames.NormalizeKernels}.Prepare({NormalizedWeights(model, r.Base, r.Down, r.Up)}, {CSharp.Float(r.Scale)}, {r.Out}, {r.In}, {r.Rank});");
        }
        foreach (var step in schedule.Steps)
        {
            w.Line();
            switch (step)
            {
                case GroupedGradientsStep group:
                    EmitWeightGradients(w, model, group.Gradients.Select(i => (WeightGradientOp)program.Ops[i]).ToList(), v => names[v], gradientOf);
                    break;
                case FusedBackwardStep pair:
                    EmitBackwardPair(w, model, (MatMulTransposedOp)program.Ops[pair.InputGradient], (WeightGradientOp)program.Ops[pair.WeightGradient], v => names[v], gradientOf);
                    break;
                case SingleStep single:
                    EmitOp(w, model, program.Ops[single.Op], v => names[v], program, gradientOf);
                    break;
                default:
                    throw new System.InvalidOperationException($"No CPU emission for {step.GetType().Name}");
            }
        }
    }

    private static void EmitWeightGradients(SourceWriter w, LayerModel model, List<WeightGradientOp> run, System.Func<int, string> name, GradientOf gradientOf)
    {
        var first = run[0];
        var length = (long)run.Count * first.Groups * first.BlockOut * first.BlockIn;
        w.Comment($"{run.Count} weight gradients in one call (one pass over {name(first.OutputGradient)} and {name(first.Input)} with 8 or more groups and blocks of 8 or more):");
        foreach (var g in run) w.Comment("- " + g.Comment + OpComments.Suffix(g.InLayout, g.OutLayout, g.Alpha, accumulate: true, g.InGroupXor));
        var xors = string.Join(", ", run.Select(g => g.InGroupXor));
        w.Line($"{TypeNames.CpuKernels}.BlockWeightGradients({name(first.OutputGradient)}, {name(first.Input)}, {gradientOf(first.Weight, first.WeightOffset, length)}, {OpComments.Rows(first)}, {first.Groups}, {first.BlockOut}, {first.BlockIn}, stackalloc int[] {{ {xors} }}, {CSharp.Float(first.Alpha)});");
    }

    private static void EmitBackwardPair(SourceWriter w, LayerModel model, MatMulTransposedOp t, WeightGradientOp g, System.Func<int, string> name, GradientOf gradientOf)
    {
        var length = (long)t.Groups * t.BlockOut * t.BlockIn;
        var weights = WeightSlice(model, t.Weight, t.WeightOffset, length, "Data");
        w.Comment(t.Comment + OpComments.Suffix(t.InLayout, t.OutLayout, t.Alpha, t.Accumulate));
        w.Comment("and " + g.Comment + ", from the same pass over " + name(t.OutputGradient));
        w.Line($"{TypeNames.CpuKernels}.BlockMatMulBackward({name(t.OutputGradient)}, {name(g.Input)}, {name(t.InputGradient)}, {weights}, {gradientOf(g.Weight, g.WeightOffset, length)}, {OpComments.Rows(t)}, {t.Groups}, {t.BlockOut}, {t.BlockIn}{BlockOptions(t.InLayout, t.OutLayout, t.Alpha, t.Accumulate, groupXor: 0)});");
    }

    /// <summary>
    /// The optional arguments of a block-product kernel call, those that differ from the kernel's defaults (contiguous
    /// layouts, α = 1, no accumulation, no block swap), named.
    /// </summary>
    private static string BlockOptions(Layout inLayout, Layout outLayout, float alpha, bool accumulate, int groupXor)
    {
        var options = new List<string>();
        if (inLayout != Layout.Contiguous) options.Add($"inLayout: {TypeNames.BlockLayout}.{inLayout}");
        if (outLayout != Layout.Contiguous) options.Add($"outLayout: {TypeNames.BlockLayout}.{outLayout}");
        if (alpha != 1f) options.Add($"alpha: {CSharp.Float(alpha)}");
        if (accumulate) options.Add("accumulate: true");
        if (groupXor != 0) options.Add($"inputGroupXor: {groupXor}");
        return string.Concat(options.Select(o => ", " + o));
    }

    /// <summary>The local holding the prepared row norms of the normalize whose frozen base is <paramref name="baseWeight"/>.</summary>
    private static string RowNormsName(int baseWeight) => "rowNorms" + baseWeight.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>W0, A and B of a row normalisation (empty spans for weight normalisation's absent A and B).</summary>
    internal static string NormalizedWeights(LayerModel model, int baseWeight, int down, int up) =>
        down < 0 ? $"{model.Property(baseWeight)}.Data, {TypeNames.ReadOnlySpan}<float>.Empty, {TypeNames.ReadOnlySpan}<float>.Empty" : WeightData(model, baseWeight, down, up);

    /// <summary>The <c>.Data</c> of each parameter, in order: the weights a library kernel reads.</summary>
    private static string WeightData(LayerModel model, params int[] factors) => string.Join(", ", factors.Select(f => model.Property(f) + ".Data"));

    /// <summary>The optional skew-layout argument of the orthogonal kernels (OFT's packed triangles are the default).</summary>
    internal static string SkewArgument(SkewKind skew) => skew == SkewKind.Full ? $", skew: {TypeNames.SkewLayout}.Full" : "";

    /// <summary>A parameter's member, or a slice of it when the op uses part of the tensor (butterfly factors share `twiddle`).</summary>
    private static string WeightSlice(LayerModel model, int weight, int offset, long length, string member) =>
        offset == 0 && length == model.Ir.Parameter(weight).Length
            ? $"{model.Property(weight)}.{member}"
            : $"{TypeNames.MemoryExtensions}.AsSpan({model.Property(weight)}.{member}, {offset}, {length})";

    private static void EmitOp(SourceWriter w, LayerModel model, IrOp op, System.Func<int, string> name, IrProgram program, GradientOf gradientOf)
    {
        string Acc(bool accumulate) => accumulate ? "true" : "false";
        string Weights(int weight, int offset, long length, string member) => WeightSlice(model, weight, offset, length, member);
        // Rows the kernel sees: each batch row is SubRows rows inside kron.
        var batch = OpComments.Rows(op);
        switch (op)
        {
            case MatMulOp m:
                w.Comment(m.Comment + OpComments.Suffix(m.InLayout, m.OutLayout, m.Alpha, m.Accumulate, m.InGroupXor));
                w.Line($"{TypeNames.CpuKernels}.BlockMatMul({name(m.Input)}, {name(m.Output)}, {Weights(m.Weight, m.WeightOffset, (long)m.Groups * m.BlockOut * m.BlockIn, "Data")}, {batch}, {m.Groups}, {m.BlockOut}, {m.BlockIn}{BlockOptions(m.InLayout, m.OutLayout, m.Alpha, m.Accumulate, m.InGroupXor)});");
                break;
            case MatMulTransposedOp t:
                w.Comment(t.Comment + OpComments.Suffix(t.InLayout, t.OutLayout, t.Alpha, t.Accumulate, t.InGroupXor));
                w.Line($"{TypeNames.CpuKernels}.BlockMatMulTransposed({name(t.OutputGradient)}, {name(t.InputGradient)}, {Weights(t.Weight, t.WeightOffset, (long)t.Groups * t.BlockOut * t.BlockIn, "Data")}, {batch}, {t.Groups}, {t.BlockOut}, {t.BlockIn}{BlockOptions(t.InLayout, t.OutLayout, t.Alpha, t.Accumulate, t.InGroupXor)});");
                break;
            case WeightGradientOp g:
                w.Comment(g.Comment + OpComments.Suffix(g.InLayout, g.OutLayout, g.Alpha, accumulate: true, g.InGroupXor));
                w.Line($"{TypeNames.CpuKernels}.BlockWeightGradient({name(g.OutputGradient)}, {name(g.Input)}, {gradientOf(g.Weight, g.WeightOffset, (long)g.Groups * g.BlockOut * g.BlockIn)}, {batch}, {g.Groups}, {g.BlockOut}, {g.BlockIn}{BlockOptions(g.InLayout, g.OutLayout, g.Alpha, accumulate: false, g.InGroupXor)});");
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
            case OrthogonalBlocksOp o:
                w.Comment(o.Comment + (o.Accumulate ? " (accumulating)" : ""));
                w.Line($"{TypeNames.OrthogonalKernels}.{(o.Transposed ? "ApplyTransposed" : "Apply")}({name(o.Input)}, {name(o.Output)}, {Weights(o.Weight, o.WeightOffset, o.WeightLength, "Data")}, {batch}, {o.Blocks}, {o.Block}, terms: {o.Terms}, accumulate: {Acc(o.Accumulate)}{SkewArgument(o.Skew)});");
                break;
            case OrthogonalBlocksGradientOp og:
                w.Comment(og.Comment);
                w.Line($"{TypeNames.OrthogonalKernels}.Gradient({name(og.Input)}, {name(og.OutputGradient)}, {Weights(og.Weight, og.WeightOffset, og.WeightLength, "Data")}, {gradientOf(og.Weight, og.WeightOffset, og.WeightLength)}, {batch}, {og.Blocks}, {og.Block}, terms: {og.Terms}{SkewArgument(og.Skew)});");
                break;
            case RowNormalizeOp r:
                w.Comment(r.Comment + (r.Accumulate ? " (accumulating)" : ""));
                w.Line($"{TypeNames.NormalizeKernels}.Apply({name(r.Input)}, {name(r.Output)}, {RowNormsName(r.Base)}, {batch}, accumulate: {Acc(r.Accumulate)});");
                break;
            case RowNormalizeGradientOp rg:
                w.Comment(rg.Comment);
                w.Line($"{TypeNames.NormalizeKernels}.Gradient({name(rg.OutputGradient)}, {name(rg.Input)}, {NormalizedWeights(model, rg.Base, rg.Down, rg.Up)}, {RowNormsName(rg.Base)}, {gradientOf(rg.TargetParameter, 0, model.Ir.Parameter(rg.TargetParameter).Length)}, target: {rg.Target}, {batch});");
                break;
            case HadamardLowRankOp h:
                w.Comment(h.Comment + (h.Accumulate ? " (accumulating)" : ""));
                w.Line($"{TypeNames.HadamardKernels}.{(h.Transposed ? "ApplyTransposed" : "Apply")}({name(h.Input)}, {name(h.Output)}, {WeightData(model, h.A1, h.B1, h.A2, h.B2)}, {batch}, {h.In}, {h.Out}, {h.R1}, {h.R2}, accumulate: {Acc(h.Accumulate)});");
                break;
            case HadamardLowRankGradientOp hg:
                w.Comment(hg.Comment);
                w.Line($"{TypeNames.HadamardKernels}.Gradient({name(hg.Input)}, {name(hg.OutputGradient)}, {WeightData(model, hg.A1, hg.B1, hg.A2, hg.B2)}, {gradientOf(hg.TargetParameter, 0, model.Ir.Parameter(hg.TargetParameter).Length)}, target: {hg.Target}, {batch}, {hg.In}, {hg.Out}, {hg.R1}, {hg.R2});");
                break;
            case ButterflyOp f:
                w.Comment(f.Comment + (f.Accumulate ? " (accumulating)" : ""));
                w.Line($"{TypeNames.ButterflyKernels}.{(f.Transposed ? "ApplyTransposed" : "Apply")}({name(f.Input)}, {name(f.Output)}, {model.Property(f.Weight)}.Data, {batch}, {f.N}, accumulate: {Acc(f.Accumulate)});");
                break;
            case ButterflyGradientOp fg:
                w.Comment(fg.Comment);
                w.Line($"{TypeNames.ButterflyKernels}.Gradient({name(fg.Input)}, {name(fg.OutputGradient)}, {model.Property(fg.Weight)}.Data, {gradientOf(fg.Weight, 0, model.Ir.Parameter(fg.Weight).Length)}, {batch}, {fg.N});");
                break;
            case QuantMatMulOp q:
                w.Comment(q.Comment + (q.Alpha != 1f ? $", times {CSharp.Float(q.Alpha)}" : "") + (q.Accumulate ? " (accumulating)" : ""));
                w.Line($"{TypeNames.QuantizedKernels}.{(q.Transposed ? "ApplyTransposed" : "Apply")}({name(q.Input)}, {name(q.Output)}, {model.Property(q.Codes)}.Bytes, {model.Property(q.Scales)}.Data, {TypeNames.QuantFormat}.{q.Format}, {batch}, {q.Out}, {q.In}, {q.Group}, {CSharp.Float(q.Alpha)}, accumulate: {Acc(q.Accumulate)});");
                break;
            default:
                throw new System.InvalidOperationException($"No CPU emission for {op.GetType().Name}");
        }
    }
}
