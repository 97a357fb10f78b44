using System.Linq;
using StructMat.Compiler.Diagnostics;
using StructMat.Compiler.Semantics;
using StructMat.Compiler.Syntax;
using Xunit;

namespace StructMat.Compiler.Tests;

/// <summary>
/// The binder's rules as specifications: how shapes are inferred (docs/language.md, "Shape inference"), how numbers
/// evaluate, how arguments match, and the exact message of each path that reports. Expected bound trees are worked
/// out from the rules; each case names the rule it exercises.
/// </summary>
public class BindingTests
{
    /// <summary>The bound dump of the file's layers (without the namespace line), or the diagnostics when there are any.</summary>
    private static string Bound(string smx)
    {
        var (unit, syntax) = SmxParser.Parse(smx);
        Assert.Empty(syntax);
        var (file, diagnostics) = Binder.Bind(unit);
        Assert.Empty(diagnostics);
        return string.Join("\n", BoundDumper.Dump(file).Split('\n').Skip(1)).TrimEnd('\n');
    }

    private static Diagnostic[] Errors(string smx) => SmxCompiler.Compile(smx, "test.smx").Diagnostics.ToArray();

    private static void Only(string smx, string id, string message)
    {
        var d = Assert.Single(Errors(smx));
        Assert.Equal(id, d.Id);
        Assert.Equal(message, d.Message);
    }

    // ── shape inference ─────────────────────────────────────────────────────────────

    [Theory]
    // The right factor's explicit output fixes the middle dimension.
    [InlineData("layer L : 12 -> 8 = dense * lowrank(12 -> 6, rank: 2);",
        "layer L : 12 -> 8|  product : 12 -> 8|    dense : 6 -> 8|    lowrank rank=2 : 12 -> 6")]
    // The left factor's explicit input fixes it.
    [InlineData("layer L : 12 -> 8 = dense(6 -> 8) * dense;",
        "layer L : 12 -> 8|  product : 12 -> 8|    dense : 6 -> 8|    dense : 12 -> 6")]
    // A square-only left factor takes the layer's output as the middle.
    [InlineData("layer L : 12 -> 8 = diag() * dense;",
        "layer L : 12 -> 8|  product : 12 -> 8|    diag : 8 -> 8|    dense : 12 -> 8")]
    // A square-only right factor takes the layer's input.
    [InlineData("layer L : 12 -> 8 = dense * diag();",
        "layer L : 12 -> 8|  product : 12 -> 8|    dense : 12 -> 8|    diag : 12 -> 12")]
    // A sum as left factor lends its terms' explicit input.
    [InlineData("layer L : 12 -> 8 = (lowrank(6 -> 8, rank: 2) + dense) * dense;",
        "layer L : 12 -> 8|  product : 12 -> 8|    sum : 6 -> 8|      lowrank rank=2 : 6 -> 8|      dense : 6 -> 8|    dense : 12 -> 6")]
    // A sum with a square-only term is square as a factor.
    [InlineData("layer L : 12 -> 8 = (diag() + dense) * dense;",
        "layer L : 12 -> 8|  product : 12 -> 8|    sum : 8 -> 8|      diag : 8 -> 8|      dense : 8 -> 8|    dense : 12 -> 8")]
    // A sum as right factor lends its terms' explicit output.
    [InlineData("layer L : 12 -> 8 = dense * (dense + lowrank(12 -> 6, rank: 1));",
        "layer L : 12 -> 8|  product : 12 -> 8|    dense : 6 -> 8|    sum : 12 -> 6|      dense : 12 -> 6|      lowrank rank=1 : 12 -> 6")]
    // Negation, scaling (either side) and frozen pass their operand's shape through.
    [InlineData("layer L : 12 -> 8 = (-dense(6 -> 8)) * dense;",
        "layer L : 12 -> 8|  product : 12 -> 8|    scale -1.0 : 6 -> 8|      dense : 6 -> 8|    dense : 12 -> 6")]
    [InlineData("layer L : 12 -> 8 = (2 * dense(6 -> 8)) * (dense * 0.5);",
        "layer L : 12 -> 8|  product : 12 -> 8|    scale 2.0 : 6 -> 8|      dense : 6 -> 8|    scale 0.5 : 12 -> 6|      dense : 12 -> 6")]
    [InlineData("layer L : 12 -> 8 = frozen dense(6 -> 8) * dense;",
        "layer L : 12 -> 8|  product : 12 -> 8|    dense : 6 -> 8 frozen|    dense : 12 -> 6")]
    // kron: an unshaped factor is the context divided by the shaped one, on either side.
    [InlineData("layer L : 6 -> 6 = kron(dense(2 -> 2), dense);",
        "layer L : 6 -> 6|  kron : 6 -> 6|    dense : 2 -> 2|    dense : 3 -> 3")]
    [InlineData("layer L : 12 -> 6 = kron(dense, dense(2 -> 3));",
        "layer L : 12 -> 6|  kron : 12 -> 6|    dense : 6 -> 2|    dense : 2 -> 3")]
    // kron factors are neither frozen nor LoRA updates unless written so.
    [InlineData("layer L : 4 -> 4 = frozen dense + kron(lowrank(2 -> 2, rank: 1), dense(2 -> 2));",
        "layer L : 4 -> 4|  sum : 4 -> 4|    dense : 4 -> 4 frozen|    kron : 4 -> 4|      lowrank rank=1 : 2 -> 2|      dense : 2 -> 2")]
    // A kron of explicit factors probes as their product shape, so it can fix a product's middle.
    [InlineData("layer L : 12 -> 8 = dense * kron(dense(3 -> 2), dense(4 -> 3));",
        "layer L : 12 -> 8|  product : 12 -> 8|    dense : 6 -> 8|    kron : 12 -> 6|      dense : 3 -> 2|      dense : 4 -> 3")]
    // Next to a frozen term, a lowrank term starts as a LoRA update (lora_B = 0); inside a product it does not.
    [InlineData("layer L : 4 -> 4 = frozen dense - lowrank(rank: 1) + dense * lowrank(4 -> 2, rank: 1);",
        "layer L : 4 -> 4|  sum : 4 -> 4|    dense : 4 -> 4 frozen|    scale -1.0 : 4 -> 4|      lowrank rank=1 zero-init-B : 4 -> 4|    product : 4 -> 4|      dense : 2 -> 4|      lowrank rank=1 : 4 -> 2")]
    public void Shapes_are_inferred_as_the_rules_say(string smx, string bound) =>
        Assert.Equal(bound.Replace("|", "\n"), Bound(smx));

