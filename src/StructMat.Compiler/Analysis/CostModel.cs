using System.Linq;
using StructMat.Compiler.IR;

namespace StructMat.Compiler.Analysis;

/// <summary>
/// Forward multiply-adds per input row: a block matmul costs groups·blockOut·blockIn, a diagonal n,
/// a Householder chain 2·n·r (a dot product and an update per reflection); permutations, transposes,
/// adds and biases cost none. Ops on sub-rows (inside <c>kron</c>) cost that many times more.
/// </summary>
public static class CostModel
{
    public static long FlopsPerRow(IrProgram forward) => forward.Ops.Sum(op => op switch
    {
        MatMulOp m => (long)m.SubRows * m.Groups * m.BlockOut * m.BlockIn,
        DiagonalOp d => forward.Value(d.Output).Width,
        HouseholderOp h => 2L * h.SubRows * h.N * h.R,
        _ => 0L,
    });
}
