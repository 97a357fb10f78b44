using System;
using System.Linq;
using StructMat.Build.Tests.Infrastructure;
using Xunit;

namespace StructMat.Build.Tests;

/// <summary>The generator referenced as a project analyzer: diagnostics in .smx files fail the build at file(line,col).</summary>
[Collection(BuildCollection.Name)]
[Trait("Category", "Build")]
public sealed class AnalyzerReferenceTests
{
    [Fact]
    public void Bad_smx_fails_the_build_at_file_line_col()
    {
        using var temp = new TempFolder("bad-smx");
        temp.Write("consumer/Consumer.csproj", ConsumerProject.WithAnalyzerReference("", "*.smx"));

        // 5 divides neither 64: the rule is broken by the argument `blocks: 5`.
        const string smx = """
            namespace Demo;

            const width = 64;

            /// Fine.
            layer Good : width -> width = blockdiag(blocks: 8);

            /// Broken: 5 blocks cannot tile 64 features.
            layer Bad  : width -> width = blockdiag(blocks: 5) + bias;
            """;
        temp.Write("consumer/bad.smx", smx);
        var (line, column) = SourceText.PositionOf(smx, ExpectedMarker);
        var expected = $"bad.smx({line},{column}): error SMX0103";

        var build = Dotnet.Run(temp.Combine("consumer"), "build", "-c", "Release");
        Assert.False(build.Succeeded, build.Describe("The build of a project with a bad .smx succeeded."));
        Assert.True(build.Output.Contains(expected, StringComparison.Ordinal),
            build.Describe($"Expected '{expected}' (the position of '{ExpectedMarker}')."));
        // The error is reported against the .smx, and the generator did not crash instead.
        Assert.False(build.Output.Contains("CS8785", StringComparison.Ordinal), build.Describe("The generator threw (CS8785)."));
    }

    /// <summary>Where SMX0103 must point: the offending argument.</summary>
    private const string ExpectedMarker = "blocks: 5";
}
