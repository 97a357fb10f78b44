using System.Collections.Generic;

namespace StructMat.Compiler.Emit;

/// <summary>One emitted ILGPU kernel: a static method with every size baked in, and how to launch it.</summary>
internal sealed record GpuKernel(string Key, string Method, string IndexType, string[] Parameters, string[] Body, string Description)
{
    /// <summary>The delegate type <c>LoadAutoGroupedStreamKernel</c> returns.</summary>
    public string DelegateType => $"Action<{IndexType}, {string.Join(", ", ParameterTypes())}>";

    public IEnumerable<string> ParameterTypes()
    {
        foreach (var p in Parameters) yield return p.Substring(0, p.LastIndexOf(' '));
    }
}
