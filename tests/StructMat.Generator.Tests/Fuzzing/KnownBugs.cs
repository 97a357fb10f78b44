using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;

namespace StructMat.Generator.Tests.Fuzzing;

/// <summary>
/// Compiler bugs the fuzzer found and that are not fixed yet (src/ is not the tests' to change). Each has a minimized
/// input in tests/fuzz-regressions/known-bugs/, replayed by a skipped test that names it. A fuzz failure is "known" only
/// when every part of it is explained by one of these bugs; anything else fails the run. Remove an entry when its bug
/// is fixed: the skipped test then becomes a normal one and the fuzzer reports the bug again if it comes back.
/// </summary>
internal static class KnownBugs
{
    public const string NameCollision = "name-collision";
    public const string LowercaseName = "lowercase-name";
    public const string NoParameters = "no-parameters";
    public const string DocLineSeparator = "doc-line-separator";
    public const string NullReference = "null-reference";
    public const string ContextualKeyword = "contextual-keyword";
    public const string NonFiniteScale = "non-finite-scale";

    /// <summary>C# contextual keywords (and reserved-looking words) that <c>CSharp.IsKeyword</c> does not reject.</summary>
    private static readonly HashSet<string> ContextualKeywords = new(StringComparer.Ordinal)
    {
        "add", "allows", "alias", "and", "ascending", "args", "async", "await", "by", "descending", "dynamic", "equals", "extension",
        "field", "file", "from", "get", "global", "group", "init", "into", "join", "let", "managed", "nameof", "nint", "not", "notnull",
        "nuint", "on", "or", "orderby", "partial", "record", "remove", "required", "scoped", "select", "set", "unmanaged", "value",
        "var", "when", "where", "with", "yield",
    };

    /// <summary>Bug id → the reason its regression test is skipped.</summary>
    public static readonly IReadOnlyDictionary<string, string> Reasons = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [NameCollision] = "Compiler bug: a layer or namespace part named like a member or type the generated code uses (Forward, " +
                          "Backward, Parameters, Gpu, Parameter, Workspace, IStructuredLayer, IProjectable, …) gets no SMX diagnostic, " +
                          "and the generated C# fails (CS0542, CS0509, CS0738, CS0118, CS1061, …). Inputs: known-bugs/name-collision*.smx",
        [NonFiniteScale] = "Compiler bug: a scale that overflows to infinity (1e308 * 1e308 * dense, or alpha / r with r = 4.9e-324) " +
                           "gets no SMX diagnostic and is emitted as `Infinity.0`, error CS1003. Input: known-bugs/non-finite-scale.smx",
        [LowercaseName] = "Compiler bug: a layer whose name is all lower-case ASCII (layer mixer : 4 -> 4 = dense;) gets no SMX " +
                          "diagnostic, and the generated class triggers C# warning CS8981. Input: known-bugs/lowercase-name.smx",
        [NoParameters] = "Compiler bug: a layer with no parameters at all (layer P : 4 -> 4 = perm(reverse);) only gets warning " +
                         "SMX0201, and the generated code has `Parameters = new[] {  };`, error CS0826. Input: known-bugs/no-parameters.smx",
        [DocLineSeparator] = "Compiler bug: a /// doc comment containing U+2028 (or U+2029, U+0085) is copied into a C# /// line; " +
                             "C# ends the line there, so the rest is code: error CS1585 and others. Input: known-bugs/doc-line-separator.smx",
        [ContextualKeyword] = "Compiler bug: a layer named by a C# contextual keyword (required, scoped, record, …) passes SMX0302's " +
                              "keyword check, and the generated class does not compile (CS9062, CS8124, CS1519, …). Input: known-bugs/contextual-keyword.smx",
        [NullReference] = "Compiler bug: some inputs with syntax errors (e.g. `layer Vera 2 3kron((,)*`) make the binder throw " +
                          "NullReferenceException, reported as internal error SMX0901. Input: known-bugs/null-reference.smx",
    };

    private static readonly Lazy<HashSet<string>> CollisionNames = new(() =>
    {
        // Every identifier in the generated code of the test cases, except the cases' own layer names, plus the public
        // type names of the runtime and ILGPU: a layer named like any of them may collide with what the code refers to.
        var cases = Path.Combine(Gen.RepoRoot(), "tests", "Cases");
        var layerNames = Directory.GetFiles(cases, "*.smx")
            .SelectMany(f => Regex.Matches(File.ReadAllText(f), @"\blayer\s+([A-Za-z_][A-Za-z_0-9]*)").Select(m => m.Groups[1].Value))
            .ToHashSet(StringComparer.Ordinal);
        var names = Directory.GetFiles(cases, "*.verified.cs")
            .SelectMany(f => Regex.Matches(File.ReadAllText(f), @"[A-Za-z_][A-Za-z_0-9]*").Select(m => m.Value))
            .Where(n => !layerNames.Contains(n))
            .ToHashSet(StringComparer.Ordinal);
        foreach (var assembly in new[] { typeof(StructMat.Runtime.Checks).Assembly, typeof(ILGPU.Context).Assembly })
        {
            foreach (var type in assembly.GetExportedTypes()) names.Add(type.Name.Split('`')[0]);
        }
        return names;
    });

    private static IEnumerable<string> LayerNames(string text) =>
        Regex.Matches(text, @"(?<![A-Za-z0-9_])layer\s+([A-Za-z_][A-Za-z_0-9]*)").Select(m => m.Groups[1].Value);

    private static IEnumerable<string> NamespaceParts(string text) =>
        Regex.Matches(text, @"(?<![A-Za-z0-9_])namespace\s+([A-Za-z_][A-Za-z_0-9.]*)").SelectMany(m => m.Groups[1].Value.Split('.'));

    /// <summary>The known bug that explains this failure entirely, or null.</summary>
    public static string? Classify(FuzzFailure failure)
    {
        var text = failure.Case.Text;
        if (failure.Property == "internal compiler error" && failure.Detail.Contains("NullReferenceException", StringComparison.Ordinal))
        {
            return NullReference;
        }
        if (failure.CSharpIds is not { Count: > 0 } ids) return null;

        var names = LayerNames(text).ToList();
        if (names.Concat(NamespaceParts(text)).Any(CollisionNames.Value.Contains)) return NameCollision;
        if (Regex.IsMatch(failure.Detail, @"\[[^\]]*\b(Infinity|NaN)\b")) return NonFiniteScale;
        if (names.Any(ContextualKeywords.Contains) && ids.Any(id => id != "CS8981")) return ContextualKeyword;
        if (Regex.IsMatch(text, "///[^\r\n]*[\u2028\u2029\u0085]")) return DocLineSeparator;
        var explained = ids.All(id => id switch
        {
            "CS8981" => names.Any(n => Regex.IsMatch(n, "^[a-z]+$")),
            "CS0826" => true,
            _ => false,
        });
        if (!explained) return null;
        return ids.Contains("CS0826") ? NoParameters : LowercaseName;
    }
}
