using System;
using System.Collections.Generic;
using System.Linq;
using StructMat.Compiler.Analysis;
using StructMat.Compiler.Autodiff;
using StructMat.Compiler.IR;
using StructMat.Compiler.Schedule;

namespace StructMat.Compiler.Passes;

/// <summary>A layer after the pipeline: optimised forward and backward programs with their buffer plans and CPU schedule.</summary>
public sealed record OptimizedLayer(IrLayer Layer, BufferPlan ForwardPlan, BufferPlan BackwardPlan, long FlopsPerRow, CpuSchedule Schedule)
{
    public IrProgram Forward => Layer.Forward;

    public IrProgram Backward => Layer.Backward!;

    /// <summary>The values a backward program receives from outside: x, dy, dx.</summary>
    internal static int[] BackwardExternalsOf(IrLayer layer) =>
        new[] { layer.Forward.Input, OutputGradientOf(layer.Backward!), layer.Backward!.Output };

    /// <summary>The id of dy in a backward program.</summary>
    public static int OutputGradientOf(IrProgram backward) =>
        backward.Values.First(v => v.Name == BackwardValues.OutputGradient).Id;
}

/// <summary>
/// The only place the pass order is decided. Each step: run, verify, dump "after X".
/// </summary>
public static class PassPipeline
{
    public static OptimizedLayer Run(IrLayer layer, Action<string, string>? dump = null)
    {
        var forwardExternals = new[] { layer.Forward.Input, layer.Forward.Output };
        IrLayer Step(IrLayer current, string name, Func<IrProgram, IrProgram> pass)
        {
            var next = current with { Forward = pass(current.Forward) };
            IrVerifier.Verify(next, next.Forward, name, new[] { next.Forward.Input });
            dump?.Invoke("forward after " + name, IrText.Dump(next, next.Forward));
            return next;
        }

        dump?.Invoke("forward after lowering", IrText.Dump(layer, layer.Forward));
        IrVerifier.Verify(layer, layer.Forward, "lowering", new[] { layer.Forward.Input });

        // Permutations first: folding them exposes matmuls that write the sum's terms directly.
        layer = Step(layer, nameof(FoldPermutations), FoldPermutations.Run);
        // Scales before accumulation: a scaled term becomes a matmul with alpha, which can then accumulate.
        layer = Step(layer, nameof(FoldScales), FoldScales.Run);
        layer = Step(layer, nameof(FuseAccumulation), FuseAccumulation.Run);
        layer = Step(layer, nameof(EliminateDeadValues), p => EliminateDeadValues.Run(p, forwardExternals));

        // Autodiff works on the optimised forward, so the backward inherits its layouts and fusions.
        layer = layer with { Backward = Differentiate.Run(layer) };
        var backwardExternals = OptimizedLayer.BackwardExternalsOf(layer);
        IrLayer BackwardStep(IrLayer current, string name, Func<IrProgram, IrProgram> pass)
        {
            var next = current with { Backward = pass(current.Backward!) };
            IrVerifier.Verify(next, next.Backward!, name, new[] { backwardExternals[0], backwardExternals[1] });
            dump?.Invoke("backward after " + name, IrText.Dump(next, next.Backward!));
            return next;
        }
        layer = BackwardStep(layer, nameof(Differentiate), p => p);
        layer = BackwardStep(layer, nameof(EliminateCopies), p => EliminateCopies.Run(p, backwardExternals));
        layer = BackwardStep(layer, nameof(EliminateDeadValues), p => EliminateDeadValues.Run(p, backwardExternals));

        // Buffer planning after the last pass: it must see the final op order.
        var forwardPlan = BufferPlan.Create(layer.Forward, forwardExternals);
        var backwardPlan = BufferPlan.Create(layer.Backward!, backwardExternals);
        // The schedule last: its batch tiles are sized from the buffer plans.
        var schedule = CpuSchedule.Create(layer, forwardPlan, backwardPlan);
        dump?.Invoke("schedule", ScheduleText.Dump(layer, schedule));
        return new OptimizedLayer(layer, forwardPlan, backwardPlan, CostModel.FlopsPerRow(layer.Forward), schedule);
    }
}
