using System;
using System.Collections.Generic;
using System.Linq;
using StructMat.GpuRunner.Layers;
using StructMat.Runtime;

namespace StructMat.GpuRunner;

/// <summary>
/// The structures the runner checks and times, by the short names that scripts/gpu/report.py keys on, and the
/// layers.smx classes for each size. Keep in step with layers.smx.
/// </summary>
public static class LayerCatalog
{
    /// <summary>Sizes that run on a CUDA device.</summary>
    public static readonly int[] GpuSizes = { 4096, 8192 };

    /// <summary>Sizes of the dry run on ILGPU's CPU accelerator (a kernel emulator: about 100× slower than scalar C#).</summary>
    public static readonly int[] TinySizes = { 64, 256 };

    public static IReadOnlyList<Structure> Structures { get; } = new Structure[]
    {
        new("dense", _ => "dense", n => n switch
        {
            64 => new Dense64(), 256 => new Dense256(), 4096 => new Dense4096(), 8192 => new Dense8192(), _ => null,
        }),
        new("lowrank", _ => "lowrank(rank: 64)", n => n switch
        {
            64 => new LowRank64(), 256 => new LowRank256(), 4096 => new LowRank4096(), 8192 => new LowRank8192(), _ => null,
        }),
        new("blockdiag", _ => "blockdiag(blocks: 64)", n => n switch
        {
            64 => new BlockDiag64(), 256 => new BlockDiag256(), 4096 => new BlockDiag4096(), 8192 => new BlockDiag8192(), _ => null,
        }),
        new("monarch", _ => "monarch(blocks: 64)", n => n switch
        {
            64 => new Monarch64(), 256 => new Monarch256(), 4096 => new Monarch4096(), 8192 => new Monarch8192(), _ => null,
        }),
        new("btt", n => $"btt(rank: 2), {n} = {BttFactors(n)}", n => n switch
        {
            64 => new Btt64(), 256 => new Btt256(), 4096 => new Btt4096(), 8192 => new Btt8192(), _ => null,
        }),
        new("kron", n => $"kron(dense({KronFactors(n).A} -> {KronFactors(n).A}), dense({KronFactors(n).B} -> {KronFactors(n).B}))", n => n switch
        {
            64 => new Kron64(), 256 => new Kron256(), 4096 => new Kron4096(), 8192 => new Kron8192(), _ => null,
        }),
        new("hra", _ => "frozen dense * householder(reflections: 32)", n => n switch
        {
            64 => new Hra64(), 256 => new Hra256(), 4096 => new Hra4096(), 8192 => new Hra8192(), _ => null,
        }),
        new("pixelfly", _ => "blocksparse(block: 32, pattern: butterfly) + lowrank(rank: 32)", n => n switch
        {
            64 => new Pixelfly64(), 256 => new Pixelfly256(), 4096 => new Pixelfly4096(), 8192 => new Pixelfly8192(), _ => null,
        }),
        new("lora", _ => "frozen dense + 2.0 * lowrank(rank: 16)", n => n switch
        {
            64 => new Lora64(), 256 => new Lora256(), 4096 => new Lora4096(), 8192 => new Lora8192(), _ => null,
        }),
        new("oft", _ => "frozen dense * oft(block: 32)", n => n switch
        {
            64 => new Oft64(), 256 => new Oft256(), 4096 => new Oft4096(), 8192 => new Oft8192(), _ => null,
        }),
        new("boft", _ => "diag() * frozen dense * boft(block: 16, factors: 2)", n => n switch
        {
            64 => new Boft64(), 256 => new Boft256(), 4096 => new Boft4096(), 8192 => new Boft8192(), _ => null,
        }),
        new("loha", _ => "frozen dense + 2.0 * hadamard(lowrank(rank: 8), lowrank(rank: 8))", n => n switch
        {
            64 => new Loha64(), 256 => new Loha256(), 4096 => new Loha4096(), 8192 => new Loha8192(), _ => null,
        }),
        new("dora", _ => "diag() * normalize(frozen dense + 2.0 * lowrank(rank: 16))", n => n switch
        {
            64 => new Dora64(), 256 => new Dora256(), 4096 => new Dora4096(), 8192 => new Dora8192(), _ => null,
        }),
        new("qlora", _ => "frozen dense(quant: nf4, group: 64) + 2.0 * lowrank(rank: 16)", n => n switch
        {
            64 => new Qlora64(), 256 => new Qlora256(), 4096 => new Qlora4096(), 8192 => new Qlora8192(), _ => null,
        }),
        new("int8lora", _ => "frozen dense(quant: int8) + 2.0 * lowrank(rank: 16)", n => n switch
        {
            64 => new Int8Lora64(), 256 => new Int8Lora256(), 4096 => new Int8Lora4096(), 8192 => new Int8Lora8192(), _ => null,
        }),
    };

    public static IEnumerable<string> Names => Structures.Select(s => s.Name);

    /// <summary>
    /// The adapters on a frozen base (issue 14). They run on request (<c>--structures lora,oft,boft,loha,dora,qlora,int8lora</c>), not by
    /// default: the default set is sized to the device budget of one call (docs/gpu-benchmarks.md).
    /// </summary>
    public static readonly string[] Adapters = { "lora", "oft", "boft", "loha", "dora", "qlora", "int8lora" };

    /// <summary>What runs without <c>--structures</c>: every structure but the adapters.</summary>
    public static IEnumerable<string> DefaultNames => Names.Except(Adapters);

    public static Structure Find(string name) =>
        Structures.FirstOrDefault(s => s.Name == name)
        ?? throw new ArgumentException($"Unknown structure '{name}'. Known: {string.Join(", ", Names)}.", nameof(name));

    // Compute Better Spent's factorize for powers of two: the smaller factor first.
    private static string BttFactors(int n)
    {
        var log = (int)Math.Round(Math.Log2(n));
        return $"{1 << (log / 2)}·{1 << (log - log / 2)}";
    }

    private static (int A, int B) KronFactors(int n) => n switch
    {
        64 => (8, 8), 256 => (16, 16), 4096 => (64, 64), 8192 => (64, 128), _ => (0, 0),
    };
}

/// <summary>One structure: its report name, its declaration at size n, and its layer at size n (null where layers.smx has none).</summary>
public sealed record Structure(string Name, Func<int, string> Describe, Func<int, IStructuredLayer?> Factory)
{
    /// <summary>A new layer at size <paramref name="n"/>, initialised from seed 0.</summary>
    public IStructuredLayer Create(int n) =>
        Factory(n) ?? throw new ArgumentOutOfRangeException(nameof(n), n, $"layers.smx declares {Name} at n = 64, 256, 4096 and 8192 only.");
}
