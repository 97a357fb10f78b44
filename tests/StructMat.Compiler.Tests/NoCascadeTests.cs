using System.Linq;
using Xunit;

namespace StructMat.Compiler.Tests;

/// <summary>
/// A layer with an SMX error generates no code, so a user sees the SMX messages and no C# errors beneath them;
/// the file's other layers are generated as usual.
/// </summary>
public class NoCascadeTests
{
    [Fact]
    public void A_layer_whose_binding_reports_an_error_but_could_go_on_generates_no_code()
    {
        // A second bias is reported while the layer still has everything it needs to bind.
        var result = SmxCompiler.Compile("layer Twice : 4 -> 4 = dense + bias + bias;\nlayer Fine : 4 -> 4 = dense;", "test.smx");
        Assert.Equal("SMX0115", Assert.Single(result.Diagnostics).Id);
        Assert.DoesNotContain("class Twice", result.Source);
        Assert.Contains("class Fine", result.Source);
        Assert.Equal(new[] { "Fine" }, result.Classes.Select(c => c.Name));
    }

    [Fact]
    public void A_layer_with_a_syntax_error_the_parser_recovered_from_generates_no_code()
    {
        var result = SmxCompiler.Compile("layer Fine : 4 -> 4 = dense;\nlayer Broken : 4 -> 4 = dense + ;", "test.smx");
        Assert.Equal("SMX0001", Assert.Single(result.Diagnostics).Id);
        Assert.DoesNotContain("class Broken", result.Source);
        Assert.Contains("class Fine", result.Source);
    }

    [Fact]
    public void A_warning_alone_does_not_stop_generation()
    {
        var result = SmxCompiler.Compile("layer Warned : 4 -> 4 = frozen frozen dense + bias;", "test.smx");
        Assert.Equal("SMX0126", Assert.Single(result.Diagnostics).Id);
        Assert.Contains("class Warned", result.Source);
    }

    [Fact]
    public void Omitted_layers_are_left_out_of_the_code_and_of_the_classes()
    {
        var result = SmxCompiler.Compile("layer A : 4 -> 4 = dense;\nlayer B : 4 -> 4 = dense;", "test.smx", omit: new[] { "A" });
        Assert.Empty(result.Diagnostics);
        Assert.DoesNotContain("class A", result.Source);
        Assert.Equal(new[] { "B" }, result.Classes.Select(c => c.Name));
        Assert.Null(SmxCompiler.Compile("layer A : 4 -> 4 = dense;", "test.smx", omit: new[] { "A" }).Source);
    }
}
