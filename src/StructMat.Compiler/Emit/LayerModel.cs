using System.Linq;
using StructMat.Compiler.IR;
using StructMat.Compiler.Passes;
using StructMat.Compiler.Semantics;

namespace StructMat.Compiler.Emit;

/// <summary>Everything the emitters need about one layer: what was written, and what the pipeline made of it.</summary>
public sealed record LayerModel(string Namespace, BoundLayer Bound, OptimizedLayer Optimized)
{
    public string ClassName => Bound.Name;

    /// <summary>The class as code inside its nested <c>Gpu</c> class names it: a member of Gpu may share its name.</summary>
    public string QualifiedClassName => $"global::{Namespace}.{ClassName}";

    public IrLayer Ir => Optimized.Layer;

    /// <summary>The C# property that holds a parameter: its path in PascalCase.</summary>
    public string Property(int parameter) => CSharp.PascalCase(Ir.Parameter(parameter).Name);

    public string PropertyOfPath(string path) => CSharp.PascalCase(path);

    public int WorkspaceSlots => System.Math.Max(Optimized.ForwardPlan.SlotWidths.Count, Optimized.BackwardPlan.SlotWidths.Count);

    public long ParameterCount => Ir.Parameters.Sum(p => p.Length);

    public long TrainableParameterCount => Ir.Parameters.Where(p => p.Trainable).Sum(p => p.Length);
}
