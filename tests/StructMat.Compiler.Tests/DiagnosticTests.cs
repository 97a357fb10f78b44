using System.Linq;
using StructMat.Compiler.Diagnostics;
using Xunit;

namespace StructMat.Compiler.Tests;

/// <summary>
/// One test per catalogued diagnostic: the id, the exact message, and the 1-based line/column and
/// length of the span it points at. Each source has exactly one problem.
/// </summary>
public class DiagnosticTests
{
    private static Diagnostic Single(string source, string id)
    {
        var result = SmxCompiler.Compile(source, "test.smx");
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal(id, diagnostic.Id);
        return diagnostic;
    }

    private static void At(Diagnostic d, int line, int column, int length)
    {
        Assert.Equal((line, column, length), (d.Span.StartLine + 1, d.Span.StartColumn + 1, d.Span.Length));
    }

    [Fact]
    public void SMX0001_syntax_error_at_the_unexpected_token()
    {
        var d = Single("layer A : 4 -> 4 = dense + ;", "SMX0001");
        Assert.Equal("Expected an operand after '+', but found ';', as in `dense + lowrank(rank: 8)` or `2.0 * dense`", d.Message);
        At(d, 1, 28, 1);
    }

    [Fact]
    public void SMX0002_unexpected_character()
    {
        var d = Single("layer A : 4 -> 4 = dense # ;\n", "SMX0002");
        Assert.Equal("Unexpected character '#': comments start with '//'", d.Message);
        At(d, 1, 26, 1);
    }

    [Fact]
    public void SMX0003_number_too_large()
    {
        var d = Single("const big = 99999999999999999999999;", "SMX0003");
        Assert.Equal("'99999999999999999999999' is not a valid number: too large", d.Message);
        At(d, 1, 13, 23);
    }

    [Fact]
    public void SMX0002_character_outside_the_BMP_is_one_unexpected_character_and_good_layers_survive()
    {
        var result = SmxCompiler.Compile("layer L : 4 -> 4 = dense; \U0001F600", "test.smx");
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal("SMX0002", d.Id);
        Assert.Equal("Unexpected character '\U0001F600' (U+1F600)", d.Message);
        At(d, 1, 27, 2);
        Assert.Contains("class L", result.Source);
    }

    [Fact]
    public void SMX0004_nesting_deeper_than_the_limit_is_refused_not_a_stack_overflow()
    {
        var source = "layer L : 8 -> 8 = " + new string('(', 5000) + "dense" + new string(')', 5000) + ";";
        var d = Single(source, "SMX0004");
        Assert.Equal("Expression nested more than 200 levels deep", d.Message);
        At(d, 1, 20 + 200, 1); // the 201st '('
    }

    [Fact]
    public void SMX0004_long_prefix_chains_count_as_nesting()
    {
        var d = Single("layer L : 8 -> 8 = " + string.Concat(System.Linq.Enumerable.Repeat("-", 5000)) + "dense;", "SMX0004");
        At(d, 1, 20 + 200, 1);
    }

    [Fact]
    public void SMX0005_declaration_with_too_many_operators()
    {
        var source = "layer L : 8 -> 8 = dense" + string.Concat(System.Linq.Enumerable.Repeat(" + dense", 5000)) + ";";
        var d = Single(source, "SMX0005");
        Assert.Equal("Declaration has more than 1000 operators; split it into several layers", d.Message);
        At(d, 1, 24 + 1000 * 8 + 2, 1); // "layer L : 8 -> 8 = dense" is 24 characters; the 1001st '+'
    }

    [Fact]
    public void SMX0006_diagnostics_are_capped()
    {
        var source = string.Concat(System.Linq.Enumerable.Range(0, 300).Select(i => $"layer L{i} : 8 -> 8 = lowrank(rank: 9);\n"));
        var result = SmxCompiler.Compile(source, "test.smx");
        Assert.Equal(101, result.Diagnostics.Count);
        Assert.All(result.Diagnostics.Take(100), d => Assert.Equal("SMX0104", d.Id));
        Assert.Equal("SMX0006", result.Diagnostics[100].Id);
        Assert.Equal("Too many errors: stopped after 100", result.Diagnostics[100].Message);
    }

    [Fact]
    public void A_layer_of_200_nested_parentheses_still_compiles()
    {
        var result = SmxCompiler.Compile("layer L : 8 -> 8 = " + new string('(', 200) + "dense" + new string(')', 200) + ";", "test.smx");
        Assert.Empty(result.Diagnostics);
        Assert.NotNull(result.Source);
    }

