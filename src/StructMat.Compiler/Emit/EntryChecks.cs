using StructMat.Compiler.Analysis;

namespace StructMat.Compiler.Emit;

/// <summary>
/// The argument checks that open <c>Forward</c> and <c>Backward</c>, on the CPU and on the device alike: the
/// batch fits 32-bit indexing (intermediates can be wider than the input and output), every span or view holds
/// <c>batch</c> rows, a device view lives on the layer's accelerator, and no output overlaps an input. The checks
/// themselves are the runtime's (<c>Checks.Forward</c>/<c>Backward</c>, <c>DeviceLayer.EnterForward</c>/<c>EnterBackward</c>).
/// </summary>
internal static class EntryChecks
{
    /// <summary>The CPU <c>Forward</c>'s checks (the device twin's are its base class's <c>EnterForward</c>).</summary>
    public static void Forward(SourceWriter w, LayerModel model)
    {
        Batch(w, model.Optimized.ForwardPlan, model);
        w.Line($"{TypeNames.Checks}.Forward(x, y, batch, {model.Bound.Shape.In}, {model.Bound.Shape.Out});");
    }

    /// <summary>The CPU <c>Backward</c>'s checks (the device twin's are its base class's <c>EnterBackward</c>).</summary>
    public static void Backward(SourceWriter w, LayerModel model)
    {
        Batch(w, model.Optimized.BackwardPlan, model);
        w.Line($"{TypeNames.Checks}.Backward(x, dy, dx, batch, {model.Bound.Shape.In}, {model.Bound.Shape.Out});");
    }

    /// <summary>Intermediates wider than the layer's input and output need their own 32-bit check on batch.</summary>
    public static void Batch(SourceWriter w, BufferPlan plan, LayerModel model)
    {
        var widest = 0;
        foreach (var width in plan.SlotWidths) widest = System.Math.Max(widest, width);
        if (widest > System.Math.Max(model.Bound.Shape.In, model.Bound.Shape.Out)) w.Line($"{TypeNames.Checks}.Batch(batch, {widest});");
    }
}
