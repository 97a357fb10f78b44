using System.Collections.Generic;

namespace StructMat.Compiler.Emit;

/// <summary>
/// One ILGPU kernel of a layer and how to launch it. A kernel with a <see cref="Tiling"/> is a block product that the
/// runtime's shared tiled kernel runs (<c>TiledGemmDevice</c>, specialised on the shape the layer declares); the others
/// are generated static methods with every size baked in, auto-grouped, one thread per element of <see cref="IndexType"/>.
/// </summary>
internal sealed record GpuKernel(string Key, string Method, string IndexType, string[] Parameters, string[] Body, string Description)
{
    /// <summary>The tile shape of a block product run by the runtime's tiled kernel; null for a generated kernel.</summary>
    public GemmTiling? Tiling { get; init; }

    /// <summary>The block product the runtime's tiled kernel runs (with <see cref="Tiling"/>); null for a generated kernel.</summary>
    public TiledGemm? Gemm { get; init; }

    public bool Grouped => Tiling is not null;

    /// <summary>The delegate type the kernel loader returns (generated kernels).</summary>
    public string DelegateType => $"{TypeNames.Action}<{IndexType}, {string.Join(", ", ParameterTypes())}>";

    /// <summary>The method's parameter list (generated kernels).</summary>
    public string Signature => IndexType + " index, " + string.Join(", ", Parameters);

    /// <summary>The loader call (generated kernels).</summary>
    public string Loader => $"LoadAutoGroupedStreamKernel<{IndexType}, {string.Join(", ", ParameterTypes())}>";

    public IEnumerable<string> ParameterTypes()
    {
        foreach (var p in Parameters) yield return p.Substring(0, p.LastIndexOf(' '));
    }
}
