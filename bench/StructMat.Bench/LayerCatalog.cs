using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using StructMat.Bench.Layers;
using StructMat.Runtime;

namespace StructMat.Bench;

/// <summary>
/// The benchmarked structures by name (the <c>Structure</c> parameter), the layers that layers.smx declares
/// for them, and the dense baseline. Names are short and stable: the report script keys on them.
/// </summary>
public static class LayerCatalog
{
    /// <summary>The baseline's name when OpenBLAS loaded: <c>cblas_sgemm</c>, three calls for forward + backward.</summary>
    public const string Sgemm = "openblas-sgemm";

    /// <summary>The baseline's name when OpenBLAS is absent: the generated dense layer stands in for it.</summary>
    public const string SgemmFallback = "dense-kernel-fallback";

    public static readonly int[] Sizes = { 1024, 4096 };

    private static readonly ConcurrentDictionary<(string, int), (long Macs, long Parameters, long Trainable)> s_costs = new();

    /// <summary>The structures, in report order, with how each is declared in layers.smx (the report's labels).</summary>
    public static IReadOnlyList<(string Name, Func<int, IStructuredLayer> Create, Func<int, string> Describe)> Structures { get; } = new (string, Func<int, IStructuredLayer>, Func<int, string>)[]
    {
        ("dense", n => n == 1024 ? new Dense1024() : new Dense4096(), _ => "dense"),
        ("lowrank", n => n == 1024 ? new LowRank1024() : new LowRank4096(), _ => "lowrank(rank: 64)"),
        ("blockdiag", n => n == 1024 ? new BlockDiag1024() : new BlockDiag4096(), _ => "blockdiag(blocks: 64)"),
        ("monarch", n => n == 1024 ? new Monarch1024() : new Monarch4096(), _ => "monarch(blocks: 64)"),
        ("btt", n => n == 1024 ? new Btt1024() : new Btt4096(), n => $"btt(rank: 2), {n} = {Root(n)}·{Root(n)}"),
        ("kron", n => n == 1024 ? new Kron1024() : new Kron4096(), n => $"kron(dense({Root(n)} -> {Root(n)}), dense({Root(n)} -> {Root(n)}))"),
        ("hra", n => n == 1024 ? new Hra1024() : new Hra4096(), _ => "frozen dense * householder(reflections: 32)"),
        ("pixelfly", n => n == 1024 ? new Pixelfly1024() : new Pixelfly4096(), _ => "blocksparse(block: 32, pattern: butterfly) + lowrank(rank: 32)"),
        ("butterfly", n => n == 1024 ? new Butterfly1024() : new Butterfly4096(), _ => "butterfly()"),
    };

    /// <summary>The baseline's name on this machine: <see cref="Sgemm"/> if OpenBLAS loads, else <see cref="SgemmFallback"/>.</summary>
    public static string Baseline => OpenBlas.Instance is null ? SgemmFallback : Sgemm;

    /// <summary>The <c>Structure</c> parameter's values: the baseline first, then every structure.</summary>
    public static IEnumerable<string> Names() => new[] { Baseline }.Concat(Structures.Select(s => s.Name));

    public static string Label(string name, int n) => name switch
    {
        Sgemm => "dense sgemm (OpenBLAS)",
        SgemmFallback => "dense (StructMat kernel, OpenBLAS not found)",
        _ => Find(name).Describe(n),
    };

    /// <summary>A new layer (initialised from seed 0); the baselines map to the generated dense layer.</summary>
    public static IStructuredLayer Create(string name, int n)
    {
        if (Array.IndexOf(Sizes, n) < 0) throw new ArgumentOutOfRangeException(nameof(n), n, "layers.smx declares n = 1024 and n = 4096 only.");
        return name is Sgemm or SgemmFallback ? Find("dense").Create(n) : Find(name).Create(n);
    }

    /// <summary>Forward multiply-adds per row (the layer's <see cref="IStructuredLayer.FlopsPerRow"/>; n² for the baselines), and parameter counts.</summary>
    public static (long Macs, long Parameters, long Trainable) Cost(string name, int n) => s_costs.GetOrAdd((name, n), key =>
    {
        var layer = Create(key.Item1, key.Item2);
        return (layer.FlopsPerRow, layer.ParameterCount, layer.TrainableParameterCount);
    });

    private static int Root(int n) => (int)Math.Round(Math.Sqrt(n));

    private static (string Name, Func<int, IStructuredLayer> Create, Func<int, string> Describe) Find(string name) =>
        Structures.FirstOrDefault(s => s.Name == name) is { Name: not null } found
            ? found
            : throw new ArgumentException($"Unknown structure '{name}'. Known: {string.Join(", ", Names())}.", nameof(name));
}
