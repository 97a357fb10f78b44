using System.Linq;
using StructMat.Compiler.IR;

namespace StructMat.Compiler.Analysis;

/// <summary>
/// Forward multiply-adds per input row: the sum of each op's own count (<see cref="IrOp.MultiplyAdds"/>: a block
/// matmul costs groups·blockOut·blockIn, a diagonal n, a Householder chain 2·n·r; permutations, transposes, adds and
/// biases none), times its sub-rows inside <c>kron</c>.
/// </summary>
public static class CostModel
{
    public static long FlopsPerRow(IrProgram forward) => forward.Ops.Sum(op => op.MultiplyAdds(id => forward.Value(id).Width));
}
