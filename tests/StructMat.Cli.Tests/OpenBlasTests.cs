using System;
using StructMat.Measurement;
using Xunit;

namespace StructMat.Cli.Tests;

/// <summary>A fact skipped, and saying why, where no OpenBLAS loads (libopenblas.so.0; CI machines have none).</summary>
public sealed class OpenBlasFactAttribute : FactAttribute
{
    public OpenBlasFactAttribute()
    {
        if (OpenBlas.Instance is null) Skip = "no OpenBLAS (libopenblas.so.0) loads on this machine";
    }
}

/// <summary>The rectangular sgemm calls the bench's dense baseline makes, against plain loops in double (float32 sums of at most 5 products of values in [-1, 1]: 1e-5 is far above their rounding).</summary>
public class OpenBlasTests
{
    private const int Batch = 4;
    private const int In = 5;
    private const int Out = 3;

    private static float[] Random(Random random, int length)
    {
        var data = new float[length];
        for (var i = 0; i < length; i++) data[i] = (float)(random.NextDouble() * 2 - 1);
        return data;
    }

    [OpenBlasFact]
    public void Rectangular_forward_and_backward_match_plain_loops()
    {
        var random = new Random(1);
        var (x, w, dy) = (Random(random, Batch * In), Random(random, Out * In), Random(random, Batch * Out));
        var (y, dx) = (new float[Batch * Out], new float[Batch * In]);
        var dw = Random(random, Out * In);
        var dwBefore = (float[])dw.Clone();

        OpenBlas.Instance!.Forward(x, w, y, Batch, In, Out);
        OpenBlas.Instance.Backward(x, w, dy, dx, dw, Batch, In, Out);

        for (var b = 0; b < Batch; b++)
        {
            for (var o = 0; o < Out; o++)
            {
                double sum = 0;
                for (var i = 0; i < In; i++) sum += (double)x[b * In + i] * w[o * In + i];
                Assert.Equal(sum, y[b * Out + o], 1e-5);
            }
            for (var i = 0; i < In; i++)
            {
                double sum = 0;
                for (var o = 0; o < Out; o++) sum += (double)dy[b * Out + o] * w[o * In + i];
                Assert.Equal(sum, dx[b * In + i], 1e-5);
            }
        }
        for (var o = 0; o < Out; o++)
        {
            for (var i = 0; i < In; i++)
            {
                double sum = dwBefore[o * In + i];
                for (var b = 0; b < Batch; b++) sum += (double)dy[b * Out + o] * x[b * In + i];
                Assert.Equal(sum, dw[o * In + i], 1e-5);
            }
        }
    }
}
