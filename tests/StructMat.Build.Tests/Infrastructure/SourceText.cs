using System;

namespace StructMat.Build.Tests.Infrastructure;

public static class SourceText
{
    /// <summary>1-based line and column (in characters) of the first occurrence of <paramref name="marker"/> in <paramref name="text"/>.</summary>
    public static (int Line, int Column) PositionOf(string text, string marker)
    {
        var index = text.IndexOf(marker, StringComparison.Ordinal);
        if (index < 0)
        {
            throw new ArgumentException($"'{marker}' does not occur in the text.", nameof(marker));
        }
        var line = 1;
        var lineStart = 0;
        for (var i = 0; i < index; i++)
        {
            if (text[i] == '\n')
            {
                line++;
                lineStart = i + 1;
            }
        }
        return (line, index - lineStart + 1);
    }
}
