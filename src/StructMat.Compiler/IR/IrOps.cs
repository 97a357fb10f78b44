using System.Collections.Generic;

namespace StructMat.Compiler.IR;

/// <summary>Which values an op reads and writes, in one place for every analysis and pass.</summary>
public static class IrOps
{
    public static IEnumerable<int> Reads(IrOp op) => op switch
    {
        MatMulOp m => m.Accumulate ? new[] { m.Input, m.Output } : new[] { m.Input },
        MatMulTransposedOp t => t.Accumulate ? new[] { t.OutputGradient, t.InputGradient } : new[] { t.OutputGradient },
        WeightGradientOp w => new[] { w.OutputGradient, w.Input },
        PermuteOp p => p.Accumulate ? new[] { p.Input, p.Output } : new[] { p.Input },
        ScaleOp s => s.Accumulate ? new[] { s.Input, s.Output } : new[] { s.Input },
        AddOp a => new[] { a.Left, a.Right },
        BiasOp b => new[] { b.Target },
        BiasGradientOp g => new[] { g.OutputGradient },
        DiagonalOp d => d.Accumulate ? new[] { d.Input, d.Output } : new[] { d.Input },
        DiagonalGradientOp dg => new[] { dg.OutputGradient, dg.Input },
        GatherOp p => p.Accumulate ? new[] { p.Input, p.Output } : new[] { p.Input },
        HouseholderOp h => h.Accumulate ? new[] { h.Input, h.Output } : new[] { h.Input },
        HouseholderGradientOp hg => new[] { hg.OutputGradient, hg.Input },
        _ => throw new System.InvalidOperationException($"Unknown op {op.GetType().Name}"),
    };

    /// <summary>The activation an op writes, or null when it writes only a parameter gradient.</summary>
    public static int? Writes(IrOp op) => op switch
    {
        MatMulOp m => m.Output,
        MatMulTransposedOp t => t.InputGradient,
        WeightGradientOp => null,
        PermuteOp p => p.Output,
        ScaleOp s => s.Output,
        AddOp a => a.Output,
        BiasOp b => b.Target,
        BiasGradientOp => null,
        DiagonalOp d => d.Output,
        DiagonalGradientOp => null,
        GatherOp p => p.Output,
        HouseholderOp h => h.Output,
        HouseholderGradientOp => null,
        _ => throw new System.InvalidOperationException($"Unknown op {op.GetType().Name}"),
    };

    /// <summary>The one-line explanation lowering or autodiff attached to an op.</summary>
    public static string Comment(IrOp op) => op switch
    {
        MatMulOp m => m.Comment,
        MatMulTransposedOp t => t.Comment,
        WeightGradientOp w => w.Comment,
        PermuteOp p => p.Comment,
        ScaleOp s => s.Comment,
        AddOp a => a.Comment,
        BiasOp b => b.Comment,
        BiasGradientOp g => g.Comment,
        DiagonalOp d => d.Comment,
        DiagonalGradientOp dg => dg.Comment,
        GatherOp p => p.Comment,
        HouseholderOp h => h.Comment,
        HouseholderGradientOp hg => hg.Comment,
        _ => throw new System.InvalidOperationException($"Unknown op {op.GetType().Name}"),
    };
}