    [Fact]
    public void SMX0101_unknown_name()
    {
        var d = Single("layer A : 4 -> 4 = dens;", "SMX0101");
        Assert.Equal("Unknown name 'dens': not a constant declared above, nor a structure (dense, lowrank, blockdiag, monarch, butterfly, blocksparse, householder, oft, boft, btt, diag, perm, kron, hadamard, normalize); did you mean 'dense'?", d.Message);
        At(d, 1, 20, 4);
    }

    [Fact]
    public void SMX0102_duplicate_declaration()
    {
        var d = Single("layer A : 4 -> 4 = dense;\nlayer A : 4 -> 4 = dense;", "SMX0102");
        Assert.Equal("'A' is already declared in this file", d.Message);
        At(d, 2, 7, 1);
    }

    [Fact]
    public void SMX0103_blocks_do_not_divide_input()
    {
        var d = Single("layer B : 64 -> 64 = blockdiag(blocks: 5);", "SMX0103");
        Assert.Equal("blockdiag: 5 blocks do not divide the input dimension 64", d.Message);
        At(d, 1, 32, 9);
    }

    [Fact]
    public void SMX0103_monarch_blocks_do_not_divide_output()
    {
        var d = Single("layer M : 64 -> 60 = monarch(blocks: 8);", "SMX0103");
        Assert.Equal("monarch: 8 blocks do not divide the output dimension 60", d.Message);
        At(d, 1, 30, 9);
    }

    [Fact]
    public void SMX0104_rank_exceeds_min_in_out()
    {
        var d = Single("layer L : 8 -> 6 = lowrank(rank: 7);", "SMX0104");
        Assert.Equal("lowrank: rank 7 exceeds min(in, out) = min(8, 6) = 6", d.Message);
        At(d, 1, 28, 7);
    }

    [Fact]
    public void SMX0105_product_inner_dimensions_differ()
    {
        var d = Single("layer P : 4 -> 6 = dense(4 -> 6) * dense(4 -> 5);", "SMX0105");
        Assert.Equal("Product A * B needs A's input to equal B's output, but A is 4 -> 6 and B is 4 -> 5", d.Message);
        At(d, 1, 34, 1);
    }

    [Fact]
    public void SMX0106_sum_terms_differ()
    {
        var d = Single("layer S : 4 -> 4 = dense(4 -> 4) + lowrank(5 -> 4, rank: 1);", "SMX0106");
        Assert.Equal("Sum terms must have the same shape, but one is 4 -> 4 and another is 5 -> 4", d.Message);
        At(d, 1, 36, 24);
    }

    [Fact]
    public void SMX0107_cannot_infer_middle_dimension()
    {
        var result = SmxCompiler.Compile("layer C : 4 -> 8 = dense * dense;", "test.smx");
        Assert.All(result.Diagnostics, d => Assert.Equal("SMX0107", d.Id));
        var d = result.Diagnostics.First();
        Assert.Equal("Cannot infer the output size of 'dense': nothing fixes the size m between the factors of this product; give it an explicit shape, e.g. dense(4 -> m)", d.Message);
        At(d, 1, 28, 5);
    }

    [Fact]
    public void SMX0108_square_only_structure_in_a_rectangular_place()
    {
        var d = Single("layer Q : 4 -> 8 = butterfly();", "SMX0108");
        Assert.Equal("butterfly is square-only, but here it must map 4 -> 8", d.Message);
        At(d, 1, 20, 11);
    }

    [Fact]
    public void SMX0109_unknown_argument()
    {
        var d = Single("layer L : 8 -> 8 = lowrank(rnk: 2);", "SMX0109");
        Assert.Equal("lowrank has no argument 'rnk'; it accepts an explicit shape (in -> out) and 'rank'; did you mean 'rank'?", d.Message);
        At(d, 1, 28, 3);
    }

    [Fact]
    public void SMX0110_missing_argument()
    {
        var d = Single("layer L : 8 -> 8 = lowrank();", "SMX0110");
        Assert.Equal("lowrank needs the argument 'rank', e.g. lowrank(rank: 8)", d.Message);
        At(d, 1, 20, 9);
    }

    [Fact]
    public void SMX0111_duplicate_argument()
    {
        var d = Single("layer L : 8 -> 8 = lowrank(rank: 1, rank: 2);", "SMX0111");
        Assert.Equal("Argument 'rank' is given more than once", d.Message);
        At(d, 1, 37, 7);
    }

