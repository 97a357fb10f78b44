namespace StructMat.Compiler.Diagnostics;

/// <summary>
/// The one catalog of StructMat diagnostics. Ranges by stage: 0001–0099 syntax, 0100–0199 binding and
/// shapes, 0200–0299 lowering and autodiff, 0300–0399 code-generation limits, 0900–0999 internal.
/// Every entry has a test named after it and an entry in docs/diagnostics.md.
/// </summary>
public static class DiagnosticDescriptors
{
    private const string Syntax = "syntax";
    private const string Binding = "binding";
    private const string Lowering = "lowering";
    private const string CodeGen = "codegen";
    private const string Internal = "internal";

    // ── 0001–0099: syntax ───────────────────────────────────────────────────────────────
    public static readonly DiagnosticDescriptor SyntaxError = new(
        "SMX0001", "Syntax error", "{0}", Severity.Error, Syntax);

    public static readonly DiagnosticDescriptor UnexpectedCharacter = new(
        "SMX0002", "Unexpected character", "Unexpected character {0}{1}", Severity.Error, Syntax);

    public static readonly DiagnosticDescriptor InvalidNumber = new(
        "SMX0003", "Invalid number", "'{0}' is not a valid number: {1}", Severity.Error, Syntax);

    public static readonly DiagnosticDescriptor NestingTooDeep = new(
        "SMX0004", "Expression nested too deeply", "Expression nested more than {0} levels deep", Severity.Error, Syntax);

    public static readonly DiagnosticDescriptor ExpressionTooLong = new(
        "SMX0005", "Declaration too long", "Declaration has more than {0} operators; split it into several layers", Severity.Error, Syntax);

    public static readonly DiagnosticDescriptor TooManyErrors = new(
        "SMX0006", "Too many errors", "Too many errors: stopped after {0}", Severity.Error, Syntax);

    // ── 0100–0199: binding and shapes ──────────────────────────────────────────────────
    public static readonly DiagnosticDescriptor UnknownName = new(
        "SMX0101", "Unknown name", "Unknown name '{0}': not a constant declared above, nor a structure ({1}){2}", Severity.Error, Binding);

    public static readonly DiagnosticDescriptor DuplicateDeclaration = new(
        "SMX0102", "Duplicate declaration", "'{0}' is already declared in this file", Severity.Error, Binding);

    public static readonly DiagnosticDescriptor BlocksDoNotDivide = new(
        "SMX0103", "Blocks do not divide a dimension", "{0}: {1} do not divide the {2} dimension {3}", Severity.Error, Binding);

    public static readonly DiagnosticDescriptor RankTooLarge = new(
        "SMX0104", "Rank too large", "lowrank: rank {0} exceeds min(in, out) = min({1}, {2}) = {3}", Severity.Error, Binding);

    public static readonly DiagnosticDescriptor ProductShapeMismatch = new(
        "SMX0105", "Product shapes do not chain", "Product A * B needs A's input to equal B's output, but A is {0} and B is {1}", Severity.Error, Binding);

    public static readonly DiagnosticDescriptor SumShapeMismatch = new(
        "SMX0106", "Sum shapes differ", "Sum terms must have the same shape, but one is {0} and another is {1}", Severity.Error, Binding);

    public static readonly DiagnosticDescriptor CannotInferShape = new(
        "SMX0107", "Cannot infer shape", "Cannot infer the {0} size of {1}: {2}", Severity.Error, Binding);

    public static readonly DiagnosticDescriptor NotSquare = new(
        "SMX0108", "Structure must be square", "{0} is square-only, but here it must map {1} -> {2}", Severity.Error, Binding);

    public static readonly DiagnosticDescriptor UnknownArgument = new(
        "SMX0109", "Unknown argument", "{0} has no argument '{1}'; it accepts {2}{3}", Severity.Error, Binding);

    public static readonly DiagnosticDescriptor MissingArgument = new(
        "SMX0110", "Missing argument", "{0} needs the argument '{1}', e.g. {2}", Severity.Error, Binding);

