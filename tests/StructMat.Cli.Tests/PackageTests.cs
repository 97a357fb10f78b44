using System;
using System.IO;
using System.Linq;
using StructMat.Cli.Tests.Infrastructure;
using Xunit;

namespace StructMat.Cli.Tests;

/// <summary>
/// The tool as a user gets it: packed to a local folder feed, installed with <c>dotnet tool install</c>, run as
/// <c>smx</c>. Slow (a pack and an install), hence the Build category.
/// </summary>
public class PackageTests
{
    [Fact]
    [Trait("Category", "Build")]
    public void The_packed_tool_installs_from_a_folder_feed_and_checks_a_file()
    {
        using var temp = new TempFolder("pack");
        var feed = Directory.CreateDirectory(temp.Combine("feed")).FullName;
        var tools = temp.Combine("tools");

        var pack = Smx.Exec(Smx.Dotnet, new[] { "pack", Path.Combine(Repo.Root, "src", "StructMat.Cli", "StructMat.Cli.csproj"), "-c", "Release", "-o", feed, "-nodeReuse:false" }, timeoutSeconds: 600);
        Assert.True(pack.ExitCode == 0, pack.Describe());
        var package = Assert.Single(Directory.GetFiles(feed, "smx.*.nupkg"));
        var version = Path.GetFileNameWithoutExtension(package)["smx.".Length..];

        // Only the folder feed: the tool package carries its dependencies, so nothing else may be needed.
        var config = temp.Write("nuget.config", $"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<configuration><packageSources><clear /><add key=\"local\" value=\"{feed}\" /></packageSources></configuration>\n");
        var install = Smx.Exec(Smx.Dotnet, new[] { "tool", "install", "--tool-path", tools, "--configfile", config, "smx", "--version", version }, workingDirectory: temp.Path);
        Assert.True(install.ExitCode == 0, install.Describe());

        var smx = Path.Combine(tools, OperatingSystem.IsWindows() ? "smx.exe" : "smx");
        Assert.True(File.Exists(smx), $"{smx} not installed:\n{install.Describe()}");
        var good = temp.Write("good.smx", "namespace Mine;\nlayer Mixer : 64 -> 64 = monarch(blocks: 8) + bias;\n");
        var bad = temp.Write("bad.smx", "namespace Mine;\nlayer Broken : 8 -> 6 = lowrank(rank: 7);\n");

        var clean = Smx.Exec(smx, new[] { "check", good }, workingDirectory: temp.Path);
        Assert.True(clean.ExitCode == 0, clean.Describe());
        Assert.Equal("No errors.", clean.Out.Trim());

        var failing = Smx.Exec(smx, new[] { "check", bad }, workingDirectory: temp.Path);
        Assert.Equal(1, failing.ExitCode);
        Assert.StartsWith(bad + "(2,33): error SMX0104: ", failing.Out);

        var explained = Smx.Exec(smx, new[] { "explain", good, "--svg", temp.Combine("mixer.svg") }, workingDirectory: temp.Path);
        Assert.True(explained.ExitCode == 0, explained.Describe());
        Assert.True(File.Exists(temp.Combine("mixer.svg")));
    }
}
