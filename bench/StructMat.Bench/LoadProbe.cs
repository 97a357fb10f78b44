using System;
using System.Buffers.Binary;
using System.Diagnostics;
using System.IO;
using System.Text;
using StructMat.Runtime;
using StructMat.Runtime.IO;

namespace StructMat.Bench;

/// <summary>
/// <c>--load DIR</c>: issue 16's loading measurement. Writes (once) a 2 GiB checkpoint <c>DIR/structmat-load-probe.safetensors</c>
/// holding one F32 tensor <c>w [16384, 32768]</c>, then times a strict load into a parameter of the right shape but another
/// name (a wrong checkpoint) and a load of the right one, printing the process's peak resident memory (VmHWM) after
/// each. One run each, on this machine: a measurement to read, not a benchmark with statistics.
/// </summary>
public static class LoadProbe
{
    public static int Run(string directory)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "structmat-load-probe.safetensors");
        const int rows = 16384, cols = 32768;
        long elements = (long)rows * cols;
        if (!File.Exists(path) || new FileInfo(path).Length < 4 * elements)
        {
            var header = $"{{\"w\":{{\"dtype\":\"F32\",\"shape\":[{rows},{cols}],\"data_offsets\":[0,{4 * elements}]}}}}";
            header += new string(' ', (8 - header.Length % 8) % 8);
            using var file = new FileStream(path, FileMode.Create);
            var prefix = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
            file.Write(prefix);
            file.Write(Encoding.UTF8.GetBytes(header));
            var chunk = new byte[1 << 20];
            new Random(1).NextBytes(chunk);
            for (long written = 0; written < 4 * elements; written += chunk.Length) file.Write(chunk);
        }
        Console.WriteLine($"{path}: {new FileInfo(path).Length / (1 << 20)} MiB; peak RSS at start {PeakMiB()} MiB");
        var wrong = new Parameter("weight", new[] { rows, cols }, trainable: false);
        var clock = Stopwatch.StartNew();
        try
        {
            SafeTensors.Load(path, new[] { wrong });
            Console.WriteLine("the wrong checkpoint loaded: this is a bug");
            return 1;
        }
        catch (InvalidDataException e)
        {
            Console.WriteLine($"wrong checkpoint refused in {clock.ElapsedMilliseconds} ms ({e.Message.Split(':')[1].Trim()}…); peak RSS {PeakMiB()} MiB");
        }
        var right = new Parameter("w", new[] { rows, cols }, trainable: false);
        clock.Restart();
        SafeTensors.Load(path, new[] { right });
        Console.WriteLine($"right checkpoint loaded in {clock.ElapsedMilliseconds} ms; peak RSS {PeakMiB()} MiB (its parameter: {4 * elements / (1 << 20)} MiB)");
        return 0;
    }

    private static long PeakMiB()
    {
        foreach (var line in File.ReadAllLines("/proc/self/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024;
        return -1;
    }
}
