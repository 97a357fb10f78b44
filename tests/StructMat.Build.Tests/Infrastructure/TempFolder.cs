using System;
using System.IO;
using System.Text;

namespace StructMat.Build.Tests.Infrastructure;

/// <summary>
/// A fresh folder per test under the system temp folder, deleted on dispose
/// (kept when <c>STRUCTMAT_KEEP_TEMP=1</c>, for debugging a failure).
/// </summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder(string name)
    {
        var parent = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "structmat-build-tests");
        Path = System.IO.Path.Combine(parent, name + "-" + Guid.NewGuid().ToString("N").Substring(0, 8));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine(Path, System.IO.Path.Combine(parts));

    /// <summary>Writes a text file (creating its folder) with LF line ends and no BOM, and returns its full path.</summary>
    public string Write(string relativePath, string text)
    {
        var full = Combine(relativePath);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllText(full, text.Replace("\r\n", "\n"), new UTF8Encoding(false));
        return full;
    }

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("STRUCTMAT_KEEP_TEMP") == "1")
        {
            return;
        }
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a lingering process may still hold a file.
        }
        catch (UnauthorizedAccessException)
        {
            // Best effort (read-only files from git or npm).
        }
    }
}
