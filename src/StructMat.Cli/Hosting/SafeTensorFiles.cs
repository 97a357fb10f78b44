using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using StructMat.Runtime;
using StructMat.Runtime.IO;

namespace StructMat.Cli.Hosting;

/// <summary>The runtime's safetensors reader and writer, with its exceptions turned into one-line command failures.</summary>
internal static class SafeTensorFiles
{
    public static IReadOnlyDictionary<string, Tensor> Read(string path)
    {
        InputFiles.RequireFile(path, "a .safetensors file");
        return Guard(path, () => SafeTensors.Read(path));
    }

    /// <summary>Runs a load or save; a bad file or a shape that does not fit is the command's failure.</summary>
    public static T Guard<T>(string path, Func<T> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException or ArgumentException or EndOfStreamException)
        {
            throw new CommandFailedException($"{path}: {e.Message}");
        }
    }

    public static void Guard(string path, Action action) => Guard(path, () =>
    {
        action();
        return 0;
    });

    /// <summary>Copies of <paramref name="parameters"/> under other names, for writing a file in another key layout.</summary>
    public static IEnumerable<Parameter> Renamed(IEnumerable<Parameter> parameters, Func<Parameter, string> name) =>
        parameters.Select(p =>
        {
            var copy = new Parameter(name(p), p.Shape, trainable: false, elementType: p.ElementType);
            if (p.ElementType == ElementType.Float32) Array.Copy(p.Data, copy.Data, p.Length);
            else Array.Copy(p.Bytes, copy.Bytes, p.Length);
            return copy;
        });
}