    [Fact]
    public void A_kron_fixes_the_middle_from_the_side_its_probe_cannot_see()
    {
        // kron(diag(), dense(2 -> 2)) is not square-only (dense is not), so its probe knows no size; bound from the
        // layer's output 4 it is diag(2 -> 2) ⊗ dense(2 -> 2), 4 -> 4, and the right factor takes 8 -> 4.
        var (file, diagnostics) = Binder.Bind(SmxParser.Parse("layer L : 8 -> 4 = kron(diag(), dense(2 -> 2)) * dense;").Unit);
        Assert.Empty(diagnostics);
        var product = Assert.IsType<BoundProduct>(file.Layers[0].Body);
        Assert.Equal(new MatrixShape(4, 4), product.Left.Shape);
        Assert.Equal(new MatrixShape(8, 4), product.Right.Shape);
        // From the input side: the right factor kron(diag(), dense(2 -> 3)) bound from the layer's input 8 is 8 -> 12.
        (file, diagnostics) = Binder.Bind(SmxParser.Parse("layer L : 8 -> 8 = dense * kron(diag(), dense(2 -> 3));").Unit);
        Assert.Empty(diagnostics);
        product = Assert.IsType<BoundProduct>(file.Layers[0].Body);
        Assert.Equal(new MatrixShape(8, 12), product.Right.Shape);
        Assert.Equal(new MatrixShape(12, 8), product.Left.Shape);
    }

    [Fact]
    public void A_square_only_factor_passes_its_neighbours_size_to_the_probe()
    {
        // dense(6 -> 8) * diag() has input 6, so the middle of the outer product is 6, not the square layer's 8.
        var (file, diagnostics) = Binder.Bind(SmxParser.Parse("layer L : 8 -> 8 = dense(6 -> 8) * diag() * dense;").Unit);
        Assert.Empty(diagnostics);
        Assert.Equal(new MatrixShape(8, 6), Assert.IsType<BoundProduct>(file.Layers[0].Body).Right.Shape);
    }

    [Fact]
    public void A_factor_s_own_mistake_comes_before_the_size_between_the_factors()
    {
        Only("layer L : 4 -> 8 = dense * lowrank(rnk: 2);", "SMX0109",
            "lowrank has no argument 'rnk'; it accepts an explicit shape (in -> out) and 'rank'; did you mean 'rank'?");
        var errors = Errors("layer L : 4 -> 8 = dens * dens;");
        Assert.Equal(new[] { "SMX0101", "SMX0101" }, errors.Select(e => e.Id));
    }

    [Fact]
    public void The_factor_to_shape_is_found_past_square_only_ones()
    {
        // The right operand's output is the middle; diag passes it through, so lowrank, the first factor that can take a
        // shape, is named (its input is inside the operand: "in", not a number).
        Only("layer L : 8 -> 4 = dense * (diag() * lowrank(rank: 2));", "SMX0107",
            "Cannot infer the output size of 'lowrank': nothing fixes the size m between the factors of this product; give it an explicit shape, e.g. lowrank(in -> m, rank: …)");
        // The walk goes through nested products and `frozen`: past two diagonals, the right operand's dense is named.
        Only("layer L : 8 -> 4 = lowrank(rank: 2) * (diag() * (frozen diag() * dense));", "SMX0107",
            "Cannot infer the output size of 'dense': nothing fixes the size m between the factors of this product; give it an explicit shape, e.g. dense(in -> m)");
    }

    [Fact]
    public void A_square_product_keeps_its_size_between_factors_that_leave_it_open()
    {
        // In an n -> n layer the middle of a product nothing else fixes is n: the reading of `monarch * lowrank` as written.
        var result = SmxCompiler.Compile("layer L : 8 -> 8 = kron(diag(), dense(2 -> 2)) * dense;", "test.smx");
        Assert.Empty(result.Diagnostics);
        var (file, diagnostics) = Binder.Bind(SmxParser.Parse("layer L : 256 -> 256 = monarch(blocks: 16) * diag() * lowrank(rank: 8);").Unit);
        Assert.Empty(diagnostics);
        var product = Assert.IsType<BoundProduct>(file.Layers[0].Body);
        Assert.Equal(new MatrixShape(256, 256), product.Right.Shape);
        Assert.Equal(new MatrixShape(256, 256), product.Left.Shape);
    }

