using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using StructMat.Compiler.Analysis;
using StructMat.Compiler.IR;

namespace StructMat.Compiler.Schedule;

/// <summary>
/// One step of a CPU schedule: the ops (indices into the program) one kernel call runs. Must be immutable and
/// structurally equatable.
/// </summary>
public abstract record ScheduleStep
{
    /// <summary>The program's ops this step runs, in the order the kernel takes them.</summary>
    public abstract EquatableArray<int> Ops { get; }
}

/// <summary>One op, one kernel call.</summary>
public sealed record SingleStep(int Op) : ScheduleStep
{
    public override EquatableArray<int> Ops => new[] { Op }.ToEquatableArray();
}

/// <summary>An input gradient and the weight gradient of the same block product, from one pass over dy (<c>CpuKernels.BlockMatMulBackward</c>).</summary>
public sealed record FusedBackwardStep(int InputGradient, int WeightGradient) : ScheduleStep
{
    public override EquatableArray<int> Ops => new[] { InputGradient, WeightGradient }.ToEquatableArray();
}

/// <summary>Weight gradients of back-to-back slices of one parameter, from one staged pass (<c>CpuKernels.BlockWeightGradients</c>), in slice order.</summary>
public sealed record GroupedGradientsStep(EquatableArray<int> Gradients) : ScheduleStep
{
    public override EquatableArray<int> Ops => Gradients;
}

/// <summary>How a program runs over the batch: tiles of at most <see cref="Rows"/> rows, or (null) the whole batch at once; and why.</summary>
public sealed record TilePlan(int? Rows, string Reason);

/// <summary>The CPU schedule of one program: its tiling and its steps, in program order of their first op.</summary>
public sealed record ProgramSchedule(TilePlan Tiles, EquatableArray<ScheduleStep> Steps);

/// <summary>
/// The CPU schedule of a layer: the decisions the CPU emitter translates, taken here and dumped (stage "schedule")
/// so that they are visible and golden-tested. Forward and backward each get a batch-tile plan; the backward's
/// steps fuse a block product's input and weight gradients into one kernel call and group the weight gradients of
/// a flat block butterfly's diagonals. Every rule keeps each value and each sum order of the op-by-op program.
/// Must be immutable and structurally equatable.
/// </summary>
public sealed record CpuSchedule(ProgramSchedule Forward, ProgramSchedule Backward)
{
    /// <summary>
    /// Bytes of activations (input, output and intermediates) one tile may hold: a few MB, so that a tile's
    /// intermediates stay in L2/L3 between the ops that write and read them.
    /// </summary>
    public const long TileBudgetBytes = 4L << 20;

    /// <summary>The fewest rows a tile has: each block product still gets the rows to fill the kernels' register tiles.</summary>
    public const int MinTileRows = 64;

    /// <summary>The most rows a tile has (the runtime's BatchTiles may cut fewer, to share tiles out evenly over the cores).</summary>
    public const int MaxTileRows = 512;

    /// <summary>Tile rows are a multiple of this: the GEMM micro-kernel's register tile height (<c>Gemm.MR</c>).</summary>
    public const int TileRowMultiple = 8;

    /// <summary>
    /// A backward tile adds its weight gradients into partial buffers (one per tile, of every trainable parameter):
    /// each is cleared, added into (a read and a write) and read once more when the tiles are summed, about this many
    /// passes over the trainable floats per tile. Tiling the backward pays only while that traffic stays below the
    /// tile's intermediates (rows × workspace floats per row), which tiling keeps in cache. The rule separates the
    /// measured cases (commit 16a3510): kron faster tiled; lowrank, btt and monarch at n = 4096 slower.
    /// </summary>
    public const int PartialGradientPasses = 4;

    public static CpuSchedule Create(IrLayer layer, BufferPlan forwardPlan, BufferPlan backwardPlan)
    {
        var (i, o) = (layer.InFeatures, layer.OutFeatures);
        var forward = new ProgramSchedule(TileRows(layer.Forward, forwardPlan, i + o), Steps(layer.Forward));

        var backwardProgram = layer.Backward!;
        var backwardTiles = TileRows(backwardProgram, backwardPlan, i + o + i); // x, dy and dx
        if (backwardTiles.Rows is int rows)
        {
            var trainable = layer.Parameters.Where(p => p.Trainable).Sum(p => p.Length);
            var intermediates = (long)rows * backwardPlan.SlotWidths.Sum(w => (long)w);
            if (trainable * PartialGradientPasses > intermediates)
            {
                backwardTiles = new TilePlan(null,
                    $"the whole batch: partial gradients cost {PartialGradientPasses} × {Count(trainable)} trainable floats per tile, more than the tile's {Count(intermediates)} intermediate floats ({rows} rows)");
            }
        }
        return new CpuSchedule(forward, new ProgramSchedule(backwardTiles, Steps(backwardProgram)));
    }