    [Fact]
    public void SMX0112_shape_argument_not_first()
    {
        var d = Single("layer L : 8 -> 8 = lowrank(rank: 1, 8 -> 8);", "SMX0112");
        Assert.Equal("Argument 'in -> out' of lowrank must be the first argument", d.Message);
        At(d, 1, 37, 6);
    }

    [Fact]
    public void SMX0113_non_positive_rank()
    {
        var d = Single("layer L : 8 -> 8 = lowrank(rank: 0);", "SMX0113");
        Assert.Equal("Lowrank: 'rank' must be a positive integer, but it is 0", d.Message);
        At(d, 1, 34, 1);
    }

    [Fact]
    public void SMX0114_explicit_shape_conflicts_with_layer()
    {
        var d = Single("layer D : 4 -> 4 = dense(4 -> 5);", "SMX0114");
        Assert.Equal("dense is declared 4 -> 5, but its context needs 4 -> 4", d.Message);
        At(d, 1, 26, 6);
    }

    [Fact]
    public void SMX0115_bias_inside_a_product()
    {
        var d = Single("layer D : 4 -> 4 = dense * bias;", "SMX0115");
        Assert.Equal("'bias' is allowed once, as a term of the layer's top-level sum (`... + bias`); here it is inside an expression", d.Message);
        At(d, 1, 28, 4);
    }

    [Fact]
    public void SMX0115_bias_twice()
    {
        var d = Single("layer D : 4 -> 4 = dense + bias + bias;", "SMX0115");
        Assert.EndsWith("here it appears a second time", d.Message);
        At(d, 1, 35, 4);
    }

    [Fact]
    public void SMX0116_number_where_a_structure_is_expected()
    {
        var d = Single("layer D : 4 -> 4 = 2.0;", "SMX0116");
        Assert.Equal("Expected a structure (a matrix), but this is the number 2.0", d.Message);
        At(d, 1, 20, 3);
    }

    [Fact]
    public void SMX0117_structure_where_a_number_is_expected()
    {
        var d = Single("const c = dense;", "SMX0117");
        Assert.Equal("Expected a number, but this is a structure", d.Message);
        At(d, 1, 11, 5);
    }

    [Fact]
    public void SMX0118_parameter_tensor_exceeds_32_bit_indexing()
    {
        var d = Single("layer Huge : 65536 -> 65536 = dense;", "SMX0118");
        Assert.Equal("A parameter tensor of dense does not fit in a 32-bit index (4294967296 > 2147483647)", d.Message);
        At(d, 1, 31, 5);
    }

    [Fact]
    public void SMX0119_division_by_zero()
    {
        var d = Single("const c = 4 / 0;", "SMX0119");
        Assert.Equal("Division by zero", d.Message);
        At(d, 1, 13, 1);
    }

    [Fact]
    public void SMX0120_division_of_structures()
    {
        var d = Single("layer D : 4 -> 4 = dense / dense;", "SMX0120");
        Assert.Equal("Operator '/' is not defined on structures (use '+' for sums, '*' for products, 'c * X' to scale)", d.Message);
        At(d, 1, 26, 1);
    }

    [Fact]
    public void SMX0121_butterfly_size_not_power_of_two()
    {
        var d = Single("layer B : 12 -> 12 = butterfly();", "SMX0121");
        Assert.Equal("butterfly needs a power-of-two size, but it is 12", d.Message);
        At(d, 1, 22, 11);
    }

    [Fact]
    public void SMX0122_more_reflections_than_size()
    {
        var d = Single("layer H : 8 -> 8 = householder(reflections: 9);", "SMX0122");
        Assert.Equal("householder: 9 reflections exceed the size n = 8", d.Message);
        At(d, 1, 32, 14);
    }

    [Fact]
    public void SMX0123_kron_dimensions_do_not_multiply_out()
    {
        var d = Single("layer K : 16 -> 16 = kron(dense(4 -> 4), dense(2 -> 2));", "SMX0123");
        Assert.Equal("kron: factors 4 -> 4 and 2 -> 2 give 8 -> 8, but the context needs 16 -> 16", d.Message);
        At(d, 1, 22, 34);
    }

    [Fact]
    public void SMX0124_unknown_permutation_kind()
    {
        var d = Single("layer P : 8 -> 8 = perm(sideways);", "SMX0124");
        Assert.Equal("perm: 'kind': 'sideways' is not one of reverse, bitreversal, shuffle, random", d.Message);
        At(d, 1, 25, 8);
    }

