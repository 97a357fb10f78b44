using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Xml.Linq;
using StructMat.Build.Tests.Infrastructure;
using Xunit;

namespace StructMat.Build.Tests;

/// <summary>The StructMat.Generator NuGet package: its layout, and a consumer that uses it from a local feed.</summary>
[Collection(BuildCollection.Name)]
[Trait("Category", "Build")]
public sealed class PackageTests
{
    private static readonly string GeneratorProject = Repo.PathOf("src", "StructMat.Generator");

    [Fact]
    public void Pack_puts_generator_compiler_and_antlr_in_analyzers_and_smx_glob_in_build()
    {
        using var temp = new TempFolder("pack");
        var feed = temp.Combine("feed");

        var pack = Dotnet.Run(Repo.Root, "pack", GeneratorProject, "-c", "Release", "-o", feed);
        Assert.True(pack.Succeeded, pack.Describe("dotnet pack failed."));

        var packages = Directory.GetFiles(feed, "StructMat.Generator.*.nupkg");
        Assert.True(packages.Length == 1, pack.Describe($"Expected one StructMat.Generator .nupkg in {feed}, found {packages.Length}."));

        using var zip = ZipFile.OpenRead(packages[0]);
        var entries = zip.Entries.Select(e => e.FullName.Replace('\\', '/')).ToList();
        var listing = "Package entries:" + Environment.NewLine + string.Join(Environment.NewLine, entries);

        foreach (var expected in new[]
                 {
                     "analyzers/dotnet/cs/StructMat.Generator.dll",
                     "analyzers/dotnet/cs/StructMat.Compiler.dll",
                     "analyzers/dotnet/cs/Antlr4.Runtime.Standard.dll",
                     "build/StructMat.Generator.targets",
                     "build/StructMat.Generator.props",
                 })
        {
            Assert.True(entries.Contains(expected), $"Missing {expected}. {listing}");
        }

        // An analyzer package must not hand its assemblies to the consumer's compile references.
        var lib = entries.Where(e => e.StartsWith("lib/", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.True(lib.Count == 0, $"The package has a lib/ folder. {listing}");

        // build/StructMat.Generator.targets turns every *.smx of the project into an AdditionalFiles item.
        var targetsText = ReadEntry(zip, "build/StructMat.Generator.targets");
        var targets = XDocument.Parse(targetsText);
        var smxGlob = targets.Descendants()
            .Where(e => e.Name.LocalName == "AdditionalFiles")
            .Select(e => (string?)e.Attribute("Include"))
            .Where(include => include != null && include.Split(';').Any(part => part.Trim() == "**/*.smx"))
            .ToList();
        Assert.True(smxGlob.Count == 1, "build/StructMat.Generator.targets has no <AdditionalFiles Include=\"**/*.smx\" />:" + Environment.NewLine + targetsText);

        // Props must be well-formed MSBuild too (NuGet imports it into every consumer).
        var props = XDocument.Parse(ReadEntry(zip, "build/StructMat.Generator.props"));
        Assert.Equal("Project", props.Root!.Name.LocalName);

        // A development dependency: it must not flow to the consumer's own consumers.
        var nuspec = XDocument.Parse(ReadEntry(zip, "StructMat.Generator.nuspec"));
        var devDependency = nuspec.Descendants().FirstOrDefault(e => e.Name.LocalName == "developmentDependency")?.Value;
        Assert.True(devDependency == "true", "The nuspec does not say <developmentDependency>true</developmentDependency>:" + Environment.NewLine + nuspec);
    }

    [Fact]
    public void Package_consumer_builds_smx_without_any_item()
    {
        using var temp = new TempFolder("package-consumer");
        var feed = temp.Combine("feed");
        // A version no other run has used: restore cannot pick up a stale StructMat.Generator from any cache.
        var version = "0.0.0-buildtest." + DateTime.UtcNow.ToString("yyyyMMddHHmmss") + "." + Guid.NewGuid().ToString("N").Substring(0, 6);

        var pack = Dotnet.Run(Repo.Root, "pack", GeneratorProject, "-c", "Release", "-o", feed, "-p:PackageVersion=" + version);
        Assert.True(pack.Succeeded, pack.Describe("dotnet pack failed."));

        var consumer = temp.Combine("consumer");
        Directory.CreateDirectory(consumer);
        temp.Write("consumer/nuget.config", NuGetConfig(feed, consumer));

        // Private packages folder: the test package never lands in the machine's global cache.
        // The global cache is a read-only fallback, so the runtime's dependencies (ILGPU, …) need no download.
        var fallback = GlobalPackagesFolder(temp.Path);
        temp.Write("consumer/Consumer.csproj", $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>disable</ImplicitUsings>
                <RestorePackagesPath>{temp.Combine("packages")}</RestorePackagesPath>
                <RestoreFallbackFolders>{fallback}</RestoreFallbackFolders>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="StructMat.Generator" Version="{version}" />
                <ProjectReference Include="{Repo.PathOf("src", "StructMat.Runtime", "StructMat.Runtime.csproj")}" />
              </ItemGroup>
            </Project>
            """);

        // 3 -> 5 dense plus bias: 3*5 weights + 5 biases.
        const int inFeatures = 3, outFeatures = 5;
        const int expectedParameters = inFeatures * outFeatures + outFeatures;
        temp.Write("consumer/Layers/layers.smx", $"""
            namespace Demo;

            /// A tiny dense layer for the package test.
            layer Tiny : {inFeatures} -> {outFeatures} = dense + bias;
            """);
        temp.Write("consumer/Program.cs", """
            public static class Program
            {
                public static void Main()
                {
                    var layer = new Demo.Tiny();
                    System.Console.WriteLine("ParameterCount=" + layer.ParameterCount);
                }
            }
            """);

        var run = Dotnet.Run(consumer, "run", "-c", "Release");
        Assert.True(run.Succeeded, run.Describe("dotnet run of the package consumer failed."));
        var lines = run.Output.Split('\n').Select(l => l.Trim()).ToList();
        Assert.True(lines.Contains("ParameterCount=" + expectedParameters),
            run.Describe($"Expected a line 'ParameterCount={expectedParameters}'."));

        Assert.True(Directory.Exists(Path.Combine(temp.Combine("packages"), "structmat.generator", version)),
            run.Describe("The test package was not restored into the private packages folder."));
    }

    private static string ReadEntry(ZipArchive zip, string name)
    {
        var entry = zip.Entries.Single(e => e.FullName.Replace('\\', '/') == name);
        using var reader = new StreamReader(entry.Open());
        return reader.ReadToEnd();
    }

    /// <summary>The local feed first, then the sources this machine's own NuGet configuration enables.</summary>
    private static string NuGetConfig(string feed, string consumer)
    {
        var list = Dotnet.Run(consumer, "nuget", "list", "source", "--format", "short");
        Assert.True(list.Succeeded, list.Describe("dotnet nuget list source failed."));
        var sources = list.Output.Split('\n')
            .Select(l => l.Trim())
            .Where(l => l.StartsWith("E ", StringComparison.Ordinal))
            .Select(l => l.Substring(2).Trim())
            .Where(s => s.Length > 0 && !string.Equals(Path.GetFullPath(s, consumer), feed, StringComparison.Ordinal))
            .ToList();
        Assert.True(sources.Count > 0, list.Describe("This machine's NuGet configuration enables no package source."));

        var config = new System.Text.StringBuilder();
        config.Append("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        config.Append("<configuration>\n  <packageSources>\n    <clear />\n");
        config.Append($"    <add key=\"structmat-test-feed\" value=\"{System.Security.SecurityElement.Escape(feed)}\" />\n");
        for (var i = 0; i < sources.Count; i++)
        {
            config.Append($"    <add key=\"machine-source-{i}\" value=\"{System.Security.SecurityElement.Escape(sources[i])}\" />\n");
        }
        config.Append("  </packageSources>\n</configuration>\n");
        return config.ToString();
    }

    /// <summary>The machine's global packages folder, as NuGet reports it.</summary>
    private static string GlobalPackagesFolder(string workingDirectory)
    {
        var locals = Dotnet.Run(workingDirectory, "nuget", "locals", "global-packages", "--list");
        Assert.True(locals.Succeeded, locals.Describe("dotnet nuget locals global-packages --list failed."));
        const string prefix = "global-packages:";
        var line = locals.Output.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        Assert.True(line != null, locals.Describe("No global-packages line."));
        return line!.Substring(prefix.Length).Trim();
    }
}
