using System;
using StructMat.Runtime.Kernels;
using Xunit;

namespace StructMat.Runtime.Tests;

/// <summary>Bad arguments throw an ArgumentException naming the argument, before any memory is touched.</summary>
public class KernelArgumentTests
{
    private const int Batch = 2, Groups = 3, BlockOut = 4, BlockIn = 5;
    private static readonly float[] X = new float[Batch * Groups * BlockIn];
    private static readonly float[] Y = new float[Batch * Groups * BlockOut];
    private static readonly float[] W = new float[Groups * BlockOut * BlockIn];

    private static void AssertNames(string parameter, Action action)
    {
        var e = Assert.Throws<ArgumentException>(action);
        Assert.Equal(parameter, e.ParamName);
    }

    [Fact]
    public void BlockMatMul_rejects_short_spans_negative_sizes_undefined_layouts_and_overlap()
    {
        var c = BlockLayout.Contiguous;
        AssertNames("x", () => CpuKernels.BlockMatMul(X.AsSpan(1), new float[Y.Length], W, Batch, Groups, BlockOut, BlockIn, c, c, 1f, false));
        AssertNames("y", () => CpuKernels.BlockMatMul(X, new float[Y.Length - 1], W, Batch, Groups, BlockOut, BlockIn, c, c, 1f, false));
        AssertNames("w", () => CpuKernels.BlockMatMul(X, new float[Y.Length], W.AsSpan(1), Batch, Groups, BlockOut, BlockIn, c, c, 1f, false));
        AssertNames("batch", () => CpuKernels.BlockMatMul(X, new float[Y.Length], W, -1, Groups, BlockOut, BlockIn, c, c, 1f, false));
        AssertNames("groups", () => CpuKernels.BlockMatMul(X, new float[Y.Length], W, Batch, -3, BlockOut, BlockIn, c, c, 1f, false));
        AssertNames("blockOut", () => CpuKernels.BlockMatMul(X, new float[Y.Length], W, Batch, Groups, -4, BlockIn, c, c, 1f, false));
        AssertNames("blockIn", () => CpuKernels.BlockMatMul(X, new float[Y.Length], W, Batch, Groups, BlockOut, -5, c, c, 1f, false));
        AssertNames("inLayout", () => CpuKernels.BlockMatMul(X, new float[Y.Length], W, Batch, Groups, BlockOut, BlockIn, (BlockLayout)7, c, 1f, false));
        AssertNames("outLayout", () => CpuKernels.BlockMatMul(X, new float[Y.Length], W, Batch, Groups, BlockOut, BlockIn, c, (BlockLayout)(-1), 1f, false));
        AssertNames("blockIn", () => CpuKernels.BlockMatMul(X, new float[Y.Length], W, 0, 1 << 16, 1, 1 << 16, c, c, 1f, false));
        var shared = new float[200];
        AssertNames("y", () => CpuKernels.BlockMatMul(shared.AsSpan(0, X.Length), shared.AsSpan(10, Y.Length), W, Batch, Groups, BlockOut, BlockIn, c, c, 1f, false));
    }

    [Fact]
    public void BlockMatMulBackward_checks_every_argument_before_writing_dx()
    {
        var c = BlockLayout.Contiguous;
        // Small blocks (the two kernels run one after the other) and staged ones (8 groups of 8 x 8).
        foreach (var (groups, block) in new[] { (Groups, BlockIn), (8, 8) })
        {
            int width = groups * block, batch = 3;
            var dy = new float[batch * width];
            var x = new float[batch * width];
            var w = new float[groups * block * block];
            var dx = TestData.Filled(batch * width, 7f);
            AssertNames("dw", () => CpuKernels.BlockMatMulBackward(dy, x, dx, w, new float[w.Length - 1], batch, groups, block, block, c, c, 1f, false));
            AssertNames("x", () => CpuKernels.BlockMatMulBackward(dy, x.AsSpan(1), dx, w, new float[w.Length], batch, groups, block, block, c, c, 1f, false));
            Assert.All(dx, v => Assert.Equal(7f, v));
            AssertNames("dx", () => CpuKernels.BlockMatMulBackward(dy, dx, dx, w, new float[w.Length], batch, groups, block, block, c, c, 1f, false));
            var shared = new float[dx.Length + w.Length];
            AssertNames("dw", () => CpuKernels.BlockMatMulBackward(dy, x, shared.AsSpan(0, dx.Length), w, shared.AsSpan(dx.Length - 1, w.Length), batch, groups, block, block, c, c, 1f, false));
        }
    }