    [Fact]
    public void SMX0125_fractional_rank()
    {
        var d = Single("layer L : 8 -> 8 = lowrank(rank: 2.5);", "SMX0125");
        Assert.Equal("Lowrank: 'rank' must be an integer, but it is 2.5", d.Message);
        At(d, 1, 34, 3);
    }

    [Fact]
    public void SMX0126_redundant_frozen_is_a_warning()
    {
        var d = Single("layer F : 4 -> 4 = frozen (frozen dense) + lowrank(rank: 1);", "SMX0126");
        Assert.Equal(Severity.Warning, d.Severity);
        Assert.Equal("'frozen' is applied to something already frozen", d.Message);
        At(d, 1, 28, 12);
    }

    [Fact]
    public void SMX0127_shuffle_of_an_odd_size()
    {
        var d = Single("layer P : 7 -> 7 = perm(shuffle) * dense;", "SMX0127");
        Assert.Equal("perm(shuffle) needs an even size, but it is 7", d.Message);
        At(d, 1, 20, 13);
    }

    [Fact]
    public void SMX0121_bit_reversal_of_a_size_that_is_not_a_power_of_two()
    {
        var d = Single("layer P : 12 -> 12 = perm(bitreversal) * dense;", "SMX0121");
        Assert.Equal("perm(bitreversal) needs a power-of-two size, but it is 12", d.Message);
        At(d, 1, 22, 17);
    }

    [Fact]
    public void SMX0109_seed_on_a_permutation_that_is_not_random()
    {
        var d = Single("layer P : 8 -> 8 = perm(reverse, seed: 3) * dense;", "SMX0109");
        Assert.Equal("perm(reverse) has no argument 'seed'; it accepts no seed (only perm(random, seed: …) takes one)", d.Message);
        At(d, 1, 34, 7);
    }

    [Fact]
    public void SMX0121_flat_block_butterfly_needs_a_power_of_two_number_of_blocks()
    {
        var d = Single("layer S : 24 -> 24 = blocksparse(block: 4, pattern: butterfly);", "SMX0121");
        Assert.Equal("blocksparse(pattern: butterfly): the number of blocks per side (n / block = 24 / 4) needs a power-of-two size, but it is 6", d.Message);
        At(d, 1, 34, 8);
    }

    [Fact]
    public void SMX0108_flat_block_butterfly_is_square()
    {
        var d = Single("layer S : 16 -> 8 = blocksparse(block: 4, pattern: butterfly);", "SMX0108");
        Assert.Equal("blocksparse(pattern: butterfly) is square-only, but here it must map 16 -> 8", d.Message);
        At(d, 1, 21, 41);
    }

    [Fact]
    public void SMX0103_block_size_does_not_divide()
    {
        var d = Single("layer S : 16 -> 16 = blocksparse(block: 5, pattern: butterfly);", "SMX0103");
        Assert.Equal("blocksparse: blocks of size 5 do not divide the input dimension 16", d.Message);
        At(d, 1, 34, 8);
    }

    [Fact]
    public void SMX0124_unknown_sparsity_pattern()
    {
        var d = Single("layer S : 16 -> 16 = blocksparse(block: 4, pattern: random);", "SMX0124");
        Assert.Equal("blocksparse: 'pattern': 'random' is not one of butterfly", d.Message);
        At(d, 1, 44, 15);
    }

    [Fact]
    public void SMX0121_butterfly_of_size_one()
    {
        var d = Single("layer B : 1 -> 1 = butterfly();", "SMX0121");
        Assert.Equal("butterfly (of at least 2) needs a power-of-two size, but it is 1", d.Message);
        At(d, 1, 20, 11);
    }

    [Fact]
    public void SMX0201_layer_with_nothing_trainable_is_a_warning()
    {
        var d = Single("layer F : 4 -> 4 = frozen dense;", "SMX0201");
        Assert.Equal(Severity.Warning, d.Severity);
        Assert.Equal("Layer 'F' has no trainable parameters: every part is frozen", d.Message);
        At(d, 1, 7, 1);
    }

    [Fact]
    public void SMX0303_btt_with_other_than_two_cores()
    {
        var d = Single("layer B : 8 -> 8 = btt(rank: 2, cores: 3);", "SMX0303");
        Assert.Equal("btt with 3 cores is not supported: Compute Better Spent's block tensor-train has 2", d.Message);
        At(d, 1, 33, 8);
    }

