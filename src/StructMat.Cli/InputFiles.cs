using System;
using System.IO;
using System.Text;

namespace StructMat.Cli;

/// <summary>
/// Reading the files a command names. A path that does not exist, or names a folder, is a usage error (exit 2): the
/// command line is wrong. A file that exists but holds garbage is the file's problem: for .smx that is the
/// compiler's to report (SMX0001/SMX0002, exit 1); for .safetensors the command's (exit 1).
/// </summary>
internal static class InputFiles
{
    public static string RequireFile(string path, string what)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new UsageException($"missing {what}");
        if (Directory.Exists(path)) throw new UsageException($"{path}: is a folder, not {what}");
        if (!File.Exists(path)) throw new UsageException($"{path}: no such file ({what})");
        return path;
    }

    /// <summary>The text of an .smx file; bytes that are not UTF-8 become U+FFFD, which the lexer reports.</summary>
    public static string ReadSmx(string path)
    {
        RequireFile(path, "an .smx file");
        try
        {
            return File.ReadAllText(path, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CommandFailedException($"{path}: cannot be read: {e.Message}");
        }
    }

    /// <summary>A folder to write into: created if missing; an existing file in its place is a usage error.</summary>
    public static string OutputFolder(string path)
    {
        if (File.Exists(path)) throw new UsageException($"{path}: is a file, not a folder to write into");
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>A file to write: its folder must exist (creating folders silently would hide a typo).</summary>
    public static string OutputFile(string path, string what)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new UsageException($"missing {what}");
        if (Directory.Exists(path)) throw new UsageException($"{path}: is a folder, not {what}");
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null && !Directory.Exists(folder)) throw new UsageException($"{path}: folder {folder} does not exist");
        return path;
    }
}
