using System.Linq;
using StructMat.Compiler.IR;
using StructMat.Compiler.Lowering;
using StructMat.Compiler.Semantics;
using StructMat.Compiler.Syntax;
using Xunit;

namespace StructMat.Compiler.Tests;

/// <summary>
/// Which layers are PEFT forms (Lowering/PeftKeys): exactly one frozen dense of the layer's shape (PEFT's
/// base_layer) and only tensors a structure names for PEFT, each key once. The expected keys are PEFT's module
/// attribute names (peft/tuners/lora, hra, oft: lora_A/lora_B are nn.Linear modules, hra_u a ParameterDict entry,
/// oft_R an OFTRotationModule with a weight).
/// </summary>
public class PeftKeyTests
{
    private static string Keys(string smx)
    {
        var (unit, syntax) = SmxParser.Parse("namespace T;\n" + smx);
        Assert.Empty(syntax);
        var (file, diagnostics) = Binder.Bind(unit);
        Assert.Empty(diagnostics);
        var layer = LowerLayer.Run(file.Layers.Single());
        return string.Join(", ", layer.Parameters.Select(p => $"{p.Name}={p.PeftKey ?? "-"}"));
    }

    [Theory]
    [InlineData("layer L : 8 -> 6 = frozen dense + 2.0 * lowrank(rank: 2);",
        "terms.0.weight=base_layer.weight, terms.1.lora_A=lora_A.{adapter}.weight, terms.1.lora_B=lora_B.{adapter}.weight")]
    [InlineData("layer L : 8 -> 8 = frozen dense * householder(reflections: 2) + bias;",
        "factors.0.weight=base_layer.weight, factors.1.hra_u=hra_u.{adapter}, bias=base_layer.bias")]
    [InlineData("layer L : 8 -> 4 = frozen dense * oft(block: 4);",
        "factors.0.weight=base_layer.weight, factors.1.oft_R=oft_R.{adapter}.weight")]
    [InlineData("layer L : 8 -> 8 = diag() * frozen dense * boft(block: 4, factors: 2);",
        "factors.0.diag=boft_s.{adapter}, factors.1.weight=base_layer.weight, factors.2.boft_R=boft_R.{adapter}")]
    [InlineData("layer L : 8 -> 6 = diag() * normalize(frozen dense + 2.0 * lowrank(rank: 2));",
        "factors.0.diag=lora_magnitude_vector.{adapter}.weight, factors.1.terms.0.weight=base_layer.weight, factors.1.terms.1.lora_A=lora_A.{adapter}.weight, factors.1.terms.1.lora_B=lora_B.{adapter}.weight")]
    [InlineData("layer L : 8 -> 6 = frozen dense + 2.0 * hadamard(lowrank(rank: 2), lowrank(rank: 2));",
        "terms.0.weight=base_layer.weight, terms.1.hadamard.0.lora_A=hada_w1_b.{adapter}, terms.1.hadamard.0.lora_B=hada_w1_a.{adapter}, terms.1.hadamard.1.lora_A=hada_w2_b.{adapter}, terms.1.hadamard.1.lora_B=hada_w2_a.{adapter}")]
    public void A_frozen_base_with_one_adapter_PEFT_knows_gets_PEFTs_keys(string smx, string keys) => Assert.Equal(keys, Keys(smx));

    [Theory]
    // Two low-ranks would both be lora_A: PEFT has one adapter of a name per module.
    [InlineData("layer L : 8 -> 8 = frozen dense + lowrank(rank: 2) + lowrank(rank: 1);")]
    // No frozen base (a trainable dense is not PEFT's base layer), or only a frozen base.
    [InlineData("layer L : 8 -> 8 = dense + lowrank(rank: 2);")]
    [InlineData("layer L : 8 -> 8 = frozen dense + bias;")]
    // A tensor PEFT has no key for (a Monarch adapter), or two frozen denses of the layer's shape.
    [InlineData("layer L : 8 -> 8 = frozen dense + monarch(blocks: 2);")]
    [InlineData("layer L : 8 -> 8 = frozen dense + frozen dense * lowrank(rank: 2);")]
    // PEFT's tensors in places PEFT does not put them: an output rotation, a low-rank factor, a scale on the input side.
    [InlineData("layer L : 8 -> 8 = oft(block: 4) * frozen dense;")]
    [InlineData("layer L : 8 -> 8 = frozen dense * lowrank(rank: 2);")]
    [InlineData("layer L : 8 -> 8 = frozen dense * diag() * boft(block: 4);")]
    // Weight normalisation is no PEFT method.
    [InlineData("layer L : 8 -> 8 = diag() * normalize(frozen dense);")]
    public void Anything_else_has_no_PEFT_keys(string smx) => Assert.DoesNotContain("=base_layer", Keys(smx));
}
