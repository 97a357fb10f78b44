using System;

namespace StructMat.Runtime.Kernels;

/// <summary>
/// The sizes and layouts of one block matmul, validated once, with the index arithmetic that folds a
/// permutation into the block product (see <see cref="BlockLayout"/>).
/// </summary>
internal readonly struct BlockShape
{
    public BlockShape(int groups, int blockOut, int blockIn, BlockLayout inLayout, BlockLayout outLayout)
    {
        Groups = groups;
        BlockOut = blockOut;
        BlockIn = blockIn;
        InLayout = inLayout;
        OutLayout = outLayout;
        InWidth = groups * blockIn;
        OutWidth = groups * blockOut;
    }

    public int Groups { get; }

    public int BlockOut { get; }

    public int BlockIn { get; }

    public BlockLayout InLayout { get; }

    public BlockLayout OutLayout { get; }

    /// <summary><c>groups · blockIn</c>: the width of an input row.</summary>
    public int InWidth { get; }

    /// <summary><c>groups · blockOut</c>: the width of an output row.</summary>
    public int OutWidth { get; }

    /// <summary>Multiply-adds per batch row.</summary>
    public long WorkPerRow => (long)Groups * BlockOut * BlockIn;

    public int InIndex(int g, int i) => InLayout == BlockLayout.Contiguous ? g * BlockIn + i : i * Groups + g;

    public int OutIndex(int g, int o) => OutLayout == BlockLayout.Contiguous ? g * BlockOut + o : o * Groups + g;

    /// <summary>
    /// Checks an input group XOR (group <c>g</c>'s input block is block <c>g ⊕ groupXor</c>): non-negative, every
    /// <c>g ⊕ groupXor</c> a group (the groups a multiple of the power of two above its highest bit), and only with
    /// contiguous layouts, the flat block butterfly's.
    /// </summary>
    public void CheckGroupXor(int groupXor, string name)
    {
        if (groupXor == 0) return;
        if (groupXor < 0) throw new ArgumentException($"{name} must be non-negative, got {groupXor}.", name);
        long span = (long)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)groupXor + 1);
        if (Groups % span != 0)
            throw new ArgumentException($"{name} = {groupXor} maps some of the {Groups} groups past the last: the groups must be a multiple of {span}.", name);
        if (InLayout != BlockLayout.Contiguous || OutLayout != BlockLayout.Contiguous)
            throw new ArgumentException($"{name} = {groupXor} needs contiguous layouts, got {InLayout} in and {OutLayout} out.", name);
    }

    /// <summary>Checks sizes and layouts and that the products stay within 32-bit indexing.</summary>
    public static BlockShape Create(int batch, int groups, int blockOut, int blockIn, BlockLayout inLayout, BlockLayout outLayout)
    {
        KernelArguments.NonNegative(batch, nameof(batch));
        KernelArguments.NonNegative(groups, nameof(groups));
        KernelArguments.NonNegative(blockOut, nameof(blockOut));
        KernelArguments.NonNegative(blockIn, nameof(blockIn));
        KernelArguments.Defined(inLayout, nameof(inLayout));
        KernelArguments.Defined(outLayout, nameof(outLayout));
        KernelArguments.FitsInt32((long)groups * blockIn, nameof(blockIn), "groups * blockIn");
        KernelArguments.FitsInt32((long)groups * blockOut, nameof(blockOut), "groups * blockOut");
        return new BlockShape(groups, blockOut, blockIn, inLayout, outLayout);
    }
}

/// <summary>Argument checks shared by the kernels; every failure names the offending argument.</summary>
internal static class KernelArguments
{
    public static void NonNegative(int value, string name)
    {
        if (value < 0) throw new ArgumentException($"{name} must be non-negative, got {value}.", name);
    }

    public static void Defined(BlockLayout layout, string name)
    {
        if (layout != BlockLayout.Contiguous && layout != BlockLayout.Strided)
            throw new ArgumentException($"{name} is not a defined {nameof(BlockLayout)} ({(int)layout}).", name);
    }

    /// <summary>Checks <c>batch, width ≥ 0</c> and that <c>batch · width</c> fits 32-bit indexing; returns that product.</summary>
    public static int Rows(int batch, int width)
    {
        NonNegative(batch, nameof(batch));
        NonNegative(width, nameof(width));
        long size = (long)batch * width;
        FitsInt32(size, nameof(batch), "batch * width");
        return (int)size;
    }

    public static void FitsInt32(long value, string name, string what)
    {
        if (value > int.MaxValue) throw new ArgumentException($"{what} = {value} exceeds 32-bit indexing.", name);
    }

    /// <summary>The span must hold at least <paramref name="required"/> elements (only that prefix is used).</summary>
    public static void Length(long actual, long required, string name, string what)
    {
        if (actual < required)
            throw new ArgumentException($"{name} has {actual} elements but {what} = {required} are required.", name);
    }

    /// <summary>Rejects an output that shares memory with an input: the kernels read inputs after writing outputs.</summary>
    public static void NoOverlap(ReadOnlySpan<float> input, ReadOnlySpan<float> output, string inputName, string outputName)
    {
        if (input.Overlaps(output))
            throw new ArgumentException($"{outputName} must not overlap {inputName}.", outputName);
    }
}