    [Fact]
    public void A_sum_without_shapes_in_a_product_cannot_be_inferred_and_says_which_side()
    {
        // The sum beside the middle has no one factor to shape, so the error is at the left factor, whose input it is.
        var errors = Errors("layer L : 8 -> 6 = dense * (lowrank(rank: 2) + dense);");
        Assert.Equal(new[]
        {
            "Cannot infer the input size of 'dense': nothing fixes the size m between the factors of this product; give it an explicit shape, e.g. dense(m -> 6)",
        }, errors.Select(e => e.Message));
        Assert.Equal(19, errors[0].Span.Start);
    }

    [Fact]
    public void A_kron_that_the_context_does_not_divide_cannot_be_inferred()
    {
        Assert.Equal("Cannot infer the input size of 'dense': give it an explicit shape, e.g. dense(in -> out)",
            Assert.Single(Errors("layer L : 7 -> 7 = kron(dense(2 -> 2), dense);")).Message);
    }

    [Fact]
    public void A_kron_whose_output_alone_disagrees_with_the_context_is_SMX0123()
    {
        Only("layer L : 4 -> 6 = kron(dense(2 -> 2), dense(2 -> 2));", "SMX0123",
            "kron: factors 2 -> 2 and 2 -> 2 give 4 -> 4, but the context needs 4 -> 6");
    }

    [Fact]
    public void A_kron_with_a_bad_factor_reports_only_that_factor()
    {
        Only("layer L : 4 -> 4 = kron(lowrank(rank: 9), dense(2 -> 2));", "SMX0104", "lowrank: rank 9 exceeds min(in, out) = min(2, 2) = 2");
    }

    [Fact]
    public void A_bad_explicit_shape_is_reported_once_though_it_is_also_probed()
    {
        // The product probes dense(0 -> 4) quietly for its shape (it fixes nothing, so the square layer's size is the
        // middle), then binds it and reports its size once.
        Assert.Equal(new[]
        {
            "SMX0113: Dense's input size must be a positive integer, but it is 0",
        }, Errors("layer L : 4 -> 4 = dense(0 -> 4) * dense;").Select(e => $"{e.Id}: {e.Message}"));
        Only("layer L : 4 -> 4 = dense(4 -> -1);", "SMX0113", "Dense's output size must be a positive integer, but it is -1");
    }

    // ── the layer ───────────────────────────────────────────────────────────────────

    [Fact]
    public void A_layer_size_that_is_not_positive_is_named_and_nothing_else_is_reported()
    {
        Only("layer L : 0 -> 4 = dense;", "SMX0113", "The layer's input size must be a positive integer, but it is 0");
        Only("layer L : 4 -> 0 = dense;", "SMX0113", "The layer's output size must be a positive integer, but it is 0");
        Only("layer L : 3000000000 -> 4 = dense;", "SMX0118", "The layer's input size does not fit in a 32-bit index (3000000000 > 2147483647)");
    }

    [Theory]
    [InlineData("layer L : 4 -> 4 = dense - bias;", "'bias' is allowed once, as a term of the layer's top-level sum (`... + bias`); it cannot be subtracted")]
    [InlineData("layer L : 4 -> 4 = bias;", "'bias' is allowed once, as a term of the layer's top-level sum (`... + bias`); a layer needs a structure besides the bias")]
    [InlineData("layer L : 4 -> 4 = frozen bias + dense;", "'bias' is allowed once, as a term of the layer's top-level sum (`... + bias`); here it is inside an expression")]
    [InlineData("layer L : 4 -> 4 = bias * dense;", "'bias' is allowed once, as a term of the layer's top-level sum (`... + bias`); here it is inside an expression")]
    public void A_misplaced_bias_says_why(string smx, string message) => Only(smx, "SMX0115", message);

    [Theory]
    [InlineData("const c = 3;\nlayer L : 4 -> 4 = c;", "Expected a structure (a matrix), but this is the constant 'c'")]
    [InlineData("layer L : 4 -> 4 = 3;", "Expected a structure (a matrix), but this is the number 3")]
    [InlineData("layer L : 4 -> 4 = dense + -3;", "Expected a structure (a matrix), but this is a number")]
    [InlineData("layer L : 4 -> 4 = dense + 2 * 3;", "Expected a structure (a matrix), but this is a number")]
    public void A_number_where_a_structure_belongs_is_SMX0116(string smx, string message) => Only(smx, "SMX0116", message);

    [Theory]
    [InlineData("const c = dense;")]
    [InlineData("const c = bias;")]
    [InlineData("const c = lowrank(rank: 2);")]
    public void A_structure_where_a_number_belongs_is_SMX0117(string smx) => Only(smx, "SMX0117", "Expected a number, but this is a structure");

    // ── numbers ─────────────────────────────────────────────────────────────────────

    [Fact]
    public void Integer_arithmetic_stays_integer_and_exact_division_too()
    {
        Assert.Equal("layer L : 5 -> 4|  dense : 5 -> 4".Replace("|", "\n"),
            Bound("const a = 2 + 3;\nconst b = a - 1;\nconst n = -4;\nlayer L : a -> -n * 9 / 9 = dense(a -> b);"));
    }

    [Fact]
    public void An_inexact_division_is_a_real_and_a_size_must_be_an_integer()
    {
        Only("const h = 7 / 2;\nlayer L : h -> 4 = dense;", "SMX0125", "The layer's input size must be an integer, but it is 3.5");
        // Reals print exactly (round-trip), so a user sees the value the compiler saw.
        Only("layer L : 4 -> 4 = lowrank(rank: 0.1 + 0.2);", "SMX0125", "Lowrank: 'rank' must be an integer, but it is 0.30000000000000004");
    }

