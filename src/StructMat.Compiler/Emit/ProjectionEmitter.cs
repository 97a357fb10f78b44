using StructMat.Compiler.Semantics;

namespace StructMat.Compiler.Emit;

/// <summary>
/// Emits <c>Project(dense)</c> where the literature has a projection and the layer's weight is that one
/// structure: lowrank (truncated SVD), blockdiag (its diagonal blocks), monarch (the closed form, square
/// and rectangular), kron of two dense factors (nearest Kronecker product), and dense (a copy). Other
/// layers get no <c>Project</c>; the bias is left as it is.
/// </summary>
internal static class ProjectionEmitter
{
    /// <summary>Whether the layer gets <c>Project</c> (and implements <c>IProjectable</c>).</summary>
    public static bool IsProjectable(LayerModel model) => model.Bound.Body is BoundDense or BoundLowRank or BoundBlockDiagonal or BoundMonarch
        or BoundKron { Left: BoundDense, Right: BoundDense };

    public static void Emit(SourceWriter w, LayerModel model)
    {
        if (!IsProjectable(model)) return;
        var body = model.Bound.Body;
        var (i, o) = (body.Shape.In, body.Shape.Out);
        string? call = body switch
        {
            BoundDense => null,
            BoundLowRank l => $"{TypeNames.Projections}.LowRank(dense, {o}, {i}, {l.Rank}, LoraA.Data, LoraB.Data)",
            BoundBlockDiagonal b => $"{TypeNames.Projections}.BlockDiagonal(dense, {o}, {i}, {b.Blocks}, Weight.Data)",
            BoundMonarch m => $"{TypeNames.Projections}.Monarch(dense, {o}, {i}, {m.Blocks}, Blkdiag1.Data, Blkdiag2.Data)",
            BoundKron { Left: BoundDense a, Right: BoundDense b } =>
                $"{TypeNames.Projections}.Kron(dense, {a.Shape.Out}, {a.Shape.In}, {b.Shape.Out}, {b.Shape.In}, Kron0Weight.Data, Kron1Weight.Data)",
            _ => throw new System.InvalidOperationException("not projectable"),
        };

        var what = body switch
        {
            BoundDense => "a copy",
            BoundLowRank => "the truncated SVD (Eckart–Young)",
            BoundBlockDiagonal => "its diagonal blocks",
            BoundMonarch => "the closed-form optimum (a truncated SVD per sub-block)",
            _ => "the nearest Kronecker product (Van Loan–Pitsianis)",
        };
        w.Line();
        w.Line($"/// <summary>");
        w.Line($"/// Sets the parameters to the structure nearest <paramref name=\"dense\"/> [{o}, {i}] in Frobenius norm: {what}.");
        w.Line("/// Returns the Frobenius error ‖dense − W‖; the bias is not changed.");
        w.Line("/// </summary>");
        w.Block($"public double Project({TypeNames.ReadOnlySpan}<float> dense)", () =>
        {
            w.Line($"if (dense.Length != {(long)o * i}) throw new {TypeNames.ArgumentException}($\"dense has {{dense.Length}} elements, not {o}·{i}.\", nameof(dense));");
            if (call is null)
            {
                w.Line("dense.CopyTo(Weight.Data);");
                w.Line("return 0.0;");
            }
            else
            {
                w.Line($"return {call};");
            }
        });
    }
}