    public static readonly DiagnosticDescriptor DuplicateArgument = new(
        "SMX0111", "Duplicate argument", "Argument '{0}' is given more than once", Severity.Error, Binding);

    public static readonly DiagnosticDescriptor ArgumentType = new(
        "SMX0112", "Wrong kind of argument", "Argument '{0}' of {1} must be {2}", Severity.Error, Binding);

    public static readonly DiagnosticDescriptor NonPositive = new(
        "SMX0113", "Value must be positive", "{0} must be a positive integer, but it is {1}", Severity.Error, Binding);

    public static readonly DiagnosticDescriptor ShapeConflict = new(
        "SMX0114", "Explicit shape conflicts with its context", "{0} is declared {1} -> {2}, but its context needs {3} -> {4}", Severity.Error, Binding);

    public static readonly DiagnosticDescriptor MisplacedBias = new(
        "SMX0115", "Misplaced bias", "'bias' is allowed once, as a term of the layer's top-level sum (`... + bias`); {0}", Severity.Error, Binding);

    public static readonly DiagnosticDescriptor NotAMatrix = new(
        "SMX0116", "Expected a matrix", "Expected a structure (a matrix), but this is {0}", Severity.Error, Binding);

    public static readonly DiagnosticDescriptor NotANumber = new(
        "SMX0117", "Expected a number", "Expected {0}, but this is a structure", Severity.Error, Binding);

    public static readonly DiagnosticDescriptor IntegerOverflow = new(
        "SMX0118", "Integer overflow", "{0} does not fit in a 32-bit index ({1} > 2147483647)", Severity.Error, Binding);

    public static readonly DiagnosticDescriptor DivisionByZero = new(
        "SMX0119", "Division by zero", "Division by zero", Severity.Error, Binding);

    public static readonly DiagnosticDescriptor OperatorNotOnMatrices = new(
        "SMX0120", "Operator not defined on structures", "Operator '{0}' is not defined on structures (use '+' for sums, '*' for products, 'c * X' to scale)", Severity.Error, Binding);

    public static readonly DiagnosticDescriptor NotPowerOfTwo = new(
        "SMX0121", "Size not a power of two", "{0} needs a power-of-two size, but it is {1}", Severity.Error, Binding);

    public static readonly DiagnosticDescriptor ReflectionsTooMany = new(
        "SMX0122", "Too many reflections", "householder: {0} reflections exceed the size n = {1}", Severity.Error, Binding);

    public static readonly DiagnosticDescriptor KronShapeMismatch = new(
        "SMX0123", "Kronecker dimensions do not multiply out", "kron: factors {0} and {1} give {2} -> {3}, but the context needs {4} -> {5}", Severity.Error, Binding);

    public static readonly DiagnosticDescriptor UnknownOption = new(
        "SMX0124", "Unknown option", "{0}: '{1}' is not one of {2}", Severity.Error, Binding);

    public static readonly DiagnosticDescriptor NotInteger = new(
        "SMX0125", "Expected an integer", "{0} must be an integer, but it is {1}", Severity.Error, Binding);

    public static readonly DiagnosticDescriptor RedundantFrozen = new(
        "SMX0126", "Redundant frozen", "'frozen' is applied to something already frozen", Severity.Warning, Binding);

    public static readonly DiagnosticDescriptor NotEven = new(
        "SMX0127", "Size not even", "{0} needs an even size, but it is {1}", Severity.Error, Binding);

    public static readonly DiagnosticDescriptor ScaleOutOfRange = new(
        "SMX0128", "Scale out of range", "The scale {0} {1}", Severity.Error, Binding);

    public static readonly DiagnosticDescriptor ReservedName = new(
        "SMX0129", "Name reserved by the language", "'{0}' is {1}; pick another name for the {2}", Severity.Error, Binding);

    public static readonly DiagnosticDescriptor ShapeAsArguments = new(
        "SMX0130", "Shape written as two arguments", "A shape is written with '->', input size first: {0}", Severity.Error, Binding);

    public static readonly DiagnosticDescriptor TooManyValues = new(
        "SMX0131", "Too many unnamed arguments", "{0} takes {1}, but this is value {2}: {3}", Severity.Error, Binding);

