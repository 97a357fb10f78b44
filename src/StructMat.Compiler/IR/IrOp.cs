using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace StructMat.Compiler.IR;

/// <summary>Part of a parameter tensor an op uses: <see cref="Length"/> elements from <see cref="Offset"/>; a null length is the whole tensor.</summary>
public readonly record struct ParameterSlice(int Parameter, int Offset = 0, long? Length = null)
{
    /// <summary>The slice's length in a tensor of <paramref name="tensorLength"/> elements.</summary>
    public long LengthIn(long tensorLength) => Length ?? tensorLength - Offset;

    /// <summary>Whether the slice is the whole tensor of <paramref name="tensorLength"/> elements.</summary>
    public bool IsWhole(long tensorLength) => Offset == 0 && LengthIn(tensorLength) == tensorLength;
}

/// <summary>
/// An op, and the contract every pass and analysis is written against: which activations it reads and writes, whether
/// it adds into its output, its comment, how its values are renamed or retargeted, which parameter slice it reads
/// and which gradient slice it adds to, its cost, and the shape rules the verifier checks. Each op implements every
/// member (they are abstract), so no pass meets an op it does not know. <see cref="SubRows"/> is how many sub-rows
/// each batch row is processed as: a value of width k·w is also k rows of width w (the same memory), which is how
/// <c>kron</c> applies its factors; elementwise ops (scale, add, bias) ignore it.
/// Every op must be immutable and structurally equatable.
/// </summary>
public abstract record IrOp
{
    public int SubRows { get; init; } = 1;

    /// <summary>The one-line explanation lowering or autodiff attached (the emitted code's comment).</summary>
    public abstract string Comment { get; init; }

    /// <summary>The activation the op writes; null when it writes only a parameter gradient.</summary>
    public abstract int? Writes { get; }

    /// <summary>Whether the op adds into <see cref="Writes"/> (so reads it too) rather than overwriting it.</summary>
    public abstract bool Accumulates { get; }

    /// <summary>The activations the op reads as operands (its output, when it accumulates, is not one of them).</summary>
    public abstract IReadOnlyList<int> Operands { get; }

    /// <summary>Every activation the op reads: its operands, and its output when it accumulates.</summary>
    public IEnumerable<int> Reads => Accumulates && Writes is { } output && !Operands.Contains(output) ? Operands.Concat(new[] { output }) : Operands;

    /// <summary>The op reading <c>rename(v)</c> for each operand v (its output is left alone).</summary>
    public abstract IrOp RenameOperands(Func<int, int> rename);

    /// <summary>Whether <see cref="Retarget"/> may move the op's result to another value, scaled by <paramref name="alphaFactor"/>.</summary>
    public abstract bool CanRetarget(float alphaFactor);

    /// <summary>The op writing <paramref name="output"/> instead, scaled by <paramref name="alphaFactor"/>, overwriting or accumulating: the move every fusion makes.</summary>
    public virtual IrOp Retarget(int output, float alphaFactor, bool accumulate) =>
        throw new InvalidOperationException($"Cannot retarget {GetType().Name}");

    /// <summary>The parameter values the op reads, if any.</summary>
    public abstract ParameterSlice? WeightSlice { get; }

    /// <summary>The parameter gradient the op adds into, if any.</summary>
    public abstract ParameterSlice? GradientSlice { get; }

    /// <summary>The op with every parameter id p replaced by <c>renumber(p)</c>.</summary>
    public abstract IrOp RenumberParameters(Func<int, int> renumber);

    /// <summary>Forward multiply-adds per batch row (0 for index maps, adds and biases: they only move or add values).</summary>
    public abstract long MultiplyAdds(Func<int, int> width);

    /// <summary>
    /// Multiply-adds the op spends per call on its weights alone, whatever the batch (DoRA's row norms); 0 for most ops.
    /// The CPU schedule runs a program with such an op over the whole batch at once, so tiles do not repeat it.
    /// </summary>
    public virtual long PerCallMultiplyAdds => 0;

    /// <summary>Violations of the op's shape rules (widths, parameter sizes, trainability); empty when it is well formed.</summary>
    public abstract IEnumerable<string> Violations(IrLayer layer, Func<int, int> width);

    /// <summary>The op's line in the IR's text form (<see cref="IrText"/>), without the generic sub-rows suffix.</summary>
    public abstract string Text(Func<int, string> parameterName);

    // Helpers shared by the ops' text forms.
    internal static string Assign(bool accumulate) => accumulate ? " +=" : " =";

    internal static string AlphaText(float alpha) => alpha == 1f ? "" : " alpha=" + alpha.ToString("R", CultureInfo.InvariantCulture);

    internal static IEnumerable<string> Expect(bool condition, string what) => condition ? Array.Empty<string>() : new[] { what };
}
