using System;
using System.Collections.Generic;
using StructMat.Compiler.IR;
using StructMat.Compiler.Lowering;
using StructMat.Compiler.Semantics;

namespace StructMat.Compiler.Structures;

/// <summary>
/// One structure of the language, and everything that is specific to it: its spec (name, arguments, square-only),
/// its shape rule with its diagnostics, its parameter table (the one source that lowering, the dense oracle and
/// projection read), its learning-rate scope, its lowering to IR ops, its float64 dense form (from its definition,
/// not from its lowering, so the oracle stays independent of the IR), its explanation and dump text, and its
/// projection from a dense matrix where the literature has one. The algebra (sums, products, <c>kron</c>, scaling,
/// <c>frozen</c>, bias) stays in the core; the core reaches a structure only through this class.
/// A new structure is one file deriving from <see cref="Structure{T}"/>, listed in <see cref="StructureRegistry"/>.
/// </summary>
public abstract class Structure
{
    /// <summary>Its name as written in .smx, its arguments, and whether it is square-only.</summary>
    public abstract PrimitiveSpec Spec { get; }

    public string Name => Spec.Name;

    /// <summary>The shape rule on a resolved shape: the bound node, or null after reporting at the exact argument.</summary>
    internal abstract BoundPrimitive? Bind(StructureBinding binding);

    /// <summary>The parameter tensors, in the order lowering creates them, with the names they are saved under.</summary>
    public abstract IReadOnlyList<ParameterSpec> Parameters(BoundPrimitive node);

    /// <summary>Compute Better Spent's structure-aware learning-rate scope, for the structures that paper defines; else null.</summary>
    public abstract LearningRateScope? LearningRates(BoundPrimitive node);

    /// <summary>The forward IR ops, from <paramref name="input"/>; returns the value holding the result.</summary>
    internal abstract int Lower(BoundPrimitive node, StructureLowering lowering, int input);

    /// <summary>The dense matrix [out, in] in float64 from the structure's definition (the runtime's <c>DenseMath</c>).</summary>
    internal abstract DenseForm DenseOracle(BoundPrimitive node, Func<string, string> parameterData);

    /// <summary>The explanation line (after "frozen "): the structure, its shape and what its arguments make of it.</summary>
    public abstract string Explain(BoundPrimitive node);

    /// <summary>The bound-tree dump of the node, before its shape: its name and arguments.</summary>
    public abstract string Dump(BoundPrimitive node);

    /// <summary>How <c>Project(dense)</c> sets the parameters to the nearest structure, or null when there is no projection.</summary>
    internal abstract ProjectionForm? Projection(BoundPrimitive node, Func<string, string> parameterData);
}

/// <summary>A structure whose bound node is <typeparamref name="T"/>: the members take the typed node.</summary>
public abstract class Structure<T> : Structure where T : BoundPrimitive
{
    internal sealed override BoundPrimitive? Bind(StructureBinding binding) => BindShape(binding);

    public sealed override IReadOnlyList<ParameterSpec> Parameters(BoundPrimitive node) => Parameters((T)node);

    public sealed override LearningRateScope? LearningRates(BoundPrimitive node) => LearningRates((T)node);

    internal sealed override int Lower(BoundPrimitive node, StructureLowering lowering, int input) => Lower((T)node, lowering, input);

    internal sealed override DenseForm DenseOracle(BoundPrimitive node, Func<string, string> parameterData) => DenseOracle((T)node, parameterData);

    public sealed override string Explain(BoundPrimitive node) => Explain((T)node);

    public sealed override string Dump(BoundPrimitive node) => Dump((T)node);

    internal sealed override ProjectionForm? Projection(BoundPrimitive node, Func<string, string> parameterData) => Projection((T)node, parameterData);

    internal abstract T? BindShape(StructureBinding binding);

    public abstract IReadOnlyList<ParameterSpec> Parameters(T node);

    public virtual LearningRateScope? LearningRates(T node) => null;

    internal abstract int Lower(T node, StructureLowering lowering, int input);

    internal abstract DenseForm DenseOracle(T node, Func<string, string> parameterData);

    public abstract string Explain(T node);

    public virtual string Dump(T node) => Name;

    internal virtual ProjectionForm? Projection(T node, Func<string, string> parameterData) => null;
}

/// <summary>
/// One parameter tensor of a structure: its name (joined to the structure's path in the layer), shape, default
/// initialisation, the fan-in and fan-out that initialisation and the learning-rate rule use, and a description.
/// </summary>
public sealed record ParameterSpec(string Name, EquatableArray<int> Shape, InitKind Init, int FanIn, int FanOut, string Description)
{
    public ParameterSpec(string name, int[] shape, InitKind init, int fanIn, int fanOut, string description)
        : this(name, shape.ToEquatableArray(), init, fanIn, fanOut, description)
    {
    }

    /// <summary>When set, the tensor is initialised from this seed alone (not the layer's), so layers can share it.</summary>
    public int? Seed { get; init; }

    /// <summary>
    /// The key PEFT keeps this tensor under, after the module's prefix, with <c>{adapter}</c> where PEFT puts the adapter's
    /// name (<c>lora_A.{adapter}.weight</c>); null when PEFT has no such tensor. A layer carries these keys only when it
    /// is a PEFT form as a whole (see <c>Lowering.PeftKeys</c>).
    /// </summary>
    public string? Peft { get; init; }

    /// <summary>How the tensor stores its elements: float32 but for the codes of a quantised base (frozen only).</summary>
    public ElementType ElementType { get; init; }
}

/// <summary>
/// Compute Better Spent's structure-aware learning rate: inside a structure of input width <see cref="Width"/> with
/// <see cref="Matrices"/> matrix tensors, a tensor of fan-in f gets (Width / f) / Matrices, which keeps feature updates
/// the size a dense layer's would have (a dense layer gets 1).
/// </summary>
public sealed record LearningRateScope(int Width, int Matrices)
{
    public float MultiplierFor(int fanIn) => (float)((double)Width / fanIn / Matrices);
}

/// <summary>A structure's dense form: a one-line comment and the C# expression of the float64 matrix.</summary>
internal sealed record DenseForm(string Comment, string Code);

/// <summary>A structure's projection: what it computes (for the doc comment) and the statements of <c>Project</c>'s body.</summary>
internal sealed record ProjectionForm(string What, params string[] Body);