    [Fact]
    public void Block_kernels_reject_an_input_group_xor_that_leaves_the_groups_or_meets_a_strided_layout()
    {
        var c = BlockLayout.Contiguous;
        var s = BlockLayout.Strided;
        // 4 groups of 2 x 2: XOR 1..3 stay inside; 4 reaches group 4..7; XOR 2 on 6 groups maps group 4 to 6.
        var x = new float[2 * 8 * 2];
        var y = new float[2 * 8 * 2];
        var w = new float[8 * 2 * 2];
        AssertNames("inputGroupXor", () => CpuKernels.BlockMatMul(x, y, w, 2, 4, 2, 2, c, c, 1f, false, inputGroupXor: 4));
        AssertNames("inputGroupXor", () => CpuKernels.BlockMatMul(x, y, w, 2, 6, 2, 2, c, c, 1f, false, inputGroupXor: 2));
        AssertNames("inputGroupXor", () => CpuKernels.BlockMatMul(x, y, w, 2, 4, 2, 2, c, c, 1f, false, inputGroupXor: -1));
        AssertNames("inputGroupXor", () => CpuKernels.BlockMatMul(x, y, w, 2, 4, 2, 2, s, c, 1f, false, inputGroupXor: 1));
        AssertNames("inputGroupXor", () => CpuKernels.BlockMatMulTransposed(y, x, w, 2, 4, 2, 2, c, s, 1f, false, inputGroupXor: 1));
        AssertNames("inputGroupXor", () => CpuKernels.BlockWeightGradient(y, x, w, 2, 4, 2, 2, c, c, 1f, inputGroupXor: 4));
        // The largest XOR that stays inside runs.
        CpuKernels.BlockMatMul(x, y, w, 2, 8, 2, 2, c, c, 1f, false, inputGroupXor: 7);
    }

    [Fact]
    public void BlockMatMul_with_an_empty_batch_accepts_empty_activations()
    {
        CpuKernels.BlockMatMul([], [], W, 0, Groups, BlockOut, BlockIn, BlockLayout.Strided, BlockLayout.Contiguous, 1f, false);
        CpuKernels.BlockMatMulTransposed([], [], W, 0, Groups, BlockOut, BlockIn, BlockLayout.Strided, BlockLayout.Contiguous, 1f, false);
        var dw = new float[W.Length];
        CpuKernels.BlockWeightGradient([], [], dw, 0, Groups, BlockOut, BlockIn, BlockLayout.Strided, BlockLayout.Contiguous, 1f);
        Assert.All(dw, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void BlockMatMulTransposed_rejects_short_spans_and_overlap()
    {
        var s = BlockLayout.Strided;
        AssertNames("dy", () => CpuKernels.BlockMatMulTransposed(Y.AsSpan(1), new float[X.Length], W, Batch, Groups, BlockOut, BlockIn, s, s, 1f, false));
        AssertNames("dx", () => CpuKernels.BlockMatMulTransposed(Y, new float[X.Length - 1], W, Batch, Groups, BlockOut, BlockIn, s, s, 1f, false));
        AssertNames("w", () => CpuKernels.BlockMatMulTransposed(Y, new float[X.Length], W.AsSpan(0, 3), Batch, Groups, BlockOut, BlockIn, s, s, 1f, false));
        var weights = (float[])W.Clone();
        AssertNames("dx", () => CpuKernels.BlockMatMulTransposed(Y, weights.AsSpan(0, X.Length), weights, Batch, Groups, BlockOut, BlockIn, s, s, 1f, false));
    }

    [Fact]
    public void BlockWeightGradient_rejects_short_spans_and_overlap()
    {
        var c = BlockLayout.Contiguous;
        AssertNames("dy", () => CpuKernels.BlockWeightGradient(Y.AsSpan(2), X, new float[W.Length], Batch, Groups, BlockOut, BlockIn, c, c, 1f));
        AssertNames("x", () => CpuKernels.BlockWeightGradient(Y, X.AsSpan(2), new float[W.Length], Batch, Groups, BlockOut, BlockIn, c, c, 1f));
        AssertNames("dw", () => CpuKernels.BlockWeightGradient(Y, X, new float[W.Length - 1], Batch, Groups, BlockOut, BlockIn, c, c, 1f));
        var shared = new float[200];
        AssertNames("dw", () => CpuKernels.BlockWeightGradient(Y, shared.AsSpan(0, X.Length), shared.AsSpan(5, W.Length), Batch, Groups, BlockOut, BlockIn, c, c, 1f));
    }

    [Fact]
    public void Elementwise_kernels_reject_short_spans_and_negative_sizes()
    {
        AssertNames("x", () => CpuKernels.Transpose(new float[11], new float[12], 2, 2, 3, false));
        AssertNames("y", () => CpuKernels.Transpose(new float[12], new float[11], 2, 2, 3, false));
        AssertNames("rows", () => CpuKernels.Transpose(new float[12], new float[12], 2, -2, 3, false));
        var shared = new float[30];
        AssertNames("y", () => CpuKernels.Transpose(shared.AsSpan(0, 12), shared.AsSpan(6, 12), 2, 2, 3, false));

        AssertNames("length", () => CpuKernels.Scale(new float[3], new float[3], -1, 1f, false));
        AssertNames("y", () => CpuKernels.Scale(new float[3], new float[2], 3, 1f, false));
        AssertNames("y", () => CpuKernels.Scale(shared.AsSpan(0, 5), shared.AsSpan(1, 5), 5, 1f, false));

        AssertNames("bias", () => CpuKernels.AddBias(new float[6], new float[2], 2, 3));
        AssertNames("y", () => CpuKernels.AddBias(new float[5], new float[3], 2, 3));
        AssertNames("width", () => CpuKernels.AddBias(new float[6], new float[3], 2, -3));

        AssertNames("dbias", () => CpuKernels.BiasGradient(new float[6], new float[2], 2, 3));
        AssertNames("dy", () => CpuKernels.BiasGradient(new float[5], new float[3], 2, 3));
        AssertNames("batch", () => CpuKernels.BiasGradient(new float[6], new float[3], -2, 3));
    }
}
