using StructMat.Compiler.Analysis;

namespace StructMat.Compiler.Emit;

/// <summary>
/// The argument checks that open <c>Forward</c> and <c>Backward</c>, on the CPU and on the device alike: the
/// batch fits 32-bit indexing (intermediates can be wider than the input and output), every span or view holds
/// <c>batch</c> rows, a device view lives on the layer's accelerator, and no output overlaps an input.
/// </summary>
internal static class EntryChecks
{
    public static void Forward(SourceWriter w, LayerModel model, bool device)
    {
        var (i, o) = (model.Bound.Shape.In, model.Bound.Shape.Out);
        Batch(w, model.Optimized.ForwardPlan, model);
        w.Line($"{TypeNames.Checks}.Activation(x.Length, batch, {i}, nameof(x));");
        w.Line($"{TypeNames.Checks}.Activation(y.Length, batch, {o}, nameof(y));");
        if (device)
        {
            Ownership(w, "x", "y");
        }
        Disjoint(w, device, ("x", i), ("y", o));
    }

    public static void Backward(SourceWriter w, LayerModel model, bool device)
    {
        var (i, o) = (model.Bound.Shape.In, model.Bound.Shape.Out);
        Batch(w, model.Optimized.BackwardPlan, model);
        w.Line($"{TypeNames.Checks}.Activation(x.Length, batch, {i}, nameof(x));");
        w.Line($"{TypeNames.Checks}.Activation(dy.Length, batch, {o}, nameof(dy));");
        w.Line($"{TypeNames.Checks}.Activation(dx.Length, batch, {i}, nameof(dx));");
        if (device)
        {
            Ownership(w, "x", "dy", "dx");
        }
        Disjoint(w, device, ("x", i), ("dx", i));
        Disjoint(w, device, ("dy", o), ("dx", i));
    }

    /// <summary>Intermediates wider than the layer's input and output need their own 32-bit check on batch.</summary>
    private static void Batch(SourceWriter w, BufferPlan plan, LayerModel model)
    {
        var widest = 0;
        foreach (var width in plan.SlotWidths) widest = System.Math.Max(widest, width);
        if (widest > System.Math.Max(model.Bound.Shape.In, model.Bound.Shape.Out)) w.Line($"{TypeNames.Checks}.Batch(batch, {widest});");
    }

    private static void Ownership(SourceWriter w, params string[] views)
    {
        foreach (var view in views) w.Line($"{TypeNames.DeviceWorkspace}.CheckOwnership({view}, Accelerator, nameof({view}));");
    }

    /// <summary>An output overlapping an input: the kernels read the input while they write the output, so it throws.</summary>
    private static void Disjoint(SourceWriter w, bool device, (string Name, int Width) input, (string Name, int Width) output)
    {
        var check = device ? $"{TypeNames.DeviceWorkspace}.CheckDisjoint" : $"{TypeNames.Checks}.Disjoint";
        var (inLength, outLength) = device
            ? ($"(long)batch * {input.Width}", $"(long)batch * {output.Width}")
            : ($"batch * {input.Width}", $"batch * {output.Width}");
        w.Line($"{check}({input.Name}, {inLength}, {output.Name}, {outLength}, nameof({input.Name}), nameof({output.Name}));");
    }
}
