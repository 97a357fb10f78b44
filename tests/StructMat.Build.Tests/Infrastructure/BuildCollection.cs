using Xunit;

namespace StructMat.Build.Tests.Infrastructure;

/// <summary>
/// All build tests share one collection: they run one after another (they build the same repository
/// projects, and the machine has few cores), never in parallel with each other.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BuildCollection
{
    public const string Name = "dotnet builds";
}
