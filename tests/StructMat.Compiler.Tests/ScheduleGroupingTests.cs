using System.Linq;
using StructMat.Compiler.Emit;
using StructMat.Compiler.IR;
using StructMat.Compiler.Schedule;
using Xunit;

namespace StructMat.Compiler.Tests;

/// <summary>
/// Which weight gradients the CPU emitter computes in one <c>BlockWeightGradients</c> call: moving a later one up to
/// the first must change no value it reads and no order in which a gradient is summed.
/// </summary>
public class ScheduleGroupingTests
{
    // Values: 0 = x, 1 = dy, 2 = dx, 3 = a scratch value. One parameter of 3 diagonals of 2 groups of 4 x 4 (32 floats each).
    private const int X = 0, Dy = 1, Dx = 2, Scratch = 3, Size = 2 * 4 * 4;

    private static readonly EquatableArray<IrValue> Values =
        new[] { new IrValue(X, 8, "x"), new IrValue(Dy, 8, "dy"), new IrValue(Dx, 8, "dx"), new IrValue(Scratch, 8, "t") }.ToEquatableArray();

    private static WeightGradientOp Diagonal(int index, int xor) =>
        new(Dy, X, 0, 2, 4, 4, Layout.Contiguous, Layout.Contiguous, 1f, "") { WeightOffset = index * Size, InGroupXor = xor };

    private static IrProgram Program(params IrOp[] ops) => new(Values, ops.ToEquatableArray(), X, Dx);

    [Fact]
    public void Diagonals_between_input_gradients_run_together_in_slice_order()
    {
        var program = Program(
            Diagonal(1, 1),
            new ScaleOp(Dy, Dx, 1f, Accumulate: true, ""),
            Diagonal(0, 0),
            new ScaleOp(Dy, Dx, 1f, Accumulate: true, ""),
            Diagonal(2, 2));
        Assert.Equal(new[] { 2, 0, 4 }, CpuSchedule.WeightGradientRun(program, 0));
    }

    [Fact]
    public void An_op_writing_the_input_between_ends_the_run()
    {
        var program = Program(Diagonal(0, 0), Diagonal(1, 1), new ScaleOp(Dy, X, 1f, Accumulate: true, ""), Diagonal(2, 2));
        Assert.Equal(new[] { 0, 1 }, CpuSchedule.WeightGradientRun(program, 0));
    }

    [Fact]
    public void Another_gradient_into_the_parameter_between_ends_the_run()
    {
        var other = new WeightGradientOp(Scratch, X, 0, 1, 8, 8, Layout.Contiguous, Layout.Contiguous, 1f, "");
        var program = Program(Diagonal(0, 0), other, Diagonal(1, 1));
        Assert.Equal(new[] { 0 }, CpuSchedule.WeightGradientRun(program, 0));
    }

    [Fact]
    public void Slices_with_a_gap_or_a_strided_layout_do_not_run_together()
    {
        Assert.Equal(new[] { 0 }, CpuSchedule.WeightGradientRun(Program(Diagonal(0, 0), Diagonal(2, 2)), 0));
        var strided = Diagonal(1, 0) with { InLayout = Layout.Strided };
        Assert.Equal(new[] { 0 }, CpuSchedule.WeightGradientRun(Program(Diagonal(0, 0), strided), 0));
    }
}
