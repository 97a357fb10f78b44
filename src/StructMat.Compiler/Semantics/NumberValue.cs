using System.Globalization;

namespace StructMat.Compiler.Semantics;

/// <summary>The value of a constant expression: an integer (dimensions, ranks) or a real (scales).</summary>
public readonly record struct NumberValue(double Value, bool IsInteger)
{
    public override string ToString() => IsInteger
        ? ((long)Value).ToString(CultureInfo.InvariantCulture)
        : Value.ToString("R", CultureInfo.InvariantCulture);
}
