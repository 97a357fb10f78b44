using StructMat.Compiler.Semantics;
using StructMat.Compiler.Structures;

namespace StructMat.Compiler.Emit;

/// <summary>
/// Emits <c>Project(dense)</c> where the literature has a projection and the layer's weight is that one structure
/// (<see cref="Structure.Projection"/>: dense, lowrank, blockdiag, monarch) or the Kronecker product of two dense
/// factors (the core's: nearest Kronecker product). Other layers get no <c>Project</c>; the bias is left as it is.
/// </summary>
internal static class ProjectionEmitter
{
    /// <summary>Whether the layer gets <c>Project</c> (and implements <c>IProjectable</c>).</summary>
    /// <remarks>A layer whose dense weight no array holds (more than <see cref="DenseEmitter.MaxArrayLength"/> elements) has none.</remarks>
    public static bool IsProjectable(LayerModel model) =>
        Form(model) is not null && (long)model.Bound.Body.Shape.In * model.Bound.Body.Shape.Out <= DenseEmitter.MaxArrayLength;

    private static ProjectionForm? Form(LayerModel model)
    {
        string Data(string name) => model.PropertyOfPath(name) + ".Data";
        return model.Bound.Body switch
        {
            BoundPrimitive p => p.Structure.Projection(p, Data),
            BoundKron { Left: BoundDense { Quant: null } a, Right: BoundDense { Quant: null } b } => new ProjectionForm("the nearest Kronecker product (Van Loan–Pitsianis)",
                $"return {TypeNames.Projections}.Kron(dense, {a.Shape.Out}, {a.Shape.In}, {b.Shape.Out}, {b.Shape.In}, {Data("kron.0.weight")}, {Data("kron.1.weight")});"),
            _ => null,
        };
    }

    public static void Emit(SourceWriter w, LayerModel model)
    {
        if (!IsProjectable(model)) return;
        var form = Form(model)!;
        var (i, o) = (model.Bound.Body.Shape.In, model.Bound.Body.Shape.Out);
        w.Line();
        w.Line($"/// <summary>");
        w.Line($"/// Sets the parameters to the structure nearest <paramref name=\"dense\"/> [{o}, {i}] in Frobenius norm: {form.What}.");
        w.Line("/// Returns the Frobenius error ‖dense − W‖; the bias is not changed.");
        w.Line("/// </summary>");
        w.Block($"public double Project({TypeNames.ReadOnlySpan}<float> dense)", () =>
        {
            w.Line($"if (dense.Length != {(long)o * i}) throw new {TypeNames.ArgumentException}($\"dense has {{dense.Length}} elements, not {o}·{i}.\", nameof(dense));");
            foreach (var line in form.Body) w.Line(line);
        });
    }
}
