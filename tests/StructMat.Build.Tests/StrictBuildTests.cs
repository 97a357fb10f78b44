using System;
using System.Linq;
using StructMat.Build.Tests.Infrastructure;
using Xunit;

namespace StructMat.Build.Tests;

/// <summary>
/// The generated code in a project as strict as .NET projects get: warnings as errors, documentation file (every
/// public member needs its comment), nullable reference types, every analyzer at its latest level. It builds every
/// test case, and layers of 65,536 features, whose sizes reach past 32-bit products.
/// </summary>
[Collection(BuildCollection.Name)]
[Trait("Category", "Build")]
public sealed class StrictBuildTests
{
    [Fact]
    public void Every_case_builds_without_a_warning_under_the_strictest_settings()
    {
        using var temp = new TempFolder("strict");
        temp.Write("consumer/Consumer.csproj", ConsumerProject.WithAnalyzerReference("""

                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <GenerateDocumentationFile>true</GenerateDocumentationFile>
                <AnalysisLevel>latest-all</AnalysisLevel>
                <EnforceCodeStyleInBuild>true</EnforceCodeStyleInBuild>
            """, Repo.PathOf("tests", "Cases") + "/*.smx", "*.smx"));
        // 65536 · 65536 is 2^32: every size product in the generated code must be computed in 64 bits, and a dense
        // weight that no array holds must say so rather than fail to compile or wrap around.
        temp.Write("consumer/large.smx", """
            namespace Strict.Large;

            /// Rank one at 65,536 features, with a bias.
            layer WideLowRank : 65536 -> 65536 = lowrank(rank: 1) + bias;

            /// A diagonal and a reversal at 65,536 features.
            layer WideDiagonal : 65536 -> 65536 = diag() * perm(reverse);

            /// Monarch at 65,536 features.
            layer WideMonarch : 65536 -> 65536 = monarch(blocks: 256);

            /// A Kronecker product of two 256 × 256 factors.
            layer WideKron : 65536 -> 65536 = kron(dense(256 -> 256), dense(256 -> 256));

            /// Block-diagonal on a frozen low-rank base.
            layer WideAdapter : 65536 -> 65536 = frozen lowrank(rank: 2) + blockdiag(blocks: 4096);
            """);

        var build = Dotnet.Run(temp.Combine("consumer"), "build", "-c", "Release");
        Assert.True(build.Succeeded, build.Describe("The strict build failed."));
        var warnings = build.Output.Split('\n').Where(l => l.Contains(": warning ", StringComparison.Ordinal)).Distinct().ToList();
        Assert.True(warnings.Count == 0, build.Describe($"{warnings.Count} warnings:\n{string.Join("\n", warnings.Take(20))}"));
    }
}
