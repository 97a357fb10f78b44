using StructMat.Compiler.IR;

namespace StructMat.Compiler.Passes;

/// <summary>Renames the values an op reads (not the value it writes).</summary>
internal static class Rename
{
    public static IrOp Reads(IrOp op, int from, int to)
    {
        int R(int v) => v == from ? to : v;
        return op switch
        {
            MatMulOp m => m with { Input = R(m.Input) },
            MatMulTransposedOp t => t with { OutputGradient = R(t.OutputGradient) },
            WeightGradientOp w => w with { OutputGradient = R(w.OutputGradient), Input = R(w.Input) },
            PermuteOp p => p with { Input = R(p.Input) },
            ScaleOp s => s with { Input = R(s.Input) },
            AddOp a => a with { Left = R(a.Left), Right = R(a.Right) },
            BiasGradientOp g => g with { OutputGradient = R(g.OutputGradient) },
            DiagonalOp d => d with { Input = R(d.Input) },
            DiagonalGradientOp dg => dg with { OutputGradient = R(dg.OutputGradient), Input = R(dg.Input) },
            GatherOp p => p with { Input = R(p.Input) },
            HouseholderOp h => h with { Input = R(h.Input) },
            HouseholderGradientOp hg => hg with { OutputGradient = R(hg.OutputGradient), Input = R(hg.Input) },
            _ => op,
        };
    }
}
