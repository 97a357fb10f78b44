using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace StructMat.GpuRunner;

/// <summary>Console tables, number formatting and JSON files.</summary>
public static class Output
{
    public static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Writes <paramref name="json"/> to <paramref name="path"/> through a temporary file, so a killed run leaves the last complete file.</summary>
    public static void WriteJson(string path, JsonNode json)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temporary = full + ".tmp";
        File.WriteAllText(temporary, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n");
        File.Move(temporary, full, overwrite: true);
    }

    /// <summary>A Markdown-style table (pipes), columns padded; right-aligned where every cell after the header looks numeric.</summary>
    public static void PrintTable(IReadOnlyList<string> header, IReadOnlyList<string[]> rows)
    {
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Select(r => r[i].Length).DefaultIfEmpty(0).Max())).ToArray();
        var numeric = header.Select((_, i) => rows.Count > 0 && rows.All(r => r[i].Length == 0 || char.IsDigit(r[i][0]) || r[i][0] is '-' or '<')).ToArray();
        string Line(IReadOnlyList<string> cells) =>
            "| " + string.Join(" | ", cells.Select((c, i) => numeric[i] ? c.PadLeft(widths[i]) : c.PadRight(widths[i]))) + " |";
        Console.WriteLine(Line(header));
        Console.WriteLine("|" + string.Join("|", widths.Select((w, i) => numeric[i] ? new string('-', w + 1) + ":" : new string('-', w + 2))) + "|");
        foreach (var row in rows) Console.WriteLine(Line(row));
    }

    public static string Num(double value, string format) => value.ToString(format, Invariant);

    public static string Sci(double value) => double.IsFinite(value) ? value.ToString("0.00E+00", Invariant) : value.ToString(Invariant);
}
