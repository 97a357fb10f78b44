using System.Linq;
using Xunit;

namespace StructMat.Compiler.Tests;

/// <summary>
/// The words of each syntax situation, whole (the mistake corpus checks phrases): what the construct needs, what was
/// found, the construct shown. Written from the message templates in Syntax/SyntaxMessages.cs and
/// SyntaxErrorListener.cs, one case per branch.
/// </summary>
public class SyntaxMessageTests
{
    private const string Layer = "layer Name : 64 -> 64 = lowrank(rank: 8) + bias;";

    [Theory]
    [InlineData("namespace App.layer;", "'layer' is a keyword and cannot be part of a namespace name; pick another name")]
    [InlineData("layer A : 4 -> 4 = lowrank(frozen: 8);", "Expected a structure after 'frozen', but found ':', as in `frozen dense`")]
    [InlineData("layer : 4 -> 4 = dense;", "Expected the layer's name after 'layer', but found ':', as in `" + Layer + "`")]
    [InlineData("const = 4;", "Expected the constant's name after 'const', but found '=', as in `const width = 64;`")]
    [InlineData("Const width = 64;", "Unknown word 'Const' where a declaration starts: did you mean 'const'? Keywords are lower case, as in `const width = 64;`")]
    [InlineData("namepsace App;", "Unknown word 'namepsace' where a declaration starts: did you mean 'namespace'? Keywords are lower case, as in `namespace App.Layers;`")]
    [InlineData("64 -> 64", "Expected a declaration — `" + Layer + "` or `const width = 64;` — but found the number 64")]
    [InlineData("namespace App.;", "Expected a name after '.', but found ';', as in `namespace App.Layers;`")]
    [InlineData("namespace App Layers;", "Namespace parts are joined by '.', as in `namespace App.Layers;`; found the name 'Layers' after the name 'App'")]
    [InlineData("layer A : 4 -> 4 = frozen;", "Expected a structure after 'frozen', but found ';', as in `frozen dense`")]
    [InlineData("layer A : 4 -> 4 = blocksparse(block: 2, );", "Expected an argument after ',' in blocksparse(…), but found ')', as in `blocksparse(block: 32, pattern: butterfly)`")]
    [InlineData("layer A : 4 -> 4 = lowrank(:);", "Expected an argument or ')' after 'lowrank(', but found ':', as in `lowrank(rank: 8)`")]
    [InlineData("layer A : 4 -> 4 = () * dense;", "Expected an expression after '(', but found ')', as in `(dense + lowrank(rank: 8)) * diag()`")]
    [InlineData("layer A : 4 -> 4 = (dense;", "The '(' at 1:20 is not closed: expected ')' (or an operator) before ';'")]
    [InlineData("layer A : 4 -> 4 = ;", "Expected the structure of layer 'A' after '=', but found ';', as in `" + Layer + "`")]
    [InlineData("layer A : 4 -> 4 dense;", "Expected '=' and the structure after the shape of layer 'A', but found the name 'dense', as in `" + Layer + "`")]
    [InlineData("const c = 4 4;", "Expected an operator or ';' after the number 4, but found the number 4: terms are joined by '+' (a sum) or '*' (a product), and ';' ends constant 'c'")]
    [InlineData("const c = 4", "Expected ';' to end constant 'c', but found the end of the file, as in `const width = 64;`")]
    [InlineData("layer A : 4 -> 4 = dense\nconst c = 4;", "Expected ';' to end layer 'A', but found the keyword 'const', as in `" + Layer + "`")]
    [InlineData("layer A : 4 -> 4 = lowrank(rank: 2.5 rank);", "Expected ',' between arguments or ')' to close lowrank(…) opened at 1:27, but found the name 'rank'; arguments are written `name: value`, as in `lowrank(rank: 8)`")]
    [InlineData("layer A : 4 -> 4 = lowrank(rank = 2 * (3 + 1));", "Arguments are written `name: value`: write `rank: 2 * (3 + 1)`, with ':' instead of '='")]
    [InlineData("layer A : 4 -> 4 = lowrank(rank = 8 / 2 - -1);", "Arguments are written `name: value`: write `rank: 8 / 2 - -1`, with ':' instead of '='")]
    public void Syntax_situation_gets_its_whole_message(string smx, string message)
    {
        var diagnostics = SmxCompiler.Compile(smx, "test.smx").Diagnostics;
        var d = Assert.Single(diagnostics, x => x.Id == "SMX0001");
        Assert.Equal(message, d.Message);
    }

    [Theory]
    [InlineData("\u200B", "Unexpected character U+200B: an invisible formatting character (often pasted with text); delete it")]
    [InlineData("\u00A0", "Unexpected character U+00A0: a space other than the ASCII one; use a plain space")]
    [InlineData("\u2028", "Unexpected character U+2028: a space other than the ASCII one; use a plain space")]
    [InlineData("\u0301", "Unexpected character U+0301: a combining mark with no letter before it")]
    [InlineData("\uFFFF", "Unexpected character U+FFFF: not a character; delete it")]
    [InlineData("\u0001", "Unexpected character U+0001: a control character; delete it")]
    [InlineData("\uFF11", "Unexpected character '１': numbers are written with the digits 0–9")]
    [InlineData("\"", "Unexpected character '\"': names and options are written without quotes, as in `perm(reverse)`")]
    [InlineData("[", "Unexpected character '[': a shape is written `in -> out`, as in `dense(64 -> 32)`")]
    [InlineData("$", "Unexpected character '$'")]
    [InlineData("\U0001F600", "Unexpected character '😀' (U+1F600)")]
    public void A_character_the_language_has_not_says_what_it_is(string character, string message)
    {
        var diagnostics = SmxCompiler.Compile("layer A : 4 -> 4 = dense " + character + " ;", "test.smx").Diagnostics;
        var d = Assert.Single(diagnostics);
        Assert.Equal("SMX0002", d.Id);
        Assert.Equal(message, d.Message);
        Assert.Equal(25, d.Span.Start);
        Assert.Equal(character.Length, d.Span.Length);
    }

    [Fact]
    public void A_lone_surrogate_is_named_by_its_code()
    {
        // Built here, not in InlineData: xUnit's serialisation of test data would replace the lone surrogate.
        var d = Assert.Single(SmxCompiler.Compile("layer A : 4 -> 4 = dense " + '\uD800' + " ;", "test.smx").Diagnostics);
        Assert.Equal("Unexpected character U+D800: half of a character outside the Basic Multilingual Plane; names use letters within it", d.Message);
    }

    [Fact]
    public void A_shape_written_as_values_is_shown_back_as_written()
    {
        var d = Assert.Single(SmxCompiler.Compile("layer A : 64 -> 32 = dense(2 * 32, (40 - 8) / 1, seed: 3);", "test.smx").Diagnostics);
        Assert.Equal("A shape is written with '->', input size first: dense(2 * 32 -> (40 - 8) / 1, seed: 3)", d.Message);
    }
}
