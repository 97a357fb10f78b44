using System;
using System.Linq;
using StructMat.Runtime;
using StructMat.Tests.Cases;
using Xunit;

namespace StructMat.Layers.Tests;

/// <summary>The design's normative parameter layouts, initialisation rules and fly's Monarch semantics.</summary>
public class LayoutTests
{
    private static string Describe(IStructuredLayer layer) =>
        string.Join("; ", layer.Parameters.Select(p => $"{p.Name} [{string.Join(", ", p.Shape)}]{(p.Trainable ? "" : " frozen")}"));

    [Fact]
    public void Parameter_names_and_shapes_follow_the_design()
    {
        Assert.Equal("weight [8, 12]; bias [8]", Describe(new DenseBias()));
        Assert.Equal("lora_A [3, 12]; lora_B [10, 3]", Describe(new LowRank()));
        Assert.Equal("weight [4, 2, 3]; bias [8]", Describe(new Blocks()));
        // fly MonarchLinear: in < out → blkdiag1 [b, in/b, in/b], blkdiag2 [b, out/b, in/b].
        Assert.Equal("blkdiag1 [4, 3, 3]; blkdiag2 [4, 5, 3]", Describe(new MonarchUp()));
        // in >= out → blkdiag1 [b, out/b, in/b], blkdiag2 [b, out/b, out/b].
        Assert.Equal("blkdiag1 [4, 3, 5]; blkdiag2 [4, 3, 3]; bias [12]", Describe(new MonarchDown()));
        Assert.Equal("terms.0.weight [16, 16] frozen; terms.1.lora_A [4, 16]; terms.1.lora_B [16, 4]", Describe(new Lora()));
        Assert.Equal("factors.0.weight [3, 2, 4]; factors.1.weight [12, 12] frozen", Describe(new FrozenFactor()));
        // PEFT HRA: hra_u [n, r]. Kronecker factors carry kron.0. / kron.1. prefixes.
        Assert.Equal("factors.0.weight [12, 12] frozen; factors.1.hra_u [12, 4]", Describe(new Hra()));
        Assert.Equal("kron.0.weight [3, 3]; kron.1.lora_A [2, 4]; kron.1.lora_B [4, 2]", Describe(new KronDenseLowRank()));
        Assert.Equal("terms.0.weight [12, 12] frozen; terms.1.kron.0.weight [3, 3]; terms.1.kron.1.weight [4, 4]", Describe(new LoKr()));
        Assert.Equal("kron.0.kron.0.weight [2, 2]; kron.0.kron.1.weight [3, 2, 2]; kron.1.blkdiag1 [2, 2, 2]; kron.1.blkdiag2 [2, 2, 2]", Describe(new KronNested()));
        Assert.Equal("factors.1.diag [16]; factors.2.blkdiag1 [4, 4, 4]; factors.2.blkdiag2 [4, 4, 4]", Describe(new PermutedMonarch()));
    }

    [Fact]
    public void Lora_update_starts_at_zero_so_the_layer_starts_as_its_frozen_base()
    {
        var layer = new Lora(seed: 3);
        Assert.All(layer.Terms1LoraB.Data, v => Assert.Equal(0f, v));
        Assert.Contains(layer.Terms1LoraA.Data, v => v != 0f);
        var expected = layer.Terms0Weight.Data.Select(v => (double)v).ToArray();
        Assert.Equal(expected, layer.ToDenseDouble());
    }

    [Fact]
    public void Hra_starts_as_its_frozen_base_because_reflections_come_in_equal_pairs()
    {
        var layer = new Hra(seed: 4);
        var u = layer.Factors1HraU.Data; // [12, 4]: columns 0 = 1 and 2 = 3
        for (var k = 0; k < 12; k++)
        {
            Assert.Equal(u[k * 4 + 0], u[k * 4 + 1]);
            Assert.Equal(u[k * 4 + 2], u[k * 4 + 3]);
        }
        Assert.Contains(u, v => v != 0f);
        var dense = layer.ToDenseDouble();
        var baseWeight = layer.Factors0Weight.Data;
        for (var i = 0; i < dense.Length; i++) Assert.Equal(baseWeight[i], dense[i], 1e-6);
    }

    [Theory]
    [MemberData(nameof(LayerCatalog.Names), MemberType = typeof(LayerCatalog))]
    public void Merged_dense_weights_reproduce_the_structured_forward_pass(string name)
    {
        var layer = LayerCatalog.CreateRandomized(name);
        var merged = layer.Merge();
        Assert.Equal(layer.ToDense(), merged); // the documented contract: bit-for-bit ToDense

        const int batch = 3;
        var x = Oracle.RandomVector(batch * layer.InFeatures, seed: 41);
        var y = new float[batch * layer.OutFeatures];
        layer.Forward(x, y, batch);
        var expected = Oracle.Forward(layer, Array.ConvertAll(merged, v => (double)v), x, batch);
        Assert.True(Oracle.RelativeError(y, expected) < 1e-5, $"{name}: {Oracle.RelativeError(y, expected):E2}");
    }

    [Fact]
    public void Default_initialisation_is_seeded_and_uses_per_factor_scaling()
    {
        Assert.Equal(new MonarchSquare(seed: 5).Blkdiag1.Data, new MonarchSquare(seed: 5).Blkdiag1.Data);
        Assert.NotEqual(new MonarchSquare(seed: 5).Blkdiag1.Data, new MonarchSquare(seed: 6).Blkdiag1.Data);
        Assert.All(new DenseBias().Bias.Data, v => Assert.Equal(0f, v));
        // dense 12 -> 8: std = (1/√12)·min(1, √(8/12)) ≈ 0.2357; 96 samples: the sample std lies well within ±50 %.
        var w = new DenseBias(seed: 1).Weight.Data;
        var std = Math.Sqrt(w.Select(v => (double)v * v).Average());
        Assert.InRange(std, 0.2357 * 0.5, 0.2357 * 1.5);
    }

