using System;
using System.Linq;
using StructMat.Runtime;
using StructMat.Tests.Large;
using Xunit;

namespace StructMat.Layers.Tests;

/// <summary>
/// Householder chains, permutations, butterflies, flat block butterflies and Kronecker products must never
/// be formed as n×n matrices. At n = 4096 such a matrix
/// is 64 MiB of float32; a warmed-up forward and backward must allocate under a sixteenth of that. (They
/// do allocate: the Householder gradient keeps float64 partial sums per row chunk, O(chunks·n·r).)
/// </summary>
[Collection(nameof(MaterialisationTests))]
public class MaterialisationTests
{
    private const int N = 4096;
    private const int Batch = 4;
    private const long DenseBytes = (long)N * N * sizeof(float);

    [Fact]
    public void Householder_chain_forward_and_backward_allocate_far_less_than_an_n_by_n_matrix() =>
        AssertSmallAllocations(new BigReflections());

    [Fact]
    public void Permutations_forward_and_backward_allocate_far_less_than_an_n_by_n_matrix() =>
        AssertSmallAllocations(new BigPermutations());

    [Fact]
    public void Butterfly_forward_and_backward_allocate_far_less_than_an_n_by_n_matrix() =>
        AssertSmallAllocations(new BigButterfly());

    [Fact]
    public void Flat_block_butterfly_forward_and_backward_allocate_far_less_than_an_n_by_n_matrix() =>
        AssertSmallAllocations(new BigBlockSparse());

    [Fact]
    public void Kron_forward_and_backward_allocate_far_less_than_an_n_by_n_matrix() =>
        AssertSmallAllocations(new BigKron());

    [Fact]
    public void Large_layers_give_bit_identical_results_run_after_run_on_the_parallel_path()
    {
        // n = 4096 at batch 8 is far above the kernels' parallel threshold, so rows are split over threads.
        foreach (var layer in new IStructuredLayer[] { new BigBlockSparse(), new BigKron(), new BigButterfly(), new BigReflections() })
        {
            var x = Oracle.RandomVector(8 * N, seed: 71);
            var dy = Oracle.RandomVector(8 * N, seed: 72);
            var first = Run(layer, x, dy);
            var second = Run(layer, x, dy);
            Assert.Equal(first.Y, second.Y);
            Assert.Equal(first.Dx, second.Dx);
            Assert.Equal(first.Gradients, second.Gradients);
        }

        static (float[] Y, float[] Dx, float[] Gradients) Run(IStructuredLayer layer, float[] x, float[] dy)
        {
            var y = new float[x.Length];
            var dx = new float[x.Length];
            layer.ZeroGrad();
            layer.Forward(x, y, 8);
            layer.Backward(x, dy, dx, 8);
            return (y, dx, layer.Parameters.Where(p => p.Trainable).SelectMany(p => p.Gradient!).ToArray());
        }
    }

    private static void AssertSmallAllocations(IStructuredLayer layer)
    {
        var x = Oracle.RandomVector(Batch * N, seed: 31);
        var dy = Oracle.RandomVector(Batch * N, seed: 32);
        var y = new float[Batch * N];
        var dx = new float[Batch * N];
        layer.Forward(x, y, Batch); // warm up: workspaces, pools, index maps
        layer.Backward(x, dy, dx, Batch);

        var before = GC.GetTotalAllocatedBytes(precise: true);
        layer.Forward(x, y, Batch);
        layer.Backward(x, dy, dx, Batch);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.True(allocated < DenseBytes / 16, $"{layer.GetType().Name} allocated {allocated:N0} bytes; an n×n matrix is {DenseBytes:N0}");
        // And the structure itself is sparse (the flat block butterfly of 64-blocks keeps 7 of 64 block diagonals, 11 %).
        Assert.True(layer.ParameterCount < (long)N * N / 4);
    }
}

/// <summary>
/// Allocation counts are process-wide (the kernels allocate on worker threads too), so these tests must not
/// share the process with other tests running in parallel: xunit runs this collection on its own.
/// </summary>
[CollectionDefinition(nameof(MaterialisationTests), DisableParallelization = true)]
public sealed class MaterialisationCollection
{
}
