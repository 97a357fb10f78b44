using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Xunit;
using Xunit.Abstractions;

namespace StructMat.Generator.Tests.Fuzzing;

/// <summary>
/// A case family for names: every type and namespace name the generated code refers to, found by asking Roslyn's
/// semantic model what the generated code of every test case binds to, used as a layer name, as a namespace part
/// (beside the case files in a sibling namespace: several .smx files in one build) and as a user's own type in the
/// layers' namespace. Before generated code was global::-qualified, `Group`, `Grid`, `SharedMemory`, `BatchTiles`,
/// `TiledLaunch` or `GradientTargets` as a layer name built into dozens of C# errors, `App.Group` broke the layers of
/// sibling namespaces, and a user class `Checks` broke every layer. Each build must now have no error at all, other
/// than SMX0304 for a layer named like a member of its own class.
/// </summary>
public sealed class NameCollisionTests(ITestOutputHelper output)
{
    private const string ProjectDir = "/fake/project/";

    private static readonly Dictionary<string, string> Project = new() { ["build_property.ProjectDir"] = ProjectDir };

    private static IReadOnlyList<SmxFile> CaseFiles() =>
        Directory.GetFiles(Path.Combine(Gen.RepoRoot(), "tests", "Cases"), "*.smx").OrderBy(f => f, StringComparer.Ordinal)
            .Select(f => new SmxFile(ProjectDir + "Cases/" + Path.GetFileName(f), File.ReadAllText(f))).ToList();

    private static readonly Lazy<SortedSet<string>> Names = new(FindNames);

    private static SortedSet<string> NamesTheGeneratedCodeUses() => Names.Value;

    /// <summary>Names of the types and namespaces the generated code of every case binds to, from the semantic model.</summary>
    private static SortedSet<string> FindNames()
    {
        var (_, compilation, _) = Gen.Run(CaseFiles(), Project);
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var tree in compilation.SyntaxTrees.Where(t => t.FilePath.EndsWith(".g.cs", StringComparison.Ordinal)))
        {
            var model = compilation.GetSemanticModel(tree);
            foreach (var name in tree.GetRoot().DescendantNodes().OfType<SimpleNameSyntax>())
            {
                if (model.GetSymbolInfo(name).Symbol is INamespaceOrTypeSymbol symbol && symbol.Name.Length > 0 && symbol.ContainingAssembly?.Name != "Tests")
                {
                    names.Add(symbol.Name);
                }
            }
        }
        return names;
    }

    [Fact]
    public void The_names_found_include_those_of_the_reported_bugs()
    {
        var names = NamesTheGeneratedCodeUses();
        output.WriteLine(string.Join(", ", names));
        // Group, Grid, SharedMemory and TiledLaunch were names of reported bugs too; they are gone from generated code
        // since the tiled block product moved into the runtime (TiledGemmDevice, specialised per GemmShape).
        Assert.Superset(new SortedSet<string> { "BatchTiles", "GradientTargets", "Checks", "Span", "ILGPU", "System", "TiledGemmDevice", "GemmShape", "DeviceLayer" }, names);
        Assert.DoesNotContain("SharedMemory", names);
    }

    [Fact]
    public void Every_name_the_generated_code_uses_can_name_a_layer()
    {
        var names = NamesTheGeneratedCodeUses().Where(n => !CSharpKeyword(n)).ToList();
        var smx = "namespace App.Layers;\n" + string.Join("\n", names.Select(n =>
            $"layer {n} : 8 -> 8 = monarch(blocks: 2) + perm(reverse) * householder(reflections: 2) + kron(dense(2 -> 2), lowrank(4 -> 4, rank: 1)) + bias;"));
        AssertBuildsClean(new[] { new SmxFile(ProjectDir + "names.smx", smx) }, Array.Empty<string>(), names.Count);
    }

    [Fact]
    public void Every_name_the_generated_code_uses_can_be_a_namespace_part_beside_sibling_namespaces()
    {
        var names = NamesTheGeneratedCodeUses().Where(n => !CSharpKeyword(n)).ToList();
        // Every case file (namespace StructMat.Tests.Cases) plus one file per name in namespace StructMat.Tests.<name>:
        // the StructMat.Tests.Group namespace must not capture 'Group' in the cases' code, nor anything in its own.
        var files = CaseFiles().Concat(names.Select(n => new SmxFile(ProjectDir + $"ns/{n}.smx",
            $"namespace StructMat.Tests.{n};\nlayer Layer : 8 -> 8 = blocksparse(block: 2, pattern: butterfly) + lowrank(rank: 2) + bias;")));
        AssertBuildsClean(files, Array.Empty<string>(), names.Count);
    }

    [Fact]
    public void Every_name_the_generated_code_uses_can_be_a_user_type_in_the_layers_namespace()
    {
        var names = NamesTheGeneratedCodeUses().Where(n => !CSharpKeyword(n)).ToList();
        // The user's own classes, named like every type and namespace the generated code uses, in the namespace of
        // every case's layers.
        var user = "namespace StructMat.Tests.Cases\n{\n" + string.Join("\n", names.Select(n => $"    public class {n} {{ }}")) + "\n}\n";
        AssertBuildsClean(CaseFiles(), new[] { user }, names.Count);
    }

    [Fact]
    public void Unicode_names_and_the_longest_name_build_and_one_byte_more_is_SMX0305()
    {
        // Before: 'Größe' and '层' got one SMX0002 per character; a 1,030-character name ended in CS7013.
        var fits = new string('A', 1021);
        var smx = $"namespace N;\nlayer Größe : 4 -> 4 = dense;\nlayer 层 : 4 -> 4 = lowrank(rank: 2);\nlayer {fits} : 4 -> 4 = dense;\nlayer {fits}B : 4 -> 4 = dense;";
        var (_, compilation, diagnostics) = Gen.Run(new[] { new SmxFile(ProjectDir + "names.smx", smx) }, Project);
        Assert.Equal("SMX0305", Assert.Single(diagnostics).Id);
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
        Assert.NotNull(compilation.GetTypeByMetadataName("N.Größe"));
        Assert.NotNull(compilation.GetTypeByMetadataName("N.层"));
        Assert.NotNull(compilation.GetTypeByMetadataName("N." + fits));
        using var stream = new MemoryStream();
        Assert.True(compilation.Emit(stream).Success); // CS7013 is an emit error: the metadata name must really fit
    }

    private void AssertBuildsClean(IEnumerable<SmxFile> files, string[] csharp, int names)
    {
        Assert.True(names > 20, $"only {names} names were found");
        var (_, compilation, diagnostics) = Gen.Run(files, Project, Gen.Compilation(csharp.Length == 0 ? new[] { "class Empty { }" } : csharp));
        var smx = diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        foreach (var e in smx.Concat(errors).Take(20)) output.WriteLine(e.ToString());
        Assert.DoesNotContain(smx, d => d.Id != "SMX0304");
        Assert.Empty(errors);
    }

    private static bool CSharpKeyword(string name) =>
        SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None || SyntaxFacts.GetContextualKeywordKind(name) != SyntaxKind.None;
}
