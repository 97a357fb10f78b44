using System;

namespace StructMat.Runtime.Kernels;

/// <summary>The engines a block product can run on; <see cref="BlockProductPlanner"/> chooses one.</summary>
internal enum BlockEngine
{
    /// <summary>One grouped product on <see cref="Gemm"/> as given: B packed, A broadcast.</summary>
    Gemm,

    /// <summary>One grouped product on <see cref="Gemm"/> as <c>Cᵀ = Bᵀ · Aᵀ</c>, which packs the small A (same bits).</summary>
    GemmTransposed,

    /// <summary>One grouped product on <see cref="Kernels.GroupLanes"/>: interleaved groups as the vector lanes.</summary>
    GroupLanes,

    /// <summary>A strided forward or transposed product strip by strip on contiguous copies (<see cref="StridedStaging.Run"/>).</summary>
    StagedStrips,

    /// <summary>Weight gradients strip by strip over the batch (<see cref="StridedStaging.WeightGradient"/>, <see cref="StridedStaging.WeightGradients"/>).</summary>
    StagedWeightGradient,

    /// <summary>Input and weight gradient from one staging of dy (<see cref="StridedStaging.Backward"/>).</summary>
    StagedBackward,

    /// <summary>Several products run one after the other, each planned on its own.</summary>
    SeparateProducts,
}

/// <summary>Hands one grouped product to the engine the planner chose for it.</summary>
internal static unsafe class BlockEngines
{
    /// <summary>
    /// Runs <paramref name="product"/> on <paramref name="engine"/> (<see cref="BlockEngine.Gemm"/>,
    /// <see cref="BlockEngine.GemmTransposed"/> or <see cref="BlockEngine.GroupLanes"/>). A product with no output runs
    /// nowhere, and an empty sum only clears <c>C</c>.
    /// </summary>
    public static void Run(in GroupedProduct product, BlockEngine engine)
    {
        if (product.Groups == 0 || product.M == 0 || product.N == 0) return;
        if (product.K == 0)
        {
            // An empty sum: C = 0, or C unchanged when accumulating.
            if (!product.Accumulate) ClearOutput(product);
            return;
        }
        switch (engine)
        {
            case BlockEngine.Gemm:
                Kernels.Gemm.Run(product);
                return;
            case BlockEngine.GemmTransposed:
                Kernels.Gemm.Run(product.Transposed());
                return;
            case BlockEngine.GroupLanes:
                Kernels.GroupLanes.Run(product);
                return;
            default:
                throw new ArgumentOutOfRangeException(nameof(engine), engine, "Not an engine for one grouped product.");
        }
    }

    private static void ClearOutput(in GroupedProduct p)
    {
        for (int g = 0; g < p.Groups; g++)
            for (int i = 0; i < p.M; i++)
                for (int j = 0; j < p.N; j++)
                    *(p.C.At(i, j) + g * p.CGroupStride) = 0f;
    }
}
