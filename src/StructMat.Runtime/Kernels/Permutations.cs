using System;

namespace StructMat.Runtime.Kernels;

/// <summary>
/// Permutations as index maps: an <c>int[]</c> of length <c>n</c> where <c>map[j]</c> is the input index that
/// output <c>j</c> reads, so <see cref="ElementKernels.Gather"/> applies it as <c>y[j] = x[map[j]]</c>
/// (the matrix <c>P</c> with <c>P[j, map[j]] = 1</c>).
/// </summary>
public static class Permutations
{
    /// <summary><c>map[j] = n − 1 − j</c>.</summary>
    public static int[] Reverse(int n)
    {
        KernelArguments.NonNegative(n, nameof(n));
        var map = new int[n];
        for (int j = 0; j < n; j++) map[j] = n - 1 - j;
        return map;
    }

    /// <summary>
    /// The bit-reversal permutation: <c>map[j]</c> is <c>j</c> with its <c>log2(n)</c> low bits in reverse order
    /// (an involution). <paramref name="n"/> must be a power of two (1 gives <c>[0]</c>).
    /// </summary>
    public static int[] BitReversal(int n)
    {
        if (n <= 0 || (n & (n - 1)) != 0)
            throw new ArgumentException($"{nameof(n)} must be a positive power of two, got {n}.", nameof(n));
        int bits = 0;
        while ((1 << bits) < n) bits++;
        var map = new int[n];
        for (int j = 0; j < n; j++)
        {
            int reversed = 0;
            for (int bit = 0; bit < bits; bit++)
                if ((j & (1 << bit)) != 0) reversed |= 1 << (bits - 1 - bit);
            map[j] = reversed;
        }
        return map;
    }

    /// <summary>
    /// The perfect (riffle) shuffle that interleaves the two halves: output <c>2k</c> reads input <c>k</c> and
    /// output <c>2k + 1</c> reads input <c>n/2 + k</c>. <paramref name="n"/> must be even.
    /// </summary>
    public static int[] PerfectShuffle(int n)
    {
        KernelArguments.NonNegative(n, nameof(n));
        if (n % 2 != 0) throw new ArgumentException($"{nameof(n)} must be even, got {n}.", nameof(n));
        int half = n / 2;
        var map = new int[n];
        for (int k = 0; k < half; k++)
        {
            map[2 * k] = k;
            map[2 * k + 1] = half + k;
        }
        return map;
    }

    /// <summary>
    /// A seeded, uniformly random permutation, reproducible in any language:
    /// <list type="number">
    /// <item>SplitMix64 with 64-bit unsigned wrap-around arithmetic; the state starts at <c>(ulong)seed</c>
    /// (a negative seed is sign-extended, i.e. <c>seed mod 2^64</c>). Each draw does
    /// <c>state += 0x9E3779B97F4A7C15; z = state; z = (z ^ (z &gt;&gt; 30)) * 0xBF58476D1CE4E5B9;
    /// z = (z ^ (z &gt;&gt; 27)) * 0x94D049BB133111EB; return z ^ (z &gt;&gt; 31)</c>.</item>
    /// <item>Fisher–Yates from the identity <c>map[j] = j</c>: for <c>i = n − 1</c> down to <c>1</c>,
    /// <c>j = next() mod (i + 1)</c> (unsigned 64-bit remainder), then swap <c>map[i]</c> and <c>map[j]</c>.</item>
    /// </list>
    /// For example <c>Random(8, 1)</c> is <c>[4, 3, 2, 7, 5, 6, 0, 1]</c>. (The modulo has a bias below
    /// <c>n / 2^64</c>, negligible for any realistic <c>n</c>.)
    /// </summary>
    public static int[] Random(int n, int seed)
    {
        KernelArguments.NonNegative(n, nameof(n));
        var map = new int[n];
        for (int j = 0; j < n; j++) map[j] = j;
        ulong state = unchecked((ulong)seed);
        for (int i = n - 1; i >= 1; i--)
        {
            int j = (int)(SplitMix64(ref state) % (ulong)(i + 1));
            (map[i], map[j]) = (map[j], map[i]);
        }
        return map;
    }

    /// <summary>
    /// Swaps whole blocks: n = blocks·<paramref name="block"/>, and output block i reads input block i XOR
    /// <paramref name="distance"/> (element e of a block stays element e). Its own inverse. Used for the flat
    /// block butterfly pattern of <c>blocksparse</c>.
    /// </summary>
    public static int[] BlockXor(int n, int block, int distance)
    {
        if (block <= 0 || n <= 0 || n % block != 0) throw new ArgumentException($"block {block} must divide n = {n}.", nameof(block));
        var blocks = n / block;
        if ((blocks & (blocks - 1)) != 0) throw new ArgumentException($"{blocks} blocks is not a power of two.", nameof(block));
        if (distance < 0 || distance >= blocks) throw new ArgumentOutOfRangeException(nameof(distance), distance, $"must be in [0, {blocks}).");
        var map = new int[n];
        for (var i = 0; i < blocks; i++)
        {
            for (var e = 0; e < block; e++) map[i * block + e] = (i ^ distance) * block + e;
        }
        return map;
    }

    /// <summary>
    /// PEFT BOFT's <c>block_butterfly_perm(n, n / group, block)</c>: within each group of <paramref name="group"/>
    /// entries, its <c>group / block</c> blocks of <paramref name="block"/> are read evens first, then odds
    /// (<c>torch.cat((arange(0, step, 2), arange(1, step, 2)))</c>): output block k of a group reads block
    /// <c>seq[k]</c>. PEFT's permutation matrix has <c>P[j, map[j]] = 1</c>, so <c>(P x)[j] = x[map[j]]</c>.
    /// </summary>
    public static int[] BlockButterfly(int n, int group, int block)
    {
        if (group <= 0 || n <= 0 || n % group != 0) throw new ArgumentException($"group {group} must divide n = {n}.", nameof(group));
        if (block <= 0 || group % block != 0) throw new ArgumentException($"block {block} must divide the group {group}.", nameof(block));
        var step = group / block;
        var sequence = new int[step];
        var k = 0;
        for (var s = 0; s < step; s += 2) sequence[k++] = s;
        for (var s = 1; s < step; s += 2) sequence[k++] = s;
        var map = new int[n];
        for (var g = 0; g < n; g += group)
            for (var b = 0; b < step; b++)
                for (var e = 0; e < block; e++) map[g + b * block + e] = g + sequence[b] * block + e;
        return map;
    }

    /// <summary>The inverse map: <c>inverse[map[j]] = j</c>. Throws unless <paramref name="map"/> is a permutation of <c>[0, map.Length)</c>.</summary>
    public static int[] Inverse(ReadOnlySpan<int> map)
    {
        int n = map.Length;
        var inverse = new int[n];
        inverse.AsSpan().Fill(-1);
        for (int j = 0; j < n; j++)
        {
            int target = map[j];
            if ((uint)target >= (uint)n)
                throw new ArgumentException($"{nameof(map)}[{j}] = {target} is outside [0, {n}).", nameof(map));
            if (inverse[target] >= 0)
                throw new ArgumentException($"{nameof(map)} is not a permutation: {target} appears at {inverse[target]} and {j}.", nameof(map));
            inverse[target] = j;
        }
        return inverse;
    }

    private static ulong SplitMix64(ref ulong state)
    {
        unchecked
        {
            state += 0x9E3779B97F4A7C15UL;
            ulong z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}
