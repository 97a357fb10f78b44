using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace StructMat.Compiler.Emit;

/// <summary>
/// What a layer's name must not be beyond C#'s own rules: C# forbids a member named like its class (CS0542), so a
/// layer cannot take the name of a member its generated class declares. Nothing else is reserved: generated code
/// names every type <c>global::</c>-qualified (<see cref="TypeNames"/>), so no layer, namespace or user type name
/// can capture one.
/// </summary>
public static class ReservedNames
{
    /// <summary>Members every generated layer has (the nested <c>Gpu</c> class included).</summary>
    private static readonly string[] Members =
    {
        "InFeatures", "OutFeatures", "ParameterCount", "TrainableParameterCount", "FlopsPerRow", "DenseFlopsPerRow", "Parameters",
        "Initialize", "ZeroGrad", "Forward", "Backward", "ToDenseDouble", "ToDense", "Merge", "Project", "Quantize", "ToAccelerator", "Gpu",
    };

    /// <summary>The private members of every generated layer (those of one that tiles its batch included).</summary>
    private static readonly string[] PrivateMembers =
    {
        "_workspace", "_backwardInUse", "_forwardTile", "ForwardTile", "_backwardTile", "BackwardTile",
    };

    /// <summary>
    /// The longest <c>Namespace.Name</c> C# can write into metadata, in UTF-8 bytes (CS7013 beyond it; measured with
    /// the SDK's compiler: 1,023 bytes builds, 1,024 does not).
    /// </summary>
    public const int MaxQualifiedNameBytes = 1023;

    /// <summary>What <paramref name="layer"/>'s name would clash with, or null when its name is free.</summary>
    public static string? Clash(LayerModel layer)
    {
        var name = layer.ClassName;
        if (Members.Contains(name)) return $"the member '{name}' every generated layer has";
        if (layer.Ir.Parameters.Any(p => layer.Property(p.Id) == name)) return $"the layer's parameter property '{name}'";
        if (PrivateMembers.Contains(name)) return $"the private member '{name}' of generated layers";
        if (name == LayerEmitter.ResetMagnitudes && layer.Ir.Parameters.Any(p => p.MagnitudeOf is not null)) return $"the member '{name}' of layers with a normalize";
        if (IndexMaps.Distinct(layer).Any(map => IndexMaps.Field(map) == name)) return $"the layer's index map field '{name}'";
        if (GpuEmitter.Kernels(layer).Kernels.Any(kernel => !kernel.Grouped && kernel.Method == name)) return $"the layer's GPU kernel method '{name}'";
        return null;
    }

    /// <summary>The UTF-8 length of the class's full metadata name, when it is longer than C# can write; else null.</summary>
    public static int? TooLong(string @namespace, string name)
    {
        var bytes = Encoding.UTF8.GetByteCount(@namespace) + 1 + Encoding.UTF8.GetByteCount(name);
        return bytes > MaxQualifiedNameBytes ? bytes : null;
    }

    /// <summary>C# warns (CS8981) on type names of only lower-case ASCII letters, which it reserves for keywords.</summary>
    public static bool IsAllLowerCase(string name) => name.All(c => c is >= 'a' and <= 'z');
}
