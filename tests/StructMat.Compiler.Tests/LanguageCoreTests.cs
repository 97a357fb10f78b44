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
}