    [Fact]
    public void Integers_stay_exact_up_to_two_to_the_53()
    {
        Assert.Empty(Errors("const big = 4503599627370496 * 2;\nlayer L : 4 -> 4 = dense;"));
        Only("const bigger = 4503599627370496 * 4;\nlayer L : 4 -> 4 = dense;", "SMX0118",
            "This integer expression does not fit in a 32-bit index (18014398509481984 > 2147483647)");
    }

    [Fact]
    public void A_size_of_exactly_the_32_bit_limit_is_accepted_one_more_is_not()
    {
        Assert.Empty(Errors("layer L : 2147483647 -> 1 = dense;"));
        Only("layer L : 2147483648 -> 1 = dense;", "SMX0118", "The layer's input size does not fit in a 32-bit index (2147483648 > 2147483647)");
        Only("layer L : 4 -> 4 = lowrank(rank: 1000000000000000);", "SMX0118", "Lowrank: 'rank' does not fit in a 32-bit index (1000000000000000 > 2147483647)");
    }

    [Fact]
    public void An_unknown_name_in_arithmetic_is_reported_once()
    {
        Only("const a = x + 1;", "SMX0101", "Unknown name 'x': not a constant declared above, nor a structure (dense, lowrank, blockdiag, monarch, butterfly, blocksparse, householder, oft, boft, btt, diag, perm, kron, hadamard, normalize)");
    }

    [Fact]
    public void A_scale_at_the_float32_limit_is_accepted_beyond_it_is_not()
    {
        Assert.Empty(Errors("layer L : 4 -> 4 = 3.4028234663852886E+38 * dense;"));
        Assert.Equal("SMX0128", Assert.Single(Errors("layer L : 4 -> 4 = 3.5E+38 * dense;")).Id);
    }

    // ── arguments ───────────────────────────────────────────────────────────────────

    [Theory]
    [InlineData("lowrank", "lowrank needs the argument 'rank', e.g. lowrank(rank: 8)")]
    [InlineData("blockdiag", "blockdiag needs the argument 'blocks', e.g. blockdiag(blocks: 4)")]
    [InlineData("monarch", "monarch needs the argument 'blocks', e.g. monarch(blocks: 32)")]
    [InlineData("householder", "householder needs the argument 'reflections', e.g. householder(reflections: 8)")]
    [InlineData("btt", "btt needs the argument 'rank', e.g. btt(rank: 4)")]
    [InlineData("perm", "perm needs the argument 'kind', e.g. perm(reverse)")]
    public void A_missing_argument_names_it_with_an_example(string structure, string message) =>
        Only($"layer L : 4 -> 4 = {structure}();", "SMX0110", message);

    [Fact]
    public void Blocksparse_and_kron_report_each_missing_argument()
    {
        Assert.Equal(new[]
        {
            "blocksparse needs the argument 'block', e.g. blocksparse(block: 32, pattern: butterfly)",
            "blocksparse needs the argument 'pattern', e.g. blocksparse(block: 32, pattern: butterfly)",
        }, Errors("layer L : 4 -> 4 = blocksparse();").Select(e => e.Message));
        Assert.Equal(new[]
        {
            "kron needs the argument 'left', e.g. kron(dense(32 -> 32), dense(32 -> 32))",
            "kron needs the argument 'right', e.g. kron(dense(32 -> 32), dense(32 -> 32))",
        }, Errors("layer L : 4 -> 4 = kron();").Select(e => e.Message));
    }

    [Theory]
    [InlineData("layer L : 4 -> 4 = dense;")]
    [InlineData("layer L : 4 -> 4 = btt(rank: 2);")]
    [InlineData("layer L : 4 -> 4 = perm(random) * dense;")]
    public void Optional_arguments_may_be_left_out(string smx) => Assert.Empty(Errors(smx));

    [Theory]
    // A value without a name fills the first required parameter not already named.
    [InlineData("layer L : 8 -> 8 = blocksparse(block: 2, butterfly);")]
    [InlineData("layer L : 8 -> 8 = blocksparse(pattern: butterfly, 2);")]
    [InlineData("layer L : 8 -> 8 = perm(seed: 3, random) * dense;")]
    public void Positional_arguments_skip_the_named_ones(string smx) => Assert.Empty(Errors(smx));

    [Theory]
    // Optional arguments are always named: `dense(64)` must not quietly be a seed.
    [InlineData("layer L : 8 -> 8 = btt(rank: 2, 2);", "SMX0131", "btt takes one value without a name ('rank'), but this is value 2: a shape is written btt(64 -> 32, rank: …); 'cores' is always named, as in btt(rank: 4, cores: 2)")]
    [InlineData("layer L : 8 -> 8 = frozen dense(7);", "SMX0131", "dense takes no value without a name, but this is value 1: a shape is written dense(64 -> 32); 'seed' is always named, as in dense(seed: 7)")]
    [InlineData("layer L : 8 -> 8 = perm(random, 3) * dense;", "SMX0131", "perm takes one value without a name ('kind'), but this is value 2: 'seed' is always named, as in perm(random, seed: 7)")]
    public void Optional_arguments_need_their_names(string smx, string id, string message) => Only(smx, id, message);

