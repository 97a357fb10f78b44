using System;
using System.Linq;
using StructMat.Runtime.Kernels;
using StructMat.Runtime.Oracle;
using Xunit;

namespace StructMat.Runtime.Tests;

/// <summary>Each index map against its definition, written out independently.</summary>
public class PermutationTests
{
    private static void AssertIsPermutation(int[] map)
    {
        var sorted = (int[])map.Clone();
        Array.Sort(sorted);
        Assert.Equal(Enumerable.Range(0, map.Length).ToArray(), sorted);
    }

    [Fact]
    public void Reverse_examples()
    {
        Assert.Equal(new[] { 4, 3, 2, 1, 0 }, Permutations.Reverse(5));
        Assert.Equal(new[] { 0 }, Permutations.Reverse(1));
        Assert.Empty(Permutations.Reverse(0));
    }

    [Fact]
    public void BitReversal_matches_hand_written_maps()
    {
        Assert.Equal(new[] { 0 }, Permutations.BitReversal(1));
        Assert.Equal(new[] { 0, 1 }, Permutations.BitReversal(2));
        // 3 bits: 001 → 100, 011 → 110, ...
        Assert.Equal(new[] { 0, 4, 2, 6, 1, 5, 3, 7 }, Permutations.BitReversal(8));
    }

    [Theory]
    [InlineData(16)]
    [InlineData(64)]
    public void BitReversal_reverses_the_binary_digits(int n)
    {
        int bits = (int)Math.Round(Math.Log2(n));
        var map = Permutations.BitReversal(n);
        for (int j = 0; j < n; j++)
        {
            string binary = Convert.ToString(j, 2).PadLeft(bits, '0');
            string reversed = new string(binary.Reverse().ToArray());
            Assert.Equal(Convert.ToInt32(reversed, 2), map[j]);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(12)]
    [InlineData(-4)]
    public void BitReversal_rejects_non_powers_of_two(int n)
    {
        Assert.Equal("n", Assert.Throws<ArgumentException>(() => Permutations.BitReversal(n)).ParamName);
    }

    [Fact]
    public void PerfectShuffle_interleaves_the_halves()
    {
        Assert.Equal(new[] { 0, 4, 1, 5, 2, 6, 3, 7 }, Permutations.PerfectShuffle(8));
        Assert.Equal(new[] { 0, 3, 1, 4, 2, 5 }, Permutations.PerfectShuffle(6));
        Assert.Empty(Permutations.PerfectShuffle(0));
        Assert.Equal("n", Assert.Throws<ArgumentException>(() => Permutations.PerfectShuffle(7)).ParamName);
        Assert.Equal("n", Assert.Throws<ArgumentException>(() => Permutations.PerfectShuffle(-2)).ParamName);
    }

    [Fact]
    public void Random_n8_seed1_is_pinned()
    {
        // From an independent Python reimplementation of SplitMix64 + Fisher–Yates, run once:
        // python3 -c "M=(1<<64)-1
        // s=1
        // def nxt():
        //     global s
        //     s=(s+0x9E3779B97F4A7C15)&M; z=s
        //     z=((z^(z>>30))*0xBF58476D1CE4E5B9)&M
        //     z=((z^(z>>27))*0x94D049BB133111EB)&M
        //     return z^(z>>31)
        // m=list(range(8))
        // for i in range(7,0,-1):
        //     j=nxt()%(i+1); m[i],m[j]=m[j],m[i]
        // print(m)"
        // → [4, 3, 2, 7, 5, 6, 0, 1]
        Assert.Equal(new[] { 4, 3, 2, 7, 5, 6, 0, 1 }, Permutations.Random(8, 1));
    }

    [Fact]
    public void Random_is_a_deterministic_permutation_that_depends_on_the_seed()
    {
        var a = Permutations.Random(1000, 42);
        AssertIsPermutation(a);
        Assert.Equal(a, Permutations.Random(1000, 42));
        Assert.NotEqual(a, Permutations.Random(1000, 43));
        Assert.NotEqual(Enumerable.Range(0, 1000).ToArray(), a);
        AssertIsPermutation(Permutations.Random(17, -5));
        Assert.Empty(Permutations.Random(0, 1));
        Assert.Equal(new[] { 0 }, Permutations.Random(1, 1));
        Assert.Equal("n", Assert.Throws<ArgumentException>(() => Permutations.Random(-1, 1)).ParamName);
    }

    [Fact]
    public void Random_puts_each_value_in_each_position_about_equally_often()
    {
        // 6000 seeds, n = 4: each of the 16 (position, value) cells expects 1500 hits, σ = √(6000·¼·¾) ≈ 33.5.
        // Six σ (±200) makes a false failure essentially impossible while a biased shuffle (e.g. j drawn from
        // [0, n) instead of [0, i]) misses by far more.
        var counts = new int[4, 4];
        for (int seed = 0; seed < 6000; seed++)
        {
            var map = Permutations.Random(4, seed);
            for (int j = 0; j < 4; j++) counts[j, map[j]]++;
        }
        foreach (int c in counts) Assert.InRange(c, 1300, 1700);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(10)]
    [InlineData(64)]
    public void Inverse_round_trips(int n)
    {
        var map = Permutations.Random(n, n);
        var inverse = Permutations.Inverse(map);
        for (int j = 0; j < n; j++)
        {
            Assert.Equal(j, inverse[map[j]]);
            Assert.Equal(j, map[inverse[j]]);
        }
        Assert.Equal(map, Permutations.Inverse(inverse));
        // As matrices, the inverse is the transpose.
        var p = DenseMath.Permutation(map);
        var q = DenseMath.Permutation(inverse);
        for (int a = 0; a < n; a++)
            for (int b = 0; b < n; b++)
                Assert.Equal(p[a * n + b], q[b * n + a]);
    }

    [Fact]
    public void Inverse_of_the_perfect_shuffle_is_the_unshuffle()
    {
        // Unshuffle: output k reads input 2k, output n/2 + k reads input 2k + 1.
        Assert.Equal(new[] { 0, 2, 4, 6, 1, 3, 5, 7 }, Permutations.Inverse(Permutations.PerfectShuffle(8)));
        Assert.Equal(Permutations.BitReversal(32), Permutations.Inverse(Permutations.BitReversal(32)));
        Assert.Equal(Permutations.Reverse(9), Permutations.Inverse(Permutations.Reverse(9)));
    }

    [Fact]
    public void Inverse_rejects_non_permutations()
    {
        Assert.Equal("map", Assert.Throws<ArgumentException>(() => Permutations.Inverse(new[] { 0, 0, 1 })).ParamName);
        Assert.Equal("map", Assert.Throws<ArgumentException>(() => Permutations.Inverse(new[] { 0, 3, 1 })).ParamName);
        Assert.Equal("map", Assert.Throws<ArgumentException>(() => Permutations.Inverse(new[] { -1, 0 })).ParamName);
        Assert.Empty(Permutations.Inverse(ReadOnlySpan<int>.Empty));
    }

    [Fact]
    public void Gather_with_a_permutation_equals_the_dense_permutation_matrix()
    {
        const int batch = 3, n = 10;
        var map = Permutations.Random(n, 7);
        var p = DenseMath.Permutation(map);
        var x = TestData.Uniform(batch * n, 8);
        var y = new float[batch * n];
        ElementKernels.Gather(x, y, map, batch, n, accumulate: false);
        for (int b = 0; b < batch; b++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int k = 0; k < n; k++) sum += p[j * n + k] * x[b * n + k];
                Assert.Equal(sum, y[b * n + j]);
            }
    }
}
