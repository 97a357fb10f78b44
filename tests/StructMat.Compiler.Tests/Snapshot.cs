using System;
using System.IO;
using System.Runtime.CompilerServices;
using Xunit.Sdk;

namespace StructMat.Compiler.Tests;

/// <summary>
/// In-house "verified file" snapshots. Compares text with <c>name.verified.ext</c>; on a mismatch writes
/// <c>name.received.ext</c> (git-ignored) and fails with a diff command. A missing baseline fails too,
/// unless STRUCTMAT_UPDATE_SNAPSHOTS=1 says to accept the output (review the diff before committing).
/// </summary>
public static class Snapshot
{
    public static void Verify(string actual, string verifiedPath)
    {
        actual = actual.Replace("\r\n", "\n");
        var receivedPath = verifiedPath.Replace(".verified.", ".received.");
        var update = Environment.GetEnvironmentVariable("STRUCTMAT_UPDATE_SNAPSHOTS") == "1";
        var expected = File.Exists(verifiedPath) ? File.ReadAllText(verifiedPath).Replace("\r\n", "\n") : null;
        if (expected == actual)
        {
            if (File.Exists(receivedPath)) File.Delete(receivedPath);
            return;
        }
        if (update)
        {
            File.WriteAllText(verifiedPath, actual);
            return;
        }
        File.WriteAllText(receivedPath, actual);
        throw new XunitException(expected is null
            ? $"No baseline {verifiedPath}. Review {receivedPath}; accept with STRUCTMAT_UPDATE_SNAPSHOTS=1."
            : $"Output differs from {verifiedPath}. See: diff -u {verifiedPath} {receivedPath}");
    }

    /// <summary>The repository's tests/Cases folder, found from this source file's location.</summary>
    public static string CasesDirectory([CallerFilePath] string thisFile = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(thisFile)!, "..", "Cases"));
}