    [Theory]
    // Two numbers where no argument takes them are a shape written as other libraries write it.
    [InlineData("layer L : 64 -> 32 = dense(64, 32);", "A shape is written with '->', input size first: dense(64 -> 32)")]
    [InlineData("layer L : 64 -> 64 = lowrank(64, 64, 8);", "A shape is written with '->', input size first: lowrank(64 -> 64, 8)")]
    [InlineData("layer L : 64 -> 64 = lowrank(64, 64, rank: 8);", "A shape is written with '->', input size first: lowrank(64 -> 64, rank: 8)")]
    [InlineData("layer L : 64 -> 32 = monarch(64, 32, 4, 2);", "A shape is written with '->', input size first: monarch(64 -> 32, 4, 2)")]
    public void Two_leading_numbers_are_read_as_a_shape(string smx, string message) => Only(smx, "SMX0130", message);

    [Theory]
    [InlineData("layer L : 4 -> 4 = lowrank(rank: 2, 3);", "SMX0131", "lowrank takes one value without a name ('rank'), but this is value 2: a shape is written lowrank(64 -> 32, rank: …)")]
    [InlineData("layer L : 4 -> 4 = diag(1);", "SMX0131", "diag takes no value without a name, but this is value 1: it is written diag()")]
    [InlineData("layer L : 4 -> 4 = diag(foo: 1);", "SMX0109", "diag has no argument 'foo'; it accepts only an explicit shape (in -> out)")]
    // After a misspelt argument, the missing one is not reported again, and the structure is not bound with what is left.
    [InlineData("layer L : 4 -> 4 = lowrank(4 -> 4, ranks: 2);", "SMX0109", "lowrank has no argument 'ranks'; it accepts an explicit shape (in -> out) and 'rank'; did you mean 'rank'?")]
    [InlineData("layer L : 4 -> 4 = monarch(foo: 1, blocks: 3);", "SMX0109", "monarch has no argument 'foo'; it accepts an explicit shape (in -> out) and 'blocks'")]
    [InlineData("layer L : 4 -> 4 = blocksparse(4 -> 4, 2 -> 2);", "SMX0112", "Argument 'in -> out' of blocksparse must be the first argument")]
    [InlineData("layer L : 4 -> 4 = lowrank(rank: 2, rank: 3);", "SMX0111", "Argument 'rank' is given more than once")]
    [InlineData("layer L : 4 -> 4 = kron(2, dense);", "SMX0112", "Argument 'left' of kron must be a structure")]
    [InlineData("layer L : 4 -> 4 = perm(3);", "SMX0124", "perm: 'kind': 'this value' is not one of reverse, bitreversal, shuffle, random")]
    public void Each_argument_mistake_is_one_message(string smx, string id, string message) => Only(smx, id, message);

    [Theory]
    [InlineData("dense(seed: -1)", "dense: 'seed' must be an integer, but it is -1")]
    [InlineData("dense(seed: 2.5)", "dense: 'seed' must be an integer, but it is 2.5")]
    [InlineData("dense(seed: 2147483648)", "dense: 'seed' must be an integer, but it is 2147483648")]
    public void A_seed_is_a_non_negative_32_bit_integer(string structure, string message) =>
        Only($"layer L : 4 -> 4 = frozen {structure} + lowrank(rank: 1);", "SMX0125", message);

    [Fact]
    public void Seeds_zero_and_the_largest_are_accepted_and_an_unknown_seed_name_is_SMX0101()
    {
        Assert.Empty(Errors("layer L : 4 -> 4 = frozen dense(seed: 0) + frozen dense(seed: 2147483647) + lowrank(rank: 1);"));
        Assert.Equal("SMX0101", Assert.Single(Errors("layer L : 4 -> 4 = frozen dense(seed: s) + lowrank(rank: 1);")).Id);
    }

    // ── what each side says about its own shape (the probes), as mismatch messages print it ──

    [Theory]
    // A product says its right factor's input and its left factor's output.
    [InlineData("layer L : 4 -> 8 = (dense(6 -> 8) * dense(5 -> 6)) * dense(4 -> 3);",
        "Product A * B needs A's input to equal B's output, but A is 5 -> 8 and B is 4 -> 3")]
    // A square-only right factor that knows only its output lends it as the product's input:
    // diag(5 -> 5) * diag() says ? -> 5 (square), so dense(5 -> 8) * that says 5 -> 8.
    [InlineData("layer L : 4 -> 8 = (dense(5 -> 8) * (diag(5 -> 5) * diag())) * dense(4 -> 3);",
        "Product A * B needs A's input to equal B's output, but A is 5 -> 8 and B is 4 -> 3")]
    // A square-only left factor that knows only its input lends it as the product's output:
    // diag() * diag(5 -> 5) says 5 -> ? (square), so that * dense(3 -> 5) says 3 -> 5.
    [InlineData("layer L : 3 -> 8 = dense(6 -> 8) * ((diag() * diag(5 -> 5)) * dense(3 -> 5));",
        "Product A * B needs A's input to equal B's output, but A is 6 -> 8 and B is 3 -> 5")]
    // A sum with a square-only term fills its input from its terms' output ...
    [InlineData("layer L : 3 -> 8 = dense(6 -> 8) * (diag() + dense(5 -> 5) * dense);",
        "Product A * B needs A's input to equal B's output, but A is 6 -> 8 and B is 5 -> 5")]
    // ... and its output from their input.
    [InlineData("layer L : 5 -> 8 = (diag() + dense * dense(5 -> 6)) * dense(4 -> 3);",
        "Product A * B needs A's input to equal B's output, but A is 5 -> 5 and B is 4 -> 3")]
    public void A_product_mismatch_prints_what_each_factor_says(string smx, string message) => Only(smx, "SMX0105", message);