    public static readonly DiagnosticDescriptor HadamardOperand = new(
        "SMX0133", "Unsupported hadamard operand", "hadamard: the {0} operand is {1}; hadamard applies to two lowrank operands (LoHa), as one rank r₁·r₂ product", Severity.Error, Binding);

    public static readonly DiagnosticDescriptor NormalizeOperand = new(
        "SMX0134", "Unsupported normalize operand", "normalize: the operand is {0}; normalize applies to a dense (weight normalisation) or to frozen dense + c * lowrank(rank: r) (DoRA's weight), whose row norms need no dense copy", Severity.Error, Binding);

    public static readonly DiagnosticDescriptor QuantizedNotFrozen = new(
        "SMX0135", "Quantised dense not frozen", "dense(quant: {0}) is a frozen base (its codes get no gradient): write 'frozen dense(quant: {0})'", Severity.Error, Binding);

    public static readonly DiagnosticDescriptor ArgumentNotApplicable = new(
        "SMX0136", "Argument does not apply", "{0} applies only {1}", Severity.Error, Binding);

    public static readonly DiagnosticDescriptor ArgumentOutOfRange = new(
        "SMX0132", "Argument out of range", "{0} must be {1}, but it is {2}", Severity.Error, Binding);

    // ── 0200–0299: lowering and autodiff ────────────────────────────────────────────────
    public static readonly DiagnosticDescriptor NothingTrainable = new(
        "SMX0201", "Nothing to train", "Layer '{0}' has no trainable parameters: every part is frozen", Severity.Warning, Lowering);

    // ── 0300–0399: code generation limits ──────────────────────────────────────────────
    public static readonly DiagnosticDescriptor NamespaceInvalid = new(
        "SMX0302", "Invalid C# name", "'{0}' is a C# keyword and cannot name a generated {1}", Severity.Error, CodeGen);

    public static readonly DiagnosticDescriptor UnsupportedCores = new(
        "SMX0303", "Unsupported number of BTT cores", "btt with {0} cores is not supported: Compute Better Spent's block tensor-train has 2", Severity.Error, CodeGen);

    public static readonly DiagnosticDescriptor NameClash = new(
        "SMX0304", "Name clashes with generated code", "{0} '{1}' clashes with {2}; rename it", Severity.Error, CodeGen);

    public static readonly DiagnosticDescriptor NameTooLong = new(
        "SMX0305", "Name too long for C#", "Layer name '{0}' is too long for C#: with its namespace it is {1} bytes of UTF-8, and C# metadata allows at most {2}", Severity.Error, CodeGen);

    // ── 0900–0999: internal ─────────────────────────────────────────────────────────────
    public static readonly DiagnosticDescriptor InternalError = new(
        "SMX0901", "Internal compiler error", "Internal StructMat compiler error: {0}. Please report it with the .smx file.", Severity.Error, Internal);

    /// <summary>Every descriptor, in id order (tests check ids are unique and documented).</summary>
    public static readonly DiagnosticDescriptor[] All =
    {
        SyntaxError, UnexpectedCharacter, InvalidNumber, NestingTooDeep, ExpressionTooLong, TooManyErrors,
        UnknownName, DuplicateDeclaration, BlocksDoNotDivide, RankTooLarge, ProductShapeMismatch,
        SumShapeMismatch, CannotInferShape, NotSquare, UnknownArgument, MissingArgument, DuplicateArgument,
        ArgumentType, NonPositive, ShapeConflict, MisplacedBias, NotAMatrix, NotANumber, IntegerOverflow,
        DivisionByZero, OperatorNotOnMatrices, NotPowerOfTwo, ReflectionsTooMany, KronShapeMismatch,
        UnknownOption, NotInteger, RedundantFrozen, NotEven, ScaleOutOfRange, ReservedName, ShapeAsArguments, TooManyValues, ArgumentOutOfRange, HadamardOperand, NormalizeOperand, QuantizedNotFrozen, ArgumentNotApplicable,
        NothingTrainable,
        NamespaceInvalid, UnsupportedCores, NameClash, NameTooLong,
        InternalError,
    };
}