    [Theory]
    [InlineData("Forward", "the member 'Forward' every generated layer has")]
    [InlineData("Gpu", "the member 'Gpu' every generated layer has")]
    [InlineData("Weight", "the layer's parameter property 'Weight'")]
    [InlineData("_workspace", "the private member '_workspace' of generated layers")]
    [InlineData("ForwardTile", "the private member 'ForwardTile' of generated layers")]
    // 2 x 2 blocks are too narrow for the shared tiled kernel: the layer has a generated one-thread-per-output kernel.
    [InlineData("MatMulKernel0", "the layer's GPU kernel method 'MatMulKernel0'", "blockdiag(blocks: 2)")]
    public void SMX0304_layer_name_clashing_with_generated_code(string name, string clash, string structure = "dense")
    {
        var d = Single($"layer {name} : 4 -> 4 = {structure};", "SMX0304");
        Assert.Equal($"Layer name '{name}' clashes with {clash}; rename it", d.Message);
        At(d, 1, 7, name.Length);
    }

    [Fact]
    public void SMX0304_a_layer_named_like_its_bias_property()
    {
        var d = Single("layer Bias : 4 -> 4 = dense + bias;", "SMX0304");
        Assert.Equal("Layer name 'Bias' clashes with the layer's parameter property 'Bias'; rename it", d.Message);
    }

    [Fact]
    public void SMX0304_a_layer_named_like_its_index_map()
    {
        var d = Single("layer ReverseMap4 : 4 -> 4 = perm(reverse) * dense;", "SMX0304");
        Assert.Equal("Layer name 'ReverseMap4' clashes with the layer's index map field 'ReverseMap4'; rename it", d.Message);
    }

    [Theory]
    [InlineData("Parameter")]
    [InlineData("IStructuredLayer")]
    [InlineData("MatMulKernel7")]
    [InlineData("MatMulKernel0")] // a dense 4 -> 4 runs on the runtime's tiled kernel: no generated method of that name
    [InlineData("MatMul0")] // its GemmShape field is a member of the nested Gpu class, not of the layer
    [InlineData("ReverseMap4")]
    [InlineData("_x")]
    public void Names_that_are_no_member_of_the_layer_are_free(string name)
    {
        // Generated code names every type global::-qualified, so only the class's own members are reserved.
        var result = SmxCompiler.Compile($"layer {name} : 4 -> 4 = dense;", "test.smx");
        Assert.Empty(result.Diagnostics);
        Assert.Contains($"class {name} ", result.Source);
    }

    [Fact]
    public void SMX0305_name_too_long_for_csharp_metadata()
    {
        // namespace N: "N." + name must be at most 1,023 UTF-8 bytes.
        var fits = SmxCompiler.Compile($"namespace N;\nlayer {new string('A', 1021)} : 4 -> 4 = dense;", "test.smx");
        Assert.Empty(fits.Diagnostics);
        var d = Single($"namespace N;\nlayer {new string('A', 1022)} : 4 -> 4 = dense;", "SMX0305");
        Assert.Equal($"Layer name '{new string('A', 40)}…' is too long for C#: with its namespace it is 1024 bytes of UTF-8, and C# metadata allows at most 1023", d.Message);
        At(d, 2, 7, 1022);
        // Non-ASCII letters count by their UTF-8 bytes: 'ö' is two.
        Assert.Empty(SmxCompiler.Compile($"namespace N;\nlayer {new string('ö', 510)} : 4 -> 4 = dense;", "test.smx").Diagnostics);
        Single($"namespace N;\nlayer {new string('ö', 511)} : 4 -> 4 = dense;", "SMX0305");
    }

    [Theory]
    [InlineData("Größe")]
    [InlineData("层")]
    [InlineData("Ωmega_2")]
    [InlineData("_ǅx")]
    public void Names_with_non_ascii_letters_are_accepted_as_csharp_identifiers(string name)
    {
        var result = SmxCompiler.Compile($"const n{name} = 4;\nlayer {name} : n{name} -> n{name} = dense;", "test.smx");
        Assert.Empty(result.Diagnostics);
        Assert.Contains($"public sealed partial class {name} ", result.Source);
    }

    [Fact]
    public void A_character_that_is_not_a_letter_still_is_one_unexpected_character()
    {
        var result = SmxCompiler.Compile("layer A€ : 4 -> 4 = dense;", "test.smx");
        var d = Assert.Single(result.Diagnostics, d => d.Id == "SMX0002");
        Assert.Equal("Unexpected character '€'", d.Message);
    }

