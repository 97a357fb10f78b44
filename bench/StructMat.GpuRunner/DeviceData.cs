using System;
using ILGPU;
using ILGPU.Runtime;

namespace StructMat.GpuRunner;

/// <summary>Device buffers of activations filled with reproducible random values in [-1, 1].</summary>
public static class DeviceData
{
    private const int BlockLength = 1 << 22; // 16 MB of floats, repeated to fill larger buffers

    public static float[] Random(long length, int seed)
    {
        var random = new Random(seed);
        var data = new float[length];
        for (var i = 0; i < data.Length; i++) data[i] = (float)(random.NextDouble() * 2 - 1);
        return data;
    }

    /// <summary>A buffer of <paramref name="length"/> floats: a random block of at most 4 Mi values, repeated.</summary>
    public static MemoryBuffer1D<float, Stride1D.Dense> AllocateRandom(Accelerator accelerator, long length, int seed)
    {
        var buffer = accelerator.Allocate1D<float>(length);
        try
        {
            var block = Random(Math.Min(length, BlockLength), seed);
            ArrayView<float> view = buffer.View;
            for (long offset = 0; offset < length; offset += block.Length)
            {
                var count = Math.Min(block.Length, length - offset);
                view.SubView(offset, count).CopyFromCPU(count == block.Length ? block : block.AsSpan(0, (int)count).ToArray());
            }
            return buffer;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    /// <summary>A buffer of <paramref name="length"/> NaNs: a kernel that leaves an element unwritten shows up as NaN.</summary>
    public static MemoryBuffer1D<float, Stride1D.Dense> AllocatePoisoned(Accelerator accelerator, long length)
    {
        var buffer = accelerator.Allocate1D<float>(length);
        var nan = new float[Math.Min(length, BlockLength)];
        Array.Fill(nan, float.NaN);
        ArrayView<float> view = buffer.View;
        for (long offset = 0; offset < length; offset += nan.Length)
        {
            var count = Math.Min(nan.Length, length - offset);
            view.SubView(offset, count).CopyFromCPU(count == nan.Length ? nan : nan.AsSpan(0, (int)count).ToArray());
        }
        return buffer;
    }
}
