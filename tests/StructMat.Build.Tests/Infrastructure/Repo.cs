using System;
using System.IO;

namespace StructMat.Build.Tests.Infrastructure;

/// <summary>Locates the repository the tests were built from.</summary>
public static class Repo
{
    private static readonly Lazy<string> RootLazy = new(FindRoot);

    /// <summary>The folder holding <c>StructMat.sln</c>, found by walking up from the test assembly.</summary>
    public static string Root => RootLazy.Value;

    public static string PathOf(params string[] parts) => Path.Combine(Root, Path.Combine(parts));

    private static string FindRoot()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "StructMat.sln")))
                {
                    return dir.FullName;
                }
            }
        }
        throw new InvalidOperationException(
            $"StructMat.sln not found above {AppContext.BaseDirectory} or {Directory.GetCurrentDirectory()}.");
    }
}
