using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;

namespace StructMat.Compiler.Emit;

/// <summary>
/// Names a layer class must not take: C# forbids a member named like its class (CS0542), and a class named
/// like a runtime type the generated file uses unqualified would shadow it in its namespace.
/// </summary>
public static class ReservedNames
{
    /// <summary>Members every generated layer has (the nested <c>Gpu</c> class included).</summary>
    private static readonly string[] Members =
    {
        "InFeatures", "OutFeatures", "ParameterCount", "TrainableParameterCount", "FlopsPerRow", "DenseFlopsPerRow", "Parameters",
        "Initialize", "ZeroGrad", "Forward", "Backward", "ToDenseDouble", "ToDense", "Merge", "Project", "ToAccelerator", "Gpu",
    };

    /// <summary>Types the generated file names without a namespace.</summary>
    private static readonly string[] Types =
    {
        "Parameter", "IStructuredLayer", "IProjectable", "Workspace", "ExclusiveUse", "Checks", "CpuKernels", "ElementKernels",
        "HouseholderKernels", "Permutations", "DenseMath", "Initializers", "Projections", "KernelCache", "DeviceWorkspace",
        "DeviceParameters", "HouseholderDevice", "BlockLayout", "Random", "Array", "Span", "ReadOnlySpan", "Action", "ArrayView",
        "Index1D", "Index2D", "Accelerator", "MemoryBuffer1D", "Stride1D", "GeneratedCode", "GeneratedCodeAttribute", "IDisposable",
        "ArgumentNullException", "ArgumentException", "IReadOnlyList",
    };

    // Kernels (MatMulKernel3), index maps (ReverseMap16Inverse) and private fields (_workspace) follow these shapes.
    private static readonly Regex GeneratedMember = new(@"^(_.*|[A-Za-z]+Kernel\d+|[A-Za-z]+Map\d+\w*)$", RegexOptions.CultureInvariant);

    /// <summary>What <paramref name="layer"/> would clash with, or null when its name is free.</summary>
    public static string? Clash(LayerModel layer)
    {
        var name = layer.ClassName;
        if (Members.Contains(name)) return $"the member '{name}' every generated layer has";
        if (Types.Contains(name)) return $"the type '{name}' that generated code uses";
        if (layer.Ir.Parameters.Any(p => layer.Property(p.Id) == name)) return $"the layer's parameter property '{name}'";
        if (GeneratedMember.IsMatch(name)) return "the names of generated kernels, index maps and fields";
        return null;
    }

    /// <summary>What a namespace part would clash with (a runtime type the generated code names unqualified), or null.</summary>
    public static string? NamespaceClash(string part) => Types.Contains(part) ? $"the type '{part}' that generated code uses" : null;

    /// <summary>C# warns (CS8981) on type names of only lower-case ASCII letters, which it reserves for keywords.</summary>
    public static bool IsAllLowerCase(string name) => name.All(c => c is >= 'a' and <= 'z');
}