    [Theory]
    // 6 / 3 gives diag's input 2, and a square-only factor takes its output from it: 2 · 3 -> 2 · 2 is 6 -> 4.
    [InlineData("layer L : 6 -> 7 = kron(diag(), dense(3 -> 2));",
        "kron: factors 2 -> 2 and 3 -> 2 give 6 -> 4, but the context needs 6 -> 7")]
    // 7 is not a multiple of 3, so the sum knows only its output (4 / 2); its square-only term lends it as input.
    [InlineData("layer L : 7 -> 4 = kron(diag() + dense, dense(3 -> 2));",
        "kron: factors 2 -> 2 and 3 -> 2 give 6 -> 4, but the context needs 7 -> 4")]
    public void A_factor_that_knows_one_side_takes_the_other_from_squareness(string smx, string message) => Only(smx, "SMX0123", message);

    [Fact]
    public void Probing_a_factor_reports_nothing_of_its_own()
    {
        // The explicit shape is evaluated by the probe (quietly) and by the binder (reporting): one message.
        Only("layer L : 4 -> 4 = dense(4 -> 0) * dense;", "SMX0113", "Dense's output size must be a positive integer, but it is 0");
    }

    [Fact]
    public void A_scale_factor_that_fails_to_evaluate_is_reported()
    {
        Only("layer L : 4 -> 4 = (1 / 0) * dense;", "SMX0119", "Division by zero");
        Only("layer L : 4 -> 4 = dense * (1 / 0);", "SMX0119", "Division by zero");
    }

    [Theory]
    [InlineData("layer L : 4 -> 4 = bias * dense;", 19)]
    [InlineData("layer L : 4 -> 4 = dense * bias;", 27)]
    public void A_bias_factor_is_reported_at_the_bias(string smx, int start)
    {
        var d = Assert.Single(Errors(smx));
        Assert.Equal("SMX0115", d.Id);
        Assert.Equal((start, 4), (d.Span.Start, d.Span.Length));
        Assert.Equal("bias", smx.Substring(d.Span.Start, d.Span.Length));
    }

    [Fact]
    public void A_second_declaration_of_a_name_is_skipped_and_the_first_stays()
    {
        var (unit, _) = SmxParser.Parse("const a = 2; const a = 3; layer L : a -> a = dense; layer L : 3 -> 5 = dense;");
        var (file, diagnostics) = Binder.Bind(unit);
        Assert.Equal(new[] { "SMX0102", "SMX0102" }, diagnostics.Select(d => d.Id));
        var layer = Assert.Single(file.Layers);
        Assert.Equal(new MatrixShape(2, 2), layer.Shape);
    }

    [Fact]
    public void An_unknown_argument_lists_every_argument_of_the_structure() =>
        Only("layer L : 4 -> 4 = blocksparse(foo: 1);", "SMX0109",
            "blocksparse has no argument 'foo'; it accepts an explicit shape (in -> out) and 'block', 'pattern'");

    [Fact]
    public void Large_integers_print_in_full_and_overflowing_ones_as_the_double_they_became()
    {
        // 10^15 is exact and an integer; "R" formatting would print 1E+15.
        Only("layer L : 4 -> 4 = frozen dense(seed: 1000000000000000) + lowrank(rank: 1);", "SMX0125",
            "dense: 'seed' must be an integer, but it is 1000000000000000");
        // 2^32 · 2^32 = 2^64 is past 2^53, where doubles stop holding every integer.
        Only("const c = 4294967296 * 4294967296;", "SMX0118",
            "This integer expression does not fit in a 32-bit index (1.8446744073709552E+19 > 2147483647)");
    }

    // ── parameter sizes against 32-bit indexing (SMX0118) ──────────────────────────

    [Theory]
    [InlineData("layer L : 2147483647 -> 1 = dense;")]
    [InlineData("layer L : 46341 -> 46341 = blockdiag(blocks: 3);")]          // 15447 · 46341 ≤ 2^31 − 1
    [InlineData("layer L : 46340 -> 46340 = blockdiag(blocks: 2);")]          // 23170 · 46340
    [InlineData("layer L : 536870912 -> 4 = monarch(blocks: 2);")]            // blkdiag1 2 · 2 · 2^28, blkdiag2 2 · 2 · 2
    [InlineData("layer L : 1073741824 -> 1 = lowrank(rank: 1);")]
    public void A_parameter_tensor_up_to_the_32_bit_limit_is_accepted(string smx) => Assert.Empty(Errors(smx));

    [Theory]
    [InlineData("layer L : 65536 -> 65536 = blockdiag(blocks: 2);", "A parameter tensor of blockdiag does not fit in a 32-bit index (2147483648 > 2147483647)")]
    [InlineData("layer L : 2147483647 -> 2 = lowrank(rank: 2);", "A parameter tensor of lowrank does not fit in a 32-bit index (4294967294 > 2147483647)")]
    [InlineData("layer L : 1073741824 -> 4 = monarch(blocks: 2);", "A parameter tensor of monarch does not fit in a 32-bit index (2147483648 > 2147483647)")]
    [InlineData("layer L : 4 -> 1073741824 = monarch(blocks: 2);", "A parameter tensor of monarch does not fit in a 32-bit index (2147483648 > 2147483647)")]
    [InlineData("layer L : 1073741824 -> 4 = btt(rank: 1);", "A parameter tensor of btt does not fit in a 32-bit index (2147483648 > 2147483647)")]
    [InlineData("layer L : 4 -> 1073741824 = btt(rank: 1);", "A parameter tensor of btt does not fit in a 32-bit index (2147483648 > 2147483647)")]
    // The rank multiplies both cores: in · n0 · rank = 2^29 · 2 · 2 for the first, out · m1 · rank = 2^29 · 2 · 2 for the second.
    [InlineData("layer L : 536870912 -> 4 = btt(rank: 2);", "A parameter tensor of btt does not fit in a 32-bit index (2147483648 > 2147483647)")]
    [InlineData("layer L : 4 -> 536870912 = btt(rank: 2);", "A parameter tensor of btt does not fit in a 32-bit index (2147483648 > 2147483647)")]
    public void A_parameter_tensor_beyond_the_32_bit_limit_is_SMX0118(string smx, string message) => Only(smx, "SMX0118", message);