    [Theory]
    [InlineData("required")]
    [InlineData("record")]
    [InlineData("scoped")]
    [InlineData("var")]
    public void SMX0302_contextual_keywords_cannot_name_a_layer(string name)
    {
        var d = Single($"layer {name} : 4 -> 4 = dense;", "SMX0302");
        Assert.Equal($"'{name}' is a C# keyword and cannot name a generated class", d.Message);
    }

    [Fact]
    public void SMX0128_scale_that_is_not_a_finite_float32()
    {
        var d = Single("layer L : 4 -> 4 = 1e308 * 1e308 * dense;", "SMX0128");
        Assert.Equal("The scale ∞ is not a finite float32 number (|c| ≤ 3.4028235E+38)", d.Message.Replace("Infinity", "∞"));
        At(d, 1, 20, 13);
        Assert.Equal("SMX0128", Single("const alpha = 16;\nconst r = 1e-39;\nlayer L : 4 -> 4 = alpha / r * dense;", "SMX0128").Id);
    }

    [Fact]
    public void Broken_arguments_after_a_syntax_error_are_skipped_not_an_internal_error()
    {
        var result = SmxCompiler.Compile("layer Vera 2 3kron((,)*", "test.smx");
        Assert.NotEmpty(result.Diagnostics);
        Assert.All(result.Diagnostics, d => Assert.Equal("SMX0001", d.Id));
    }

    [Fact]
    public void A_layer_without_parameters_generates_compilable_code()
    {
        var result = SmxCompiler.Compile("layer P : 4 -> 4 = perm(reverse);", "test.smx");
        Assert.Equal("SMX0201", Assert.Single(result.Diagnostics).Id);
        Assert.Contains("Parameters = global::System.Array.Empty<global::StructMat.Runtime.Parameter>();", result.Source);
    }

    [Fact]
    public void Doc_comments_with_unicode_line_separators_stay_on_one_line()
    {
        var result = SmxCompiler.Compile("/// a\u2028b\u2029c\u0085d\nlayer D : 4 -> 4 = dense;", "test.smx");
        Assert.Empty(result.Diagnostics);
        Assert.Contains("/// a b c d", result.Source);
        Assert.DoesNotContain('\u2028', result.Source!);
    }

    [Fact]
    public void An_all_lowercase_layer_name_is_accepted_and_its_CS8981_is_suppressed_in_the_generated_file()
    {
        var result = SmxCompiler.Compile("layer mixer : 4 -> 4 = dense;", "test.smx");
        Assert.Empty(result.Diagnostics);
        Assert.Contains("#pragma warning disable CS8981", result.Source);
        Assert.DoesNotContain("#pragma", SmxCompiler.Compile("layer Mixer : 4 -> 4 = dense;", "test.smx").Source);
    }

    [Fact]
    public void SMX0302_layer_named_like_a_csharp_keyword()
    {
        var d = Single("layer class : 4 -> 4 = dense;", "SMX0302");
        Assert.Equal("'class' is a C# keyword and cannot name a generated class", d.Message);
        At(d, 1, 7, 5);
    }

    [Fact]
    public void SMX0901_internal_failure_becomes_a_diagnostic_not_an_exception()
    {
        var result = SmxCompiler.Compile(null!, "test.smx");
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal("SMX0901", d.Id);
        Assert.StartsWith("Internal StructMat compiler error: ", d.Message);
        Assert.Null(result.Source);
    }

    [Fact]
    public void Catalog_ids_are_unique_and_in_their_stage_ranges()
    {
        var ids = DiagnosticDescriptors.All.Select(d => d.Id).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        foreach (var d in DiagnosticDescriptors.All)
        {
            var number = int.Parse(d.Id.Substring(3));
            var expected = d.Stage switch
            {
                "syntax" => (1, 99), "binding" => (100, 199), "lowering" => (200, 299), "codegen" => (300, 399), _ => (900, 999),
            };
            Assert.InRange(number, expected.Item1, expected.Item2);
        }
    }

    [Fact]
    public void Several_errors_in_one_file_are_all_reported()
    {
        var result = SmxCompiler.Compile("layer A : 8 -> 8 = lowrank(rank: 9);\nlayer B : 8 -> 8 = blockdiag(blocks: 3);\nlayer C : 4 -> 4 = dense;", "t.smx");
        Assert.Equal(new[] { "SMX0104", "SMX0103" }, result.Diagnostics.Select(d => d.Id));
        Assert.Contains("class C", result.Source); // the good layer is still generated
    }
}
