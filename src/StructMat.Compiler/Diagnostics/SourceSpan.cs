namespace StructMat.Compiler.Diagnostics;

/// <summary>
/// A range of an .smx file: character offsets plus 0-based line/column of both ends (what Roslyn's
/// <c>LinePositionSpan</c> needs). Plain numbers, never Roslyn types, so pipeline steps stay cacheable.
/// </summary>
public readonly record struct SourceSpan(int Start, int Length, int StartLine, int StartColumn, int EndLine, int EndColumn)
{
    public static readonly SourceSpan None = new(0, 0, 0, 0, 0, 0);

    public int End => Start + Length;

    /// <summary>The smallest span covering both.</summary>
    public SourceSpan Cover(SourceSpan other)
    {
        var first = Start <= other.Start ? this : other;
        var last = End >= other.End ? this : other;
        return new SourceSpan(first.Start, last.End - first.Start, first.StartLine, first.StartColumn, last.EndLine, last.EndColumn);
    }

    /// <summary>1-based "line,col" as compilers print it.</summary>
    public override string ToString() => $"({StartLine + 1},{StartColumn + 1})";
}
