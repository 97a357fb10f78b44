using StructMat.Compiler.IR;

namespace StructMat.Compiler.Passes;

/// <summary>Rewrites an op to write another value (optionally scaled, accumulating): the move every fusion makes.</summary>
internal static class Retarget
{
    public static bool CanRetarget(IrOp op, float alphaFactor) => op switch
    {
        MatMulOp or MatMulTransposedOp or ScaleOp => true,
        PermuteOp or DiagonalOp or GatherOp or HouseholderOp => alphaFactor == 1f,
        _ => false,
    };

    public static IrOp To(IrOp op, int output, float alphaFactor, bool accumulate) => op switch
    {
        MatMulOp m => m with { Output = output, Alpha = m.Alpha * alphaFactor, Accumulate = accumulate },
        MatMulTransposedOp t => t with { InputGradient = output, Alpha = t.Alpha * alphaFactor, Accumulate = accumulate },
        ScaleOp s => s with { Output = output, Alpha = s.Alpha * alphaFactor, Accumulate = accumulate },
        PermuteOp p when alphaFactor == 1f => p with { Output = output, Accumulate = accumulate },
        DiagonalOp d when alphaFactor == 1f => d with { Output = output, Accumulate = accumulate },
        GatherOp g when alphaFactor == 1f => g with { Output = output, Accumulate = accumulate },
        HouseholderOp h when alphaFactor == 1f => h with { Output = output, Accumulate = accumulate },
        _ => throw new System.InvalidOperationException($"Cannot retarget {op.GetType().Name}"),
    };
}
