using System;
using System.IO;
using StructMat.Build.Tests.Infrastructure;
using Xunit;

namespace StructMat.Build.Tests;

/// <summary>Incrementality of the build-time ANTLR step (build/Antlr.targets).</summary>
[Collection(BuildCollection.Name)]
[Trait("Category", "Build")]
public sealed class IncrementalBuildTests
{
    private const string GenerateTarget = "StructMatGenerateParser";

    [Fact]
    public void Second_build_does_not_regenerate_the_parser()
    {
        using var temp = new TempFolder("incremental");
        var clone = temp.Combine("repo");

        // A clone of HEAD: its own bin/obj and tools/antlr/node_modules, so nothing fights with other builds
        // of the working tree (note: uncommitted changes are not in the clone).
        var git = Dotnet.Exec("git", temp.Path, new[] { "clone", "-q", "--no-hardlinks", Repo.Root, clone }, Dotnet.DefaultTimeout);
        Assert.True(git.Succeeded, git.Describe("git clone of the repository failed."));
        var project = Path.Combine(clone, "src", "StructMat.Compiler");

        var first = Dotnet.Run(clone, "build", project, "-c", "Release", "-v:n");
        Assert.True(first.Succeeded, first.Describe("The first build of StructMat.Compiler in a fresh clone failed."));
        // Guard against a vacuous pass: the first build must have run the tool.
        Assert.True(first.Output.Contains("java -jar", StringComparison.Ordinal),
            first.Describe("The first build did not run the ANTLR tool (no 'java -jar' in the output)."));
        Assert.True(File.Exists(Path.Combine(project, "obj", "Release", "netstandard2.0", "antlr", "StructMatParser.cs")),
            first.Describe("The first build did not produce obj/Release/netstandard2.0/antlr/StructMatParser.cs."));

        var second = Dotnet.Run(clone, "build", project, "-c", "Release", "-v:n");
        Assert.True(second.Succeeded, second.Describe("The second build failed."));
        Assert.True(second.Output.Contains($"Skipping target \"{GenerateTarget}\" because all output files are up-to-date", StringComparison.Ordinal),
            second.Describe($"The second build did not skip {GenerateTarget} as up to date."));
        Assert.False(second.Output.Contains("java -jar", StringComparison.Ordinal),
            second.Describe("The second build ran the ANTLR tool again."));
        Assert.False(second.Output.Contains("npm ci", StringComparison.Ordinal),
            second.Describe("The second build ran npm ci again."));
    }
}
