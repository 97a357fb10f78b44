using System;
using System.Text;

namespace StructMat.Compiler.Emit;

/// <summary>A StringBuilder with indentation. <see cref="ToString"/> asserts every block was closed.</summary>
public sealed class SourceWriter
{
    private const string IndentUnit = "    ";
    private readonly StringBuilder _text = new();
    private int _indent;

    public SourceWriter Line(string line = "")
    {
        if (line.Length > 0)
        {
            for (var i = 0; i < _indent; i++) _text.Append(IndentUnit);
            _text.Append(line);
        }
        _text.Append('\n');
        return this;
    }

    public SourceWriter Comment(string comment) => Line("// " + CSharp.OneLine(comment));

    /// <summary>Writes <paramref name="header"/> and an opening brace, runs <paramref name="body"/>, closes the brace.</summary>
    public SourceWriter Block(string header, Action body, string close = "}")
    {
        Line(header);
        Line("{");
        _indent++;
        body();
        _indent--;
        Line(close);
        return this;
    }

    public override string ToString()
    {
        if (_indent != 0) throw new InvalidOperationException($"Unbalanced indentation ({_indent}) in emitted code.");
        return _text.ToString();
    }
}
