using System.Linq;
using StructMat.Compiler.IR;

namespace StructMat.Compiler.Analysis;

/// <summary>Forward multiply-adds per input row: Σ over block matmuls of groups·blockOut·blockIn.</summary>
public static class CostModel
{
    public static long FlopsPerRow(IrProgram forward) =>
        forward.Ops.OfType<MatMulOp>().Sum(m => (long)m.Groups * m.BlockOut * m.BlockIn);
}
