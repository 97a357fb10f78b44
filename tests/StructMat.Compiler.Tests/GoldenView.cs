using System;
using System.Text;

namespace StructMat.Compiler.Tests;

/// <summary>
/// How generated code is goldened: each case's C# as generated (no layer carries a long GPU kernel any more: block
/// products run on the runtime's shared tiled kernel, and what remains are short elementwise kernels), and its IR
/// and CPU schedule cut to the stages a reviewer reads.
/// </summary>
public static class GoldenView
{
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

    /// <summary>A case's golden: its generated code.</summary>
    public static string CaseCode(string caseName, string source) => source;
}
