using System.Linq;
using System.Text;
using StructMat.Compiler.IR;

namespace StructMat.Compiler.Schedule;

/// <summary>The schedule's text form (stage dump "schedule"): each program's tile plan and its steps, one line each.</summary>
public static class ScheduleText
{
    public static string Dump(IrLayer layer, CpuSchedule schedule) =>
        Program("forward", layer, layer.Forward, schedule.Forward) + Program("backward", layer, layer.Backward!, schedule.Backward);

    private static string Program(string name, IrLayer layer, IrProgram program, ProgramSchedule schedule)
    {
        var text = new StringBuilder();
        text.Append(name).Append(": ").Append(schedule.Tiles.Reason).Append('\n');
        foreach (var step in schedule.Steps)
        {
            var ops = string.Join(", ", step.Ops);
            text.Append(step switch
            {
                SingleStep s => $"  op {s.Op}: {IrText.Op(layer, program.Ops[s.Op])}",
                FusedBackwardStep f => $"  ops {ops}: one pass over %{((MatMulTransposedOp)program.Ops[f.InputGradient]).OutputGradient} for the input and weight gradients of one block product (BlockMatMulBackward)",
                GroupedGradientsStep g => $"  ops {ops}: {g.Gradients.Count} weight gradients of back-to-back slices of {layer.Parameter(((WeightGradientOp)program.Ops[g.Gradients[0]]).Weight).Name}, one staged pass (BlockWeightGradients)",
                _ => throw new System.InvalidOperationException($"No text for {step.GetType().Name}"),
            }).Append('\n');
        }
        return text.ToString();
    }
}
