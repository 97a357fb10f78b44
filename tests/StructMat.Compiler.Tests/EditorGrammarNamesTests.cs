using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.RegularExpressions;
using StructMat.Compiler.Semantics;
using StructMat.Compiler.Structures;
using Xunit;

namespace StructMat.Compiler.Tests;

/// <summary>
/// The editor grammar (editors/vscode/syntaxes/smx.tmLanguage.json) highlights exactly the compiler's words: the
/// structures of <see cref="StructureRegistry.All"/>, the <see cref="CoreForms"/> and every option word, taken
/// from the compiler's own objects (the node tests in editors/vscode read the same lists from the C# sources).
/// A structure added to the registry fails here until the grammar knows it.
/// </summary>
public class EditorGrammarNamesTests
{
    private static string Root => Path.GetFullPath(Path.Combine(Snapshot.CasesDirectory(), "..", ".."));

    private static readonly JsonElement Grammar =
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "editors", "vscode", "syntaxes", "smx.tmLanguage.json"))).RootElement;

    /// <summary>The words of the one rule in the grammar's repository section that gives <paramref name="scope"/>.</summary>
    private static string[] WordsOf(string rule, string scope)
    {
        var patterns = Grammar.GetProperty("repository").GetProperty(rule).GetProperty("patterns").EnumerateArray()
            .Where(p => p.TryGetProperty("name", out var name) && name.GetString() == scope)
            .ToList();
        Assert.True(patterns.Count == 1, $"expected one '{scope}' rule in repository.{rule}, found {patterns.Count}");
        return AlternativesOf(patterns[0].GetProperty("match").GetString()!);
    }

    /// <summary>The words of the (one) group <c>(?:w1|w2|…)</c> of a match pattern.</summary>
    private static string[] AlternativesOf(string match)
    {
        var groups = Regex.Matches(match, @"\(\?:([\p{L}\p{Nd}_|]+)\)");
        Assert.True(groups.Count == 1, $"expected one word group (?:a|b|…) in {match}");
        return groups[0].Groups[1].Value.Split('|');
    }

    private static IEnumerable<string> OptionWords(IEnumerable<PrimitiveSpec> specs) =>
        specs.SelectMany(s => s.Arguments).Where(a => a.Kind == ArgumentKind.Option).SelectMany(a => a.Options).Distinct();

    private static readonly PrimitiveSpec[] CoreSpecs = { CoreForms.Kron, CoreForms.Hadamard, CoreForms.Normalize };

    [Fact]
    public void Structure_names_are_the_registry()
    {
        Assert.Equal(StructureRegistry.All.Select(s => s.Name), WordsOf("expression", "support.function.structure.smx"));
    }

    [Fact]
    public void Core_forms_are_CoreForms()
    {
        Assert.Equal(CoreSpecs.Select(s => s.Name).Order(), WordsOf("expression", "support.function.core.smx").Order());
        // Every spec that Spec() knows besides the structures is one of them (a new core form is added to both).
        Assert.All(CoreSpecs, s => Assert.Same(s, StructureRegistry.Spec(s.Name)));
    }

    [Fact]
    public void Option_words_are_every_Option_argument()
    {
        var options = OptionWords(StructureRegistry.All.Select(s => s.Spec).Concat(CoreSpecs)).Order().ToArray();
        Assert.NotEmpty(options);

        // After `name:` every option word is a value; written alone, those that are no structure name are.
        var parameters = Grammar.GetProperty("repository").GetProperty("parentheses").GetProperty("patterns").EnumerateArray()
            .Single(p => p.TryGetProperty("captures", out var c) && c.TryGetProperty("1", out var one)
                         && one.GetProperty("name").GetString() == "variable.parameter.smx"
                         && c.TryGetProperty("3", out _));
        Assert.Equal(options, AlternativesOf(parameters.GetProperty("match").GetString()!).Order());

        var structures = StructureRegistry.All.Select(s => s.Name).ToHashSet();
        Assert.Equal(options.Where(o => !structures.Contains(o)), WordsOf("expression", "constant.language.option.smx").Order());
    }

    [Fact]
    public void Bias_is_CoreForms_Bias() =>
        Assert.Equal(new[] { CoreForms.Bias }, WordsOf("expression", "keyword.other.bias.smx"));
}