    // ── oft ──────────────────────────────────────────────────────────────────────────

    [Theory]
    [InlineData("layer L : 8 -> 8 = frozen dense * oft(block: 3);", "SMX0103", "oft: blocks of size 3 do not divide the input dimension 8")]
    [InlineData("layer L : 8 -> 8 = frozen dense * oft(block: 1);", "SMX0132", "oft: 'block' must be from 2 to 8 (a 1×1 rotation is the identity), but it is 1")]
    [InlineData("layer L : 8 -> 8 = frozen dense * oft(block: 16);", "SMX0132", "oft: 'block' must be from 2 to 8 (a 1×1 rotation is the identity), but it is 16")]
    [InlineData("layer L : 8 -> 8 = frozen dense * oft(block: 4, neumann: -1);", "SMX0125", "oft: 'neumann' must be an integer, but it is -1")]
    [InlineData("layer L : 8 -> 8 = frozen dense * oft(block: 4, neumann: 17);", "SMX0132", "oft: 'neumann' must be from 0 to 16 (0 is the exact Cayley transform, k > 0 PEFT's series of k terms), but it is 17")]
    [InlineData("layer L : 8 -> 4 = oft(block: 4);", "SMX0108", "oft is square-only, but here it must map 8 -> 4")]
    public void Oft_arguments_and_shape_are_checked_at_the_argument(string smx, string id, string message) => Only(smx, id, message);

    [Theory]
    [InlineData("layer L : 12 -> 8 = frozen dense * oft(block: 4);", "layer L : 12 -> 8|  product : 12 -> 8|    dense : 12 -> 8 frozen|    oft block=4 neumann=5 : 12 -> 12")]
    [InlineData("layer L : 8 -> 8 = oft(block: 2, neumann: 0);", "layer L : 8 -> 8|  oft block=2 neumann=0 : 8 -> 8")]
    public void Oft_takes_the_input_size_and_defaults_to_five_terms(string smx, string bound) => Assert.Equal(bound.Replace("|", "\n"), Bound(smx));

    // ── boft ─────────────────────────────────────────────────────────────────────────

    [Theory]
    [InlineData("layer L : 12 -> 12 = frozen dense * boft(block: 3, factors: 2);", "SMX0127", "boft with 2 factors: 'block' needs an even size, but it is 3")]
    // 6 blocks of 2: factor 1 regroups pairs of blocks, factor 2 would need 4 | 6.
    [InlineData("layer L : 12 -> 12 = frozen dense * boft(block: 2, factors: 3);", "SMX0132", "boft: 'factors' must be from 1 to 2 (6 blocks of 2 allow 2: 2^(factors − 1) must divide the block count), but it is 3")]
    [InlineData("layer L : 12 -> 12 = frozen dense * boft(block: 5);", "SMX0103", "boft: blocks of size 5 do not divide the input dimension 12")]
    [InlineData("layer L : 12 -> 12 = frozen dense * boft(block: 4, factors: 0);", "SMX0113", "Boft: 'factors' must be a positive integer, but it is 0")]
    public void Boft_arguments_are_checked_as_PEFT_checks_them(string smx, string id, string message) => Only(smx, id, message);

    [Fact]
    public void Boft_defaults_to_one_factor() =>
        Assert.Equal("layer L : 8 -> 8\n  boft block=4 factors=1 : 8 -> 8", Bound("layer L : 8 -> 8 = boft(block: 4);"));

    // ── hadamard ─────────────────────────────────────────────────────────────────────

    [Theory]
    [InlineData("layer L : 8 -> 8 = frozen dense + hadamard(lowrank(rank: 2), dense);", "SMX0133",
        "hadamard: the right operand is dense; hadamard applies to two lowrank operands (LoHa), as one rank r₁·r₂ product")]
    [InlineData("layer L : 8 -> 8 = hadamard(2.0 * lowrank(rank: 2), lowrank(rank: 2));", "SMX0133",
        "hadamard: the left operand is a scaled matrix (move the scale outside: c * hadamard(…)); hadamard applies to two lowrank operands (LoHa), as one rank r₁·r₂ product")]
    [InlineData("layer L : 8 -> 8 = hadamard(8 -> 8, lowrank(rank: 2), lowrank(rank: 2));", "SMX0112",
        "Argument 'in -> out' of hadamard must be left out: an elementwise product's shape is its operands' (both the same)")]
    public void Hadamard_takes_two_low_ranks_and_no_shape_of_its_own(string smx, string id, string message) => Only(smx, id, message);

