using System;
using System.ComponentModel;
using System.IO;
using System.Security.Cryptography;
using StructMat.Build.Tests.Infrastructure;
using Xunit;

namespace StructMat.Build.Tests;

/// <summary>
/// The editor highlighting (editors/vscode): runs its node tests, which tokenise every tracked .smx with
/// vscode-textmate and check the grammar's word lists against the compiler's sources, so the .NET test run
/// fails when a new structure or keyword is not highlighted.
/// </summary>
[Collection(BuildCollection.Name)]
[Trait("Category", "Build")]
public sealed class EditorGrammarTests
{
    private static readonly TimeSpan NpmTimeout = TimeSpan.FromMinutes(5);

    private static string ExtensionFolder => Repo.PathOf("editors", "vscode");

    /// <summary>
    /// Written after a successful <c>npm ci</c>, holding the SHA-256 of the package-lock.json it installed
    /// (npm's tarballs carry 1985 mtimes, so times would not tell; see build/Antlr.targets).
    /// </summary>
    private static string Stamp => Path.Combine(ExtensionFolder, "node_modules", ".structmat.stamp");

    [Fact]
    public void Npm_test_of_the_TextMate_grammar_passes()
    {
        EnsureDependencies();
        var test = Npm("test");
        Assert.True(test.Succeeded, test.Describe("`npm test` in editors/vscode failed."));
    }

    /// <summary>Runs <c>npm ci</c> only when node_modules is missing or was installed from another lock file.</summary>
    private static void EnsureDependencies()
    {
        var lockHash = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(Path.Combine(ExtensionFolder, "package-lock.json"))));
        if (File.Exists(Stamp) && File.ReadAllText(Stamp).Trim() == lockHash)
        {
            return;
        }
        // The same flags as the build's `npm ci` for the ANTLR tool, against the same configured registry.
        var install = Npm("ci", "--no-audit", "--no-fund", "--loglevel=error");
        Assert.True(install.Succeeded, install.Describe("`npm ci` in editors/vscode failed."));
        File.WriteAllText(Stamp, lockHash + Environment.NewLine);
    }

    private static CommandResult Npm(params string[] arguments)
    {
        // npm is a .cmd script on Windows, which Process cannot start without the shell.
        var npm = OperatingSystem.IsWindows() ? "npm.cmd" : "npm";
        try
        {
            return Dotnet.Exec(npm, ExtensionFolder, arguments, NpmTimeout);
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException(
                $"Could not start `{npm}` ({e.Message}). Node and npm are prerequisites (README, Set up): install them and put npm on PATH.", e);
        }
    }
}
