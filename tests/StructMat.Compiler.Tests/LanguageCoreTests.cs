using System.Linq;
using Xunit;

namespace StructMat.Compiler.Tests;

/// <summary>The normative "language core" block of the design, verbatim: every form must be accepted.</summary>
public class LanguageCoreTests
{
    private const string DesignBlock = """
        // samples/QuickStart/layers.smx
        namespace QuickStart.Layers;

        const d = 1024;

        /// Token mixer: Monarch with 32 blocks (2·d·√d parameters instead of d²).
        layer Mixer : d -> d = monarch(blocks: 32) + bias;

        layer Bottleneck : 4096 -> 1024 = lowrank(rank: 64);
        layer Blocks     : 1024 -> 1024 = blockdiag(blocks: 16);
        layer Pixelfly   : 2048 -> 2048 = blocksparse(block: 32, pattern: butterfly) + lowrank(rank: 32);
        layer Kron       : 1024 -> 1024 = kron(dense(32 -> 32), lowrank(32 -> 32, rank: 4));
        layer Btt        : 4096 -> 4096 = btt(rank: 4);
        layer Butterfly  : 1024 -> 1024 = butterfly();
        layer Lora       : 4096 -> 4096 = frozen dense + 2.0 * lowrank(rank: 8);
        layer Hra        : 768  -> 768  = frozen dense * householder(reflections: 8);
        layer LoKr       : 4096 -> 4096 = frozen dense + kron(dense(64 -> 64), dense(64 -> 64));
        layer Chain      : 1024 -> 1024 = perm(reverse) * diag() * monarch(blocks: 32);
        """;

    [Fact]
    public void Every_form_of_the_language_core_compiles()
    {
        var result = SmxCompiler.Compile(DesignBlock, "layers.smx");

        Assert.Empty(result.Diagnostics);
        foreach (var layer in new[] { "Mixer", "Bottleneck", "Blocks", "Pixelfly", "Kron", "Btt", "Butterfly", "Lora", "Hra", "LoKr", "Chain" })
        {
            Assert.Contains($"public sealed partial class {layer} : global::StructMat.Runtime.IStructuredLayer", result.Source);
        }
    }

    /// <summary>The forms of issue 14 ("Orthogonal, normalised, elementwise and quantised structures"), verbatim.</summary>
    private const string AdapterForms = """
        namespace Adapters;

        // OFT: block-diagonal rotation of the input, PEFT's default Cayley–Neumann series (5 terms) ...
        layer Oft      : 4096 -> 4096 = frozen dense * oft(block: 32);
        // ... or PEFT's exact Cayley mode, or k series terms
        layer OftExact : 4096 -> 4096 = frozen dense * oft(block: 32, neumann: 0);
        // BOFT: products of butterfly-permuted orthogonal block-diagonals; PEFT's output scale is the diag
        layer Boft     : 4096 -> 4096 = diag() * frozen dense * boft(block: 8, factors: 2);
        // DoRA: a magnitude times the row-normalised adapted weight
        layer Dora     : 4096 -> 4096 = diag() * normalize(frozen dense + 2.0 * lowrank(rank: 8));
        // LoHa: the elementwise (Hadamard) product of two low-rank matrices
        layer Loha     : 4096 -> 4096 = frozen dense + 2.0 * hadamard(lowrank(rank: 4), lowrank(rank: 4));
        // QLoRA-style bases: 4-bit NormalFloat with one absmax per group of 64, or int8 with a scale per row
        layer Qlora    : 4096 -> 4096 = frozen dense(quant: nf4, group: 64) + 2.0 * lowrank(rank: 16);
        layer Int8Base : 4096 -> 4096 = frozen dense(quant: int8) + 2.0 * lowrank(rank: 16);
        """;

    [Fact]
    public void Every_adapter_form_of_issue_14_compiles()
    {
        var result = SmxCompiler.Compile(AdapterForms, "adapters.smx");

        Assert.Empty(result.Diagnostics);
        foreach (var layer in new[] { "Oft", "OftExact", "Boft", "Dora", "Loha", "Qlora", "Int8Base" })
        {
            Assert.Contains($"public sealed partial class {layer} : global::StructMat.Runtime.IStructuredLayer", result.Source);
        }
        Assert.Contains("QuantizedKernels.Apply(x, y, Terms0Weight.Bytes, Terms0Absmax.Data, global::StructMat.Runtime.Kernels.QuantFormat.Nf4, batch, 4096, 4096, 64,", result.Source);
        Assert.Contains("QuantizedKernels.Apply(x, y, Terms0Weight.Bytes, Terms0Scale.Data, global::StructMat.Runtime.Kernels.QuantFormat.Int8, batch, 4096, 4096, 0,", result.Source);
    }
}
