using System.Linq;
using StructMat.Runtime;
using StructMat.Tests.Cases;
using Xunit;

namespace StructMat.Layers.Tests;

/// <summary>btt against Compute Better Spent's BlockTeTr forward, and rank 1 against Monarch.</summary>
public class BttTests
{
    [Fact]
    public void Forward_matches_the_reference_bmm_sequence_in_its_own_layout()
    {
        // Their tensors: W0 (m1, m0, n0·r), W1 (n0, r·m1, n1); ours store each block [out, in] with α slow in core 0.
        var layer = (Btt)LayerCatalog.CreateRandomized("Btt");
        var (m0, m1, n0, n1, r) = (2, 6, 2, 10, 2);
        var c0 = layer.Cores0.Data;
        var c1 = layer.Cores1.Data;
        double W0(int i1, int i0, int col) => c0[(i1 * r * n0 + col % r * n0 + col / r) * m0 + i0]; // col = j0·r + α
        double W1(int j0, int row, int j1) => c1[(j0 * n1 + j1) * (m1 * r) + row];                   // row = i1·r + α

        const int batch = 3;
        var x = Oracle.RandomVector(batch * 12, seed: 51);
        var y = new float[batch * 20];
        layer.Forward(x, y, batch);

        var expected = new double[batch * 20];
        for (var b = 0; b < batch; b++)
        {
            // y = x.reshape(B, m1, m0) → bmm with W0 per i1 → (m1, B, n0·r) → transpose to (n0, B, m1·r) → bmm with W1 → (B, n0·n1)
            var out1 = new double[m1, n0 * r];
            for (var i1 = 0; i1 < m1; i1++)
            for (var col = 0; col < n0 * r; col++)
            for (var i0 = 0; i0 < m0; i0++)
                out1[i1, col] += x[b * 12 + i1 * m0 + i0] * W0(i1, i0, col);
            for (var j0 = 0; j0 < n0; j0++)
            for (var j1 = 0; j1 < n1; j1++)
            {
                double sum = 0;
                for (var i1 = 0; i1 < m1; i1++)
                for (var a = 0; a < r; a++)
                    sum += out1[i1, j0 * r + a] * W1(j0, i1 * r + a, j1);
                expected[b * 20 + j0 * n1 + j1] = sum + layer.Bias.Data[j0 * n1 + j1];
            }
        }
        Assert.True(Oracle.RelativeError(y, expected) < 1e-5, $"{Oracle.RelativeError(y, expected):E2}");
    }

    [Fact]
    public void Rank_one_is_monarch_without_its_final_output_permutation()
    {
        var btt = (BttRankOne)LayerCatalog.CreateRandomized("BttRankOne");
        var monarch = new MonarchSquare(); // 16 -> 16, 4 blocks: blkdiag1 [4, 4, 4], blkdiag2 [4, 4, 4]
        btt.Cores0.Data.CopyTo(monarch.Blkdiag1.Data, 0);
        btt.Cores1.Data.CopyTo(monarch.Blkdiag2.Data, 0);
        System.Array.Clear(monarch.Bias.Data);

        const int batch = 2;
        var x = Oracle.RandomVector(batch * 16, seed: 52);
        var yBtt = new float[batch * 16];
        var yMonarch = new float[batch * 16];
        btt.Forward(x, yBtt, batch);
        monarch.Forward(x, yMonarch, batch);

        // BTT orders outputs j0·n1 + j1; fly's Monarch orders them j1·n0 + j0 (its final transpose).
        for (var b = 0; b < batch; b++)
        for (var j0 = 0; j0 < 4; j0++)
        for (var j1 = 0; j1 < 4; j1++)
            Assert.Equal(yMonarch[b * 16 + j1 * 4 + j0], yBtt[b * 16 + j0 * 4 + j1], 1e-5f);
    }
}
