using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;

namespace StructMat.Compiler.Tests;

/// <summary>
/// How generated code is goldened so that a person can review a change once: each case's C# with the body of every
/// long GPU kernel replaced by the name of its kernel class, and each kernel class (the bodies equal up to their
/// numbers: sizes, strides, tile extents) once, in <c>gpu-kernels.verified.txt</c>, with the kernels that use it.
/// Nothing is lost: a case's code is its golden with each class's body put back, its numbers aside.
/// </summary>
public static class GoldenView
{
    /// <summary>Kernel bodies at most this long stay in the case's golden (elementwise kernels: a line or a loop).</summary>
    public const int InlineBodyLines = 10;

    private static readonly Regex ClassHeader = new(@"^public sealed partial class (\S+) ", RegexOptions.CultureInvariant);
    private static readonly Regex KernelHeader = new(@"^    private static void (\w+Kernel\d+)\(", RegexOptions.CultureInvariant);
    private static readonly Regex Number = new(@"\d+(\.\d+)?", RegexOptions.CultureInvariant);

    /// <summary>One long kernel of a case: where it is and what it is.</summary>
    public sealed record Kernel(string Case, string Method, string Description, string Text, string NormalizedBody, int Start, int End);

    /// <summary>The long kernels of one generated file, with their line ranges (the whole method, comments included).</summary>
    public static List<Kernel> Kernels(string caseName, string source)
    {
        var lines = source.Split('\n');
        var kernels = new List<Kernel>();
        var layer = "";
        for (var i = 0; i < lines.Length; i++)
        {
            if (ClassHeader.Match(lines[i]) is { Success: true } type) layer = type.Groups[1].Value;
            var header = KernelHeader.Match(lines[i]);
            if (!header.Success) continue;
            var first = i;
            while (first > 0 && lines[first - 1].StartsWith("    // ", StringComparison.Ordinal)) first--;
            var end = i + 2;
            while (lines[end] != "    }") end++;
            var body = lines.Skip(i + 2).Take(end - i - 2).ToList();
            if (body.Count > InlineBodyLines)
            {
                var description = lines[first].Substring("    // ILGPU kernel: ".Length).TrimEnd('.');
                kernels.Add(new Kernel(caseName, layer + "." + header.Groups[1].Value, description, string.Join("\n", lines.Skip(first).Take(end - first + 1)),
                    Number.Replace(string.Join("\n", body), "#"), i + 2, end));
            }
            i = end;
        }
        return kernels;
    }

    /// <summary>What tiling a kernel body has, read off its text: the features that tell tiled kernels of one op apart.</summary>
    public static string Tiling(string normalizedBody)
    {
        var features = new List<string>();
        if (normalizedBody.Contains("partials[")) features.Add(normalizedBody.Contains("SliceK") ? "split-K over compile-time slices" : "split-K over batch slices");
        if (normalizedBody.Contains("int g = ")) features.Add("groups on grid y");
        if (normalizedBody.Contains("col# = ")) features.Add("column tiles");
        if (normalizedBody.Contains("(padded where")) features.Add("padded shared rows");
        var guards = new List<string>();
        if (normalizedBody.Contains("the pass's rows are past the end")) guards.Add("rows");
        if (normalizedBody.Contains("if (col")) guards.Add("columns");
        if (normalizedBody.Contains("k# + kk < ")) guards.Add("reduction");
        features.Add(guards.Count == 0 ? "no edge guards" : "guarded " + string.Join(", ", guards));
        return normalizedBody.Contains("SharedMemory") ? "tiled: " + string.Join("; ", features) : "one thread per element";
    }

    /// <summary>
    /// A kernel class's name: its description with numbers as #, its tiling, and a short hash of its body (bodies of one
    /// description and tiling can still differ, e.g. in how they stage a tile). Computed from the kernel alone, so each
    /// case's golden is checked on its own.
    /// </summary>
    public static string ClassName(Kernel kernel) =>
        $"{Number.Replace(kernel.Description, "#")} [{Tiling(kernel.NormalizedBody)}] #{Hash(kernel.NormalizedBody):x6}";

    /// <summary>FNV-1a over the text, cut to 24 bits: stable across runs, platforms and .NET versions.</summary>
    private static uint Hash(string text)
    {
        var hash = 2166136261u;
        foreach (var c in text) hash = (hash ^ c) * 16777619u;
        return hash & 0xFFFFFF;
    }

    /// <summary>
    /// The stages a case's IR golden keeps: the bound tree, each layer's forward as lowered and as optimised, its
    /// optimised backward and its CPU schedule. (What each pass does is tested pass by pass, in PassCases/.)
    /// </summary>
    public static string IrAndSchedule(string dump)
    {
        var kept = new StringBuilder();
        var keep = false;
        foreach (var line in dump.Split('\n'))
        {
            if (line.StartsWith("=== ", StringComparison.Ordinal))
            {
                keep = line == "=== bound ===" || line.EndsWith(": forward after lowering ===", StringComparison.Ordinal)
                    || line.EndsWith(": forward after EliminateDeadValues ===", StringComparison.Ordinal)
                    || line.EndsWith(": backward after EliminateDeadValues ===", StringComparison.Ordinal)
                    || line.EndsWith(": schedule ===", StringComparison.Ordinal);
            }
            if (keep) kept.Append(line).Append('\n');
        }
        return kept.ToString();
    }

    /// <summary>A case's golden: its code with each long kernel body replaced by its class's name.</summary>
    public static string CaseCode(string caseName, string source)
    {
        var lines = source.Split('\n').ToList();
        foreach (var kernel in Kernels(caseName, source).OrderByDescending(k => k.Start))
        {
            lines.RemoveRange(kernel.Start, kernel.End - kernel.Start);
            lines.Insert(kernel.Start, $"        // body: kernel class \"{ClassName(kernel)}\" (gpu-kernels.verified.txt)");
        }
        return string.Join("\n", lines);
    }

    /// <summary>Every kernel class once: its name, the kernels that use it, and the full text of its first user.</summary>
    public static string KernelClasses(IReadOnlyList<Kernel> kernels)
    {
        var text = new StringBuilder();
        text.Append("// Every distinct long GPU kernel of tests/Cases/*.smx once: kernels whose bodies differ only in their numbers\n");
        text.Append("// (sizes, strides, tile extents) are one class. Each class shows its first user; the cases' goldens name the class.\n");
        foreach (var group in kernels.GroupBy(k => k.NormalizedBody).OrderBy(g => ClassName(g.First()), StringComparer.Ordinal))
        {
            text.Append("\n// === ").Append(ClassName(group.First())).Append(" ===\n");
            text.Append("// used by ").Append(group.Count()).Append(": ").Append(string.Join(", ", group.Select(k => $"{k.Case}.{k.Method}"))).Append('\n');
            text.Append(group.First().Text).Append('\n');
        }
        return text.ToString();
    }
}