    /// <summary>
    /// Rows per tile of <paramref name="program"/>: <see cref="TileBudgetBytes"/> over the floats of a row (the
    /// external activations and every workspace slot), clamped to [<see cref="MinTileRows"/>, <see cref="MaxTileRows"/>];
    /// the whole batch at once where there is no intermediate to keep in cache between ops.
    /// </summary>
    private static TilePlan TileRows(IrProgram program, BufferPlan plan, int externalWidths)
    {
        if (program.Ops.Count < 2 || plan.SlotWidths.Count == 0) return new TilePlan(null, "the whole batch: no intermediate to keep in cache between ops");
        var perCall = program.Ops.Select((op, k) => (Op: k, Work: op.PerCallMultiplyAdds)).Where(o => o.Work > 0).ToList();
        if (perCall.Count > 0)
            return new TilePlan(null, $"the whole batch: op {perCall[0].Op} spends {Count(perCall[0].Work)} multiply-adds per call on its weights, which every tile would repeat");
        long widths = externalWidths + plan.SlotWidths.Sum(w => (long)w);
        long fit = TileBudgetBytes / (sizeof(float) * widths) / TileRowMultiple * TileRowMultiple;
        var rows = (int)System.Math.Max(MinTileRows, System.Math.Min(MaxTileRows, fit));
        return new TilePlan(rows, $"tiles of up to {rows} rows: {TileBudgetBytes >> 20} MB of activations over {Count(widths)} floats a row fits {Count(fit)} rows, taken within [{MinTileRows}, {MaxTileRows}]");
    }

    private static EquatableArray<ScheduleStep> Steps(IrProgram program)
    {
        var steps = new List<ScheduleStep>();
        var taken = new HashSet<int>();
        for (var k = 0; k < program.Ops.Count; k++)
        {
            if (taken.Contains(k)) continue;
            if (program.Ops[k] is WeightGradientOp && WeightGradientRun(program, k) is { Count: > 1 } run)
            {
                steps.Add(new GroupedGradientsStep(run.ToEquatableArray()));
                taken.UnionWith(run);
                continue;
            }
            if (k + 1 < program.Ops.Count && program.Ops[k] is MatMulTransposedOp t && program.Ops[k + 1] is WeightGradientOp g
                && AreOneBackward(t, g) && !taken.Contains(k + 1) && WeightGradientRun(program, k + 1).Count == 1)
            {
                steps.Add(new FusedBackwardStep(k, k + 1));
                taken.Add(k + 1);
                continue;
            }
            steps.Add(new SingleStep(k));
        }
        return steps.ToEquatableArray();
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
        var size = first.WeightLength;
        var ordered = run.OrderBy(i => ((WeightGradientOp)program.Ops[i]).WeightOffset).ToList();
        var start = ((WeightGradientOp)program.Ops[ordered[0]]).WeightOffset;
        for (var t = 0; t < ordered.Count; t++)
        {
            if (((WeightGradientOp)program.Ops[ordered[t]]).WeightOffset != start + t * size) return new List<int> { k };
        }
        return ordered;
    }

    /// <summary>
    /// An input gradient followed by the weight gradient of the same block product (autodiff emits them so): one
    /// kernel computes both from one read of dy. Not with a folded block swap (the kernel has none), nor when the
    /// weight gradient reads the input gradient's own output.
    /// </summary>
    internal static bool AreOneBackward(MatMulTransposedOp t, WeightGradientOp g) =>
        g.OutputGradient == t.OutputGradient && g.Weight == t.Weight && g.WeightOffset == t.WeightOffset
        && g.Groups == t.Groups && g.BlockOut == t.BlockOut && g.BlockIn == t.BlockIn
        && g.InLayout == t.InLayout && g.OutLayout == t.OutLayout && g.Alpha == t.Alpha && g.SubRows == t.SubRows
        && g.InGroupXor == 0 && t.InGroupXor == 0 && g.Input != t.InputGradient;

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
