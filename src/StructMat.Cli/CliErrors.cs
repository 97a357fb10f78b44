using System;

namespace StructMat.Cli;

/// <summary>Exit codes, as docs/cli.md lists them.</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>SMX errors in a file, or a command's own failure (a file that is not a valid safetensors, a layer that cannot be projected).</summary>
    public const int Failed = 1;

    /// <summary>The command line is wrong: unknown command or option, missing argument, a file or folder that does not exist.</summary>
    public const int Usage = 2;
}

/// <summary>A wrong command line: reported as one line, exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>A command that could not do its job for a reason the user can act on: one line, exit code 1.</summary>
public sealed class CommandFailedException(string message) : Exception(message);
