using System.Runtime.Intrinsics;

namespace StructMat.Runtime.Kernels;

/// <summary>
/// The vector instructions the engines can use, on which some of <see cref="BlockProductPlanner"/>'s choices depend.
/// <see cref="Current"/> is this process's: <c>DOTNET_EnableAVX512=0</c> turns 512-bit vectors off, and
/// <c>DOTNET_EnableAVX=0</c> both; tests plan for the others.
/// </summary>
/// <param name="Has512BitVectors">Whether <see cref="Vector512"/> is hardware accelerated (AVX-512).</param>
/// <param name="HasAvx">Whether the 8 × 8 register transposes run (<see cref="CpuKernels.CanTranspose8x8"/>).</param>
internal readonly record struct VectorSupport(bool Has512BitVectors, bool HasAvx)
{
    public static VectorSupport Current { get; } = new(Vector512.IsHardwareAccelerated, CpuKernels.CanTranspose8x8);

    /// <summary>Groups per vector in <see cref="GroupLanes"/>: one float lane each, 16 in 512 bits, 8 in 256.</summary>
    public int Lanes => Has512BitVectors ? 16 : 8;
}
