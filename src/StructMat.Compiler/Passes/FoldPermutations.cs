using System.Collections.Generic;
using StructMat.Compiler.Analysis;
using StructMat.Compiler.IR;

namespace StructMat.Compiler.Passes;

/// <summary>
/// Folds a row transpose into the block matmul next to it, as a strided layout: a transpose of
/// [Rows, Cols] read by a matmul with Cols groups of Rows inputs is that matmul reading strided; one
/// that transposes a matmul's [groups, blockOut] output is that matmul writing strided. Monarch's
/// two permutations vanish this way into index arithmetic. Likewise a gather that swaps whole blocks
/// (block i reads block i XOR d: the flat block butterfly's diagonals) read by a matmul with blocks of
/// that size is that matmul reading its input block g XOR d, so no swapped copy is made.
/// </summary>
public static class FoldPermutations
{
    public static IrProgram Run(IrProgram program) => RewriteToFixpoint.Run(program, (ops, du, k) => Fold(program, ops, du, k));

    private static bool Fold(IrProgram program, List<IrOp> ops, DefUse du, int k)
    {
        if (ops[k] is GatherOp gather) return FoldBlockXor(program, ops, du, k, gather);
        if (ops[k] is not PermuteOp { Accumulate: false } p) return false;

        // Into the consumer: out = W · transpose(x) reads x strided.
        var readers = du.Readers(p.Output);
        if (p.Output != program.Output && du.Writers(p.Output).Count == 1 && readers.Count == 1
            && ops[readers[0]] is MatMulOp { InLayout: Layout.Contiguous, InGroupXor: 0 } consumer
            && consumer.Groups == p.Cols && consumer.BlockIn == p.Rows && consumer.Input == p.Output && consumer.SubRows == p.SubRows)
        {
            ops[readers[0]] = consumer with { Input = p.Input, InLayout = Layout.Strided };
            ops.RemoveAt(k);
            return true;
        }

        // Into the producer: transpose(W · x) is W · x written strided.
        var writers = du.Writers(p.Input);
        if (p.Input != program.Input && writers.Count == 1 && du.Readers(p.Input).Count == 1
            && ops[writers[0]] is MatMulOp { OutLayout: Layout.Contiguous, Accumulate: false, InGroupXor: 0 } producer
            && producer.Groups == p.Rows && producer.BlockOut == p.Cols && producer.SubRows == p.SubRows)
        {
            ops[writers[0]] = producer with { Output = p.Output, OutLayout = Layout.Strided };
            ops.RemoveAt(k);
            return true;
        }
        return false;
    }

    /// <summary>Into the consumer: <c>out = W · blockxor(x, d)</c> is the matmul reading block <c>g XOR d</c> of x.</summary>
    private static bool FoldBlockXor(IrProgram program, List<IrOp> ops, DefUse du, int k, GatherOp g)
    {
        if (g is not { Map.Kind: IndexMapKind.BlockXor, Accumulate: false } || g.Output == program.Output) return false;
        var readers = du.Readers(g.Output);
        if (du.Writers(g.Output).Count != 1 || readers.Count != 1
            || ops[readers[0]] is not MatMulOp { InLayout: Layout.Contiguous, OutLayout: Layout.Contiguous, InGroupXor: 0 } consumer
            || consumer.Input != g.Output || consumer.BlockIn != g.Map.Block || consumer.SubRows != g.SubRows)
            return false;
        ops[readers[0]] = consumer with { Input = g.Input, InGroupXor = g.Map.Distance };
        ops.RemoveAt(k);
        return true;
    }
}
