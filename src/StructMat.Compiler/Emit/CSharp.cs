using System.Globalization;
using System.Linq;
using System.Text;

namespace StructMat.Compiler.Emit;

/// <summary>C# spellings: identifiers from .smx names and paths, invariant-culture literals.</summary>
public static class CSharp
{
    private static readonly string[] Keywords =
    {
        "abstract", "as", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class", "const", "continue",
        "decimal", "default", "delegate", "do", "double", "else", "enum", "event", "explicit", "extern", "false", "finally",
        "fixed", "float", "for", "foreach", "goto", "if", "implicit", "in", "int", "interface", "internal", "is", "lock",
        "long", "namespace", "new", "null", "object", "operator", "out", "override", "params", "private", "protected",
        "public", "readonly", "ref", "return", "sbyte", "sealed", "short", "sizeof", "stackalloc", "static", "string",
        "struct", "switch", "this", "throw", "true", "try", "typeof", "uint", "ulong", "unchecked", "unsafe", "ushort",
        "using", "virtual", "void", "volatile", "while",
    };

    // Contextual keywords: some cannot name a type at all (record, required, scoped, file, var, …); all are reserved here.
    private static readonly string[] ContextualKeywords =
    {
        "add", "alias", "allows", "and", "args", "ascending", "async", "await", "by", "descending", "dynamic", "equals", "extension",
        "field", "file", "from", "get", "global", "group", "init", "into", "join", "let", "managed", "nameof", "nint", "not", "notnull",
        "nuint", "on", "or", "orderby", "partial", "record", "remove", "required", "scoped", "select", "set", "unmanaged", "value",
        "var", "when", "where", "with", "yield",
    };

    public static bool IsKeyword(string name) => Keywords.Contains(name) || ContextualKeywords.Contains(name);

    /// <summary><c>terms.1.lora_A</c> → <c>Terms1LoraA</c>.</summary>
    public static string PascalCase(string path)
    {
        var text = new StringBuilder();
        var upper = true;
        foreach (var c in path)
        {
            if (c == '.' || c == '_')
            {
                upper = true;
                continue;
            }
            text.Append(upper ? char.ToUpperInvariant(c) : c);
            upper = false;
        }
        return text.ToString();
    }

    /// <summary><c>Terms1LoraA</c> → <c>terms1LoraA</c>.</summary>
    public static string CamelCase(string pascal) =>
        pascal.Length == 0 ? pascal : char.ToLowerInvariant(pascal[0]) + pascal.Substring(1);

    public static string Float(float value)
    {
        if (float.IsPositiveInfinity(value)) return "float.PositiveInfinity";
        if (float.IsNegativeInfinity(value)) return "float.NegativeInfinity";
        if (float.IsNaN(value)) return "float.NaN";
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        return (text.Contains("E") || text.Contains(".") ? text : text + ".0") + "f";
    }

    public static string Double(double value)
    {
        if (double.IsPositiveInfinity(value)) return "double.PositiveInfinity";
        if (double.IsNegativeInfinity(value)) return "double.NegativeInfinity";
        if (double.IsNaN(value)) return "double.NaN";
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        return text.Contains("E") || text.Contains(".") ? text : text + ".0";
    }

    public static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Thousands-separated, for explanations.</summary>
    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A string literal.</summary>
    public static string String(string value) => "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    /// <summary>Text for an XML doc comment line: escaped, and without the characters C# treats as line ends (U+2028 …).</summary>
    public static string Xml(string text) => OneLine(text).Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

    /// <summary>Text for a <c>//</c> comment: every character C# ends a line at becomes a space.</summary>
    public static string OneLine(string text) =>
        text.Replace('\r', ' ').Replace('\n', ' ').Replace('\u0085', ' ').Replace('\u2028', ' ').Replace('\u2029', ' ');
}
