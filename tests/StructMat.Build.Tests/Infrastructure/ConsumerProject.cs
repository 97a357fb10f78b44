namespace StructMat.Build.Tests.Infrastructure;

/// <summary>The project file of a consumer that references the generator as an analyzer and the runtime as a project.</summary>
public static class ConsumerProject
{
    /// <param name="properties">Extra lines for the PropertyGroup (target framework and nullable are set).</param>
    /// <param name="smxGlobs">The .smx files, as AdditionalFiles patterns.</param>
    public static string WithAnalyzerReference(string properties, params string[] smxGlobs)
    {
        var files = string.Concat(System.Array.ConvertAll(smxGlobs, g => $"\n    <AdditionalFiles Include=\"{g}\" />"));
        return $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>{properties}
              </PropertyGroup>
              <ItemGroup>
                <ProjectReference Include="{Repo.PathOf("src", "StructMat.Generator", "StructMat.Generator.csproj")}" OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
                <ProjectReference Include="{Repo.PathOf("src", "StructMat.Runtime", "StructMat.Runtime.csproj")}" />{files}
              </ItemGroup>
            </Project>
            """;
    }
}