    [Fact]
    public void Seeded_frozen_matrices_are_shared_across_layers_while_the_rest_follows_the_layer_seed()
    {
        var a = new Vera(seed: 1);
        var b = new VeraTwin(seed: 2);
        Assert.Equal(a.Terms1Factors1Weight.Data, b.Terms1Factors1Weight.Data); // dense(4 -> 8, seed: 1)
        Assert.Equal(a.Terms1Factors3Weight.Data, b.Terms1Factors3Weight.Data); // dense(8 -> 4, seed: 2)
        Assert.NotEqual(a.Terms1Factors1Weight.Data, a.Terms1Factors3Weight.Data.Take(32).ToArray());
        Assert.NotEqual(a.Terms0Weight.Data, b.Terms0Weight.Data);             // the unseeded base follows the layer seed
        Assert.Equal(4 + 8, a.TrainableParameterCount);                       // only the two diagonals train
    }

    [Fact]
    public void Learning_rate_multipliers_follow_compute_better_spent()
    {
        // (D / fan_in) / c per tensor, D the structure's input width, c its number of matrices.
        float Multiplier(IStructuredLayer layer, string name) => layer.Parameters.Single(p => p.Name == name).LearningRateMultiplier;
        var lowRank = new LowRank();                        // 12 -> 10, rank 3
        Assert.Equal(12f / 12 / 2, Multiplier(lowRank, "lora_A"));
        Assert.Equal(12f / 3 / 2, Multiplier(lowRank, "lora_B"));
        var monarch = new MonarchUp();                      // 12 -> 20, 4 blocks: fan-ins 3 and 3
        Assert.Equal(12f / 3 / 2, Multiplier(monarch, "blkdiag1"));
        Assert.Equal(12f / 3 / 2, Multiplier(monarch, "blkdiag2"));
        var btt = new Btt();                                // m0 = 2, m1 = 6, rank 2: m1/2 and m0/(2r)
        Assert.Equal(6f / 2, Multiplier(btt, "cores.0"));
        Assert.Equal(2f / (2 * 2), Multiplier(btt, "cores.1"));
        Assert.Equal(1f, Multiplier(btt, "bias"));
        Assert.All(new DenseBias().Parameters, p => Assert.Equal(1f, p.LearningRateMultiplier));
        Assert.All(new Blocks().Parameters, p => Assert.Equal(1f, p.LearningRateMultiplier)); // outside the paper's structures
    }

    [Fact]
    public void Frozen_parameters_have_no_gradient_buffer()
    {
        var layer = new Lora();
        Assert.Null(layer.Terms0Weight.Gradient);
        Assert.Equal(16 * 4 + 4 * 16, layer.TrainableParameterCount);
        Assert.Equal(16 * 16 + 16 * 4 + 4 * 16, layer.ParameterCount);
    }

    [Fact]
    public void Monarch_forward_matches_fly_blockdiag_butterfly_multiply_written_out()
    {
        // fly (version 2): out1 = einsum('kqp,bkp->bkq', w1, x.view(b,k,p)); view (b, r, l) → transpose to (b, l, r);
        // out2 = einsum('lsr,blr->bsl', w2, out1); flatten (s l). Written here with plain loops, in float64.
        foreach (var layer in new IStructuredLayer[] { LayerCatalog.CreateRandomized("MonarchUp"), LayerCatalog.CreateRandomized("MonarchDown"), LayerCatalog.CreateRandomized("MonarchTwoBlocks") })
        {
            var w1 = layer.Parameters.Single(p => p.Name == "blkdiag1");
            var w2 = layer.Parameters.Single(p => p.Name == "blkdiag2");
            var (k, q, p) = (w1.Shape[0], w1.Shape[1], w1.Shape[2]);
            var (l, s, r) = (w2.Shape[0], w2.Shape[1], w2.Shape[2]);
            var bias = layer.Parameters.FirstOrDefault(t => t.Name == "bias")?.Data;
            const int batch = 3;
            var x = Oracle.RandomVector(batch * layer.InFeatures, seed: 21);
            var y = new float[batch * layer.OutFeatures];
            layer.Forward(x, y, batch);

            var expected = new double[batch * s * l];
            for (var b = 0; b < batch; b++)
            {
                var out1 = new double[k * q];
                for (var kk = 0; kk < k; kk++)
                for (var qq = 0; qq < q; qq++)
                for (var pp = 0; pp < p; pp++)
                    out1[kk * q + qq] += w1.Data[(kk * q + qq) * p + pp] * (double)x[b * k * p + kk * p + pp];
                // out1 viewed as (r, l): element (rr, ll) = out1[rr * l + ll]; transposed to (l, r).
                for (var ll = 0; ll < l; ll++)
                for (var ss = 0; ss < s; ss++)
                {
                    double sum = 0;
                    for (var rr = 0; rr < r; rr++) sum += w2.Data[(ll * s + ss) * r + rr] * out1[rr * l + ll];
                    expected[b * s * l + ss * l + ll] = sum + (bias?[ss * l + ll] ?? 0);
                }
            }
            Assert.True(Oracle.RelativeError(y, expected) < 1e-5, $"{layer.GetType().Name}: {Oracle.RelativeError(y, expected):E2}");
        }
    }
}
