using System.IO;
using StructMat.Cli.Tests.Infrastructure;
using Xunit;

namespace StructMat.Cli.Tests;

/// <summary>
/// smx as a user runs it, a separate process: exit codes (0 ok, 1 SMX errors or a command's failure, 2 usage), one
/// clear line on standard error, never a stack trace.
/// </summary>
public class CommandLineTests
{
    private static SmxResult Usage(params string[] args)
    {
        var result = Smx.Process(args);
        Assert.True(result.ExitCode == ExitCodes.Usage, result.Describe());
        Assert.StartsWith("smx: ", result.Error);
        Assert.False(result.HasStackTrace, result.Describe());
        return result;
    }

    [Fact]
    public void A_clean_file_exits_0() => Assert.Equal(ExitCodes.Ok, Smx.Process("check", Path.Combine(Repo.Cases, "monarch.smx")).ExitCode);

    [Fact]
    public void An_smx_error_exits_1_with_the_build_format_on_stdout()
    {
        var path = Path.Combine(Repo.Mistakes, "30-rank-too-large.smx");
        var result = Smx.Process("check", path);

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.StartsWith(path + "(3,28): error SMX0104: lowrank: rank 7 exceeds min(in, out)", result.Out);
    }

    [Fact]
    public void No_command_is_a_usage_error() => Assert.Equal(ExitCodes.Usage, Smx.Process().ExitCode);

    [Fact]
    public void An_unknown_command_is_a_usage_error() => Assert.Contains("Unknown command 'frobnicate'", Usage("frobnicate").Error);

    [Fact]
    public void An_unknown_option_is_a_usage_error() => Assert.Contains("Unknown option 'bogus'", Usage("check", "--bogus", "x.smx").Error);

    [Fact]
    public void A_missing_argument_is_a_usage_error() => Assert.Contains("missing required argument", Usage("check").Error);

    [Fact]
    public void A_missing_file_is_a_usage_error() => Assert.Contains("no-such.smx: no such file", Usage("check", "no-such.smx").Error);

    [Fact]
    public void A_folder_instead_of_a_file_is_a_usage_error() => Assert.Contains("is a folder", Usage("explain", Repo.Cases).Error);

    [Fact]
    public void A_bad_format_is_a_usage_error() => Assert.Contains("--format must be text or json", Usage("check", Path.Combine(Repo.Cases, "monarch.smx"), "--format", "xml").Error);

    [Fact]
    public void Binary_garbage_as_smx_exits_1_with_an_smx_error_and_no_stack_trace()
    {
        using var temp = new TempFolder("garbage-process");
        var path = temp.Combine("garbage.smx");
        var bytes = new byte[2048];
        new System.Random(11).NextBytes(bytes);
        File.WriteAllBytes(path, bytes);

        foreach (var command in new[] { "check", "explain", "emit", "bench" })
        {
            var result = Smx.Process(command, path);
            Assert.True(result.ExitCode == ExitCodes.Failed, command + ": " + result.Describe());
            Assert.Contains(": error SMX000", result.Out + result.Error);
            Assert.False(result.HasStackTrace, result.Describe());
        }
    }

    [Fact]
    public void Help_lists_every_command_and_exits_0()
    {
        var result = Smx.Process("--help");

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        foreach (var command in new[] { "check", "explain", "emit", "bench", "project", "onnx", "convert" }) Assert.Contains(command, result.Out);
    }
}
