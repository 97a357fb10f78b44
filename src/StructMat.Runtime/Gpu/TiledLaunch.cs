using System;
using ILGPU;
using ILGPU.Runtime;

namespace StructMat.Runtime.Gpu;

/// <summary>
/// Launch configurations for the tiled block-product kernel (<see cref="TiledGemmDevice"/>). Its tile shapes are
/// chosen by the compiler from the layer's shapes; only the group size depends on the device: a tile of
/// <c>microTiles</c> micro-tiles wants one thread each, and a device that allows fewer threads per group (ILGPU's CPU
/// accelerator: 16) runs them in passes.
/// </summary>
public static class TiledLaunch
{
    /// <summary>
    /// Threads per group for a tile of <paramref name="microTiles"/> micro-tiles (a power of two): the largest power
    /// of two that is at most <paramref name="microTiles"/> and the device's limit, so that it divides the micro-tiles.
    /// </summary>
    public static int GroupSize(Accelerator accelerator, int microTiles)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        if (microTiles < 1 || (microTiles & (microTiles - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(microTiles), microTiles, "The micro-tiles per tile must be a power of two.");
        }
        var size = 1;
        while (size * 2 <= microTiles && size * 2 <= accelerator.MaxNumThreadsPerGroup) size *= 2;
        return size;
    }

    /// <summary>
    /// A grid of <paramref name="rowTiles"/> × <paramref name="columnTiles"/> × <paramref name="splits"/> (split-K
    /// slices) groups of <see cref="GroupSize"/> threads.
    /// </summary>
    public static KernelConfig Config(Accelerator accelerator, int rowTiles, int columnTiles, int microTiles, int splits = 1) =>
        new(new Index3D(rowTiles, columnTiles, splits), new Index3D(GroupSize(accelerator, microTiles), 1, 1));
}
