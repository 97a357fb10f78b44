using System.Collections.Generic;

namespace StructMat.Compiler.Emit;

/// <summary>
/// One emitted ILGPU kernel: a static method with every size baked in, and how to launch it. A kernel with a
/// <see cref="Tiling"/> is explicitly grouped (shared memory, barriers): it takes no index, reads
/// <c>Grid</c>/<c>Group</c>, and is launched with a <c>KernelConfig</c>; the others are auto-grouped, one thread
/// per element of <see cref="IndexType"/>.
/// </summary>
internal sealed record GpuKernel(string Key, string Method, string IndexType, string[] Parameters, string[] Body, string Description)
{
    /// <summary>The tile shape of a grouped kernel; null for an auto-grouped one.</summary>
    public GemmTiling? Tiling { get; init; }

    /// <summary>A grouped kernel's grid y extent: column tiles over all blocks.</summary>
    public int ColumnTiles { get; init; }

    /// <summary>Comment lines after the description (how a grouped kernel tiles its work).</summary>
    public string[] Notes { get; init; } = System.Array.Empty<string>();

    public bool Grouped => Tiling is not null;

    /// <summary>The delegate type the kernel loader returns.</summary>
    public string DelegateType => $"{TypeNames.Action}<{(Grouped ? $"{TypeNames.KernelConfig}" : IndexType)}, {string.Join(", ", ParameterTypes())}>";

    /// <summary>The method's parameter list: grouped kernels have no index parameter.</summary>
    public string Signature => (Grouped ? "" : IndexType + " index, ") + string.Join(", ", Parameters);

    /// <summary>The loader call, e.g. <c>LoadStreamKernel&lt;…&gt;</c>.</summary>
    public string Loader => Grouped
        ? $"LoadStreamKernel<{string.Join(", ", ParameterTypes())}>"
        : $"LoadAutoGroupedStreamKernel<{IndexType}, {string.Join(", ", ParameterTypes())}>";

    public IEnumerable<string> ParameterTypes()
    {
        foreach (var p in Parameters) yield return p.Substring(0, p.LastIndexOf(' '));
    }
}
