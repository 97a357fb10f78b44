using System.Linq;
using Xunit;

namespace StructMat.Compiler.Tests;

/// <summary>
/// One mistake, one message: what ANTLR's recovery and the binder's fallbacks used to add on top of a real error
/// (found by review and by fuzzing), each case with the single message it must get.
/// </summary>
public class RecoveryTests
{
    [Theory]
    // An error inside a call inside kron(…) is about the inner call, and the outer one adds nothing.
    [InlineData("layer A : 4 -> 4 = kron(lowrank(rank: ), dense);", "SMX0001", "Expected the value of 'rank' after ':', but found ')'")]
    [InlineData("layer A : 4 -> 4 = kron(dense(2 -> ), dense);", "SMX0001", "Expected the output size after '->' in dense(…), but found ')'")]
    [InlineData("layer A : 4 -> 4 = kron(dense(2 -> 2), lowrank(rank: 1 dense));", "SMX0001", "to close lowrank(…) opened at 1:47, but found the name 'dense'")]
    [InlineData("layer A : 4 -> 4 = kron(dense, (dense + ));", "SMX0001", "Expected an operand after '+', but found ')'")]
    [InlineData("layer A : 4 -> 4 = lowrank((2 + ));", "SMX0001", "Expected an operand after '+', but found ')'")]
    [InlineData("layer A : 4 -> 4 = lowrank(rank = );", "SMX0001", "Arguments are written `name: value`: write `rank: …`")]
    [InlineData("layer A : 4 -> 4 = lowrank((rank: 8));", "SMX0001", "'rank:' names an argument, which goes directly inside a call's parentheses")]
    // A declaration with a syntax error is checked no further: its sizes are not evaluated from what recovery kept.
    [InlineData("layer A : -> 4 = dense;", "SMX0001", "Expected the input size of layer 'A' after ':', but found '->'")]
    [InlineData("layer B : 4 -> = dense;", "SMX0001", "Expected the output size of layer 'B' after '->', but found '='")]
    [InlineData("layer A : 4 -> 4 = dense(4 -> 4\nlayer B : 4 -> 4 = dense;", "SMX0001", "The arguments of dense(…) opened at 1:25 are not closed: expected ')' before the keyword 'layer'")]
    // A shape written as two values is one message for the whole call, whatever else it names.
    [InlineData("layer A : 64 -> 32 = blocksparse(64, 32, block: 32, pattern: butterfly);", "SMX0130", "blocksparse(64 -> 32, block: 32, pattern: butterfly)")]
    // kron takes no explicit shape (it was silently ignored).
    [InlineData("layer A : 16 -> 16 = kron(16 -> 16, dense(4 -> 4), dense(4 -> 4));", "SMX0112", "Argument 'in -> out' of kron must be left out")]
    // A constant refused for its name is that one mistake where it is used.
    [InlineData("const kron = 2;\nlayer A : 4 -> 4 = kron * dense;", "SMX0129", "'kron' is a structure name")]
    // SMX0128 judges the float32 a scale rounds to: 1e-39 is subnormal (20 bits of 24).
    [InlineData("layer A : 4 -> 4 = 1e-39 * dense;", "SMX0128", "keeps only 20 of float32's 24 significant bits")]
    public void One_mistake_gets_one_message(string smx, string id, string phrase)
    {
        var diagnostics = SmxCompiler.Compile(smx, "test.smx").Diagnostics;
        var listing = string.Join("\n", diagnostics.Select(d => d.Format("test.smx")));
        var d = Assert.Single(diagnostics);
        Assert.True(d.Id == id && d.Message.Contains(phrase, System.StringComparison.Ordinal), listing);
    }

    [Fact]
    public void A_bad_character_does_not_hide_an_independent_missing_semicolon()
    {
        // The '#' is one mistake; the ';' missing after it (before the next layer) is another.
        var ids = SmxCompiler.Compile("layer A : 4 -> 4 = dense #\nlayer B : 4 -> 4 = dense;", "test.smx").Diagnostics.Select(d => d.Id).OrderBy(i => i);
        Assert.Equal(new[] { "SMX0001", "SMX0002" }, ids);
    }

    [Theory]
    // Both round to float32's smallest normal number, 2^-126: valid scales.
    [InlineData("1.17549435e-38")]
    [InlineData("1.1754943e-38")]
    public void A_scale_that_rounds_to_a_normal_float32_is_accepted(string scale) =>
        Assert.Empty(SmxCompiler.Compile($"layer A : 4 -> 4 = {scale} * dense;", "test.smx").Diagnostics);
}