    [Theory]
    // Beside a frozen base the right operand's lora_A (PEFT's hada_w2_b) starts at zero; an operand's shape fixes the other's.
    [InlineData("layer L : 12 -> 8 = frozen dense + 2.0 * hadamard(lowrank(rank: 2), lowrank(rank: 3));",
        "layer L : 12 -> 8|  sum : 12 -> 8|    dense : 12 -> 8 frozen|    scale 2.0 : 12 -> 8|      hadamard zero-init-right-A : 12 -> 8|        lowrank rank=2 : 12 -> 8|        lowrank rank=3 : 12 -> 8")]
    [InlineData("layer L : 6 -> 10 = dense(4 -> 10) * hadamard(lowrank(6 -> 4, rank: 1), lowrank(rank: 2));",
        "layer L : 6 -> 10|  product : 6 -> 10|    dense : 4 -> 10|    hadamard : 6 -> 4|      lowrank rank=1 : 6 -> 4|      lowrank rank=2 : 6 -> 4")]
    public void Hadamard_operands_share_one_shape(string smx, string bound) => Assert.Equal(bound.Replace("|", "\n"), Bound(smx));

    // ── quantised dense ──────────────────────────────────────────────────────────────

    [Theory]
    [InlineData("layer L : 8 -> 8 = dense(quant: nf4) + lowrank(rank: 2);", "SMX0135",
        "dense(quant: nf4) is a frozen base (its codes get no gradient): write 'frozen dense(quant: nf4)'")]
    [InlineData("layer L : 8 -> 8 = frozen dense(quant: int8, group: 4) + lowrank(rank: 2);", "SMX0136", "dense: 'group' applies only to nf4; int8 has one scale per row")]
    [InlineData("layer L : 8 -> 8 = frozen dense(group: 4) + lowrank(rank: 2);", "SMX0136", "dense: 'group' applies only to a quantised base, dense(quant: nf4, group: g)")]
    [InlineData("layer L : 12 -> 8 = frozen dense(quant: nf4, group: 8) + lowrank(rank: 2);", "SMX0103", "dense: groups of 8 weights do not divide the input dimension 12")]
    [InlineData("layer L : 12 -> 8 = frozen dense(quant: nf4, group: 3) + lowrank(rank: 2);", "SMX0127", "dense: 'group' needs an even size, but it is 3")]
    [InlineData("layer L : 96 -> 8 = frozen dense(quant: nf4) + lowrank(rank: 2);", "SMX0103", "dense: groups of 64 weights do not divide the input dimension 96")]
    [InlineData("layer L : 8 -> 8 = frozen dense(quant: nf5) + lowrank(rank: 2);", "SMX0124", "dense: 'quant': 'nf5' is not one of nf4, int8")]
    [InlineData("layer L : 64 -> 8 = diag() * normalize(frozen dense(quant: nf4) + lowrank(rank: 2));", "SMX0134",
        "normalize: the operand is a sum on a quantised base (its row norms would need its codes decoded); normalize applies to a dense (weight normalisation) or to frozen dense + c * lowrank(rank: r) (DoRA's weight), whose row norms need no dense copy")]
    [InlineData("layer L : 8 -> 8 = diag() * normalize(frozen dense(quant: int8)) + lowrank(rank: 1);", "SMX0134",
        "normalize: the operand is a quantised dense (its row norms would need its codes decoded); normalize applies to a dense (weight normalisation) or to frozen dense + c * lowrank(rank: r) (DoRA's weight), whose row norms need no dense copy")]
    public void A_quantised_dense_is_frozen_and_its_groups_divide_the_rows(string smx, string id, string message) => Only(smx, id, message);

    [Theory]
    [InlineData("layer L : 128 -> 8 = frozen dense(quant: nf4) + 2.0 * lowrank(rank: 2);",
        "layer L : 128 -> 8|  sum : 128 -> 8|    dense quant=nf4 group=64 : 128 -> 8 frozen|    scale 2.0 : 128 -> 8|      lowrank rank=2 zero-init-B : 128 -> 8")]
    [InlineData("layer L : 8 -> 6 = frozen (dense(4 -> 6, quant: int8) * lowrank(8 -> 4, rank: 2)) + lowrank(rank: 1);",
        "layer L : 8 -> 6|  sum : 8 -> 6|    product : 8 -> 6|      dense quant=int8 : 4 -> 6 frozen|      lowrank rank=2 : 8 -> 4 frozen|    lowrank rank=1 zero-init-B : 8 -> 6")]
    public void A_quantised_dense_defaults_to_QLoRAs_group_of_64_and_may_be_frozen_from_outside(string smx, string bound) => Assert.Equal(bound.Replace("|", "\n"), Bound(smx));

    // ── normalize ────────────────────────────────────────────────────────────────────

    [Theory]
    [InlineData("layer L : 8 -> 8 = diag() * normalize(dense + lowrank(rank: 2));", "SMX0134",
        "normalize: the operand is a sum; normalize applies to a dense (weight normalisation) or to frozen dense + c * lowrank(rank: r) (DoRA's weight), whose row norms need no dense copy")]
    [InlineData("layer L : 8 -> 8 = normalize(monarch(blocks: 2));", "SMX0134",
        "normalize: the operand is monarch; normalize applies to a dense (weight normalisation) or to frozen dense + c * lowrank(rank: r) (DoRA's weight), whose row norms need no dense copy")]
    public void Normalize_takes_DoRAs_weight(string smx, string id, string message) => Only(smx, id, message);

    [Fact]
    public void Normalize_has_its_operands_shape_and_paths() =>
        Assert.Equal("layer L : 12 -> 8\n  product : 12 -> 8\n    diag : 8 -> 8\n    normalize : 12 -> 8\n      sum : 12 -> 8\n        dense : 12 -> 8 frozen\n        scale 2.0 : 12 -> 8\n          lowrank rank=2 zero-init-B : 12 -> 8",
            Bound("layer L : 12 -> 8 = diag() * normalize(frozen dense + 2.0 * lowrank(rank: 2));"));
}
