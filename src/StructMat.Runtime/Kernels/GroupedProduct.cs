namespace StructMat.Runtime.Kernels;

/// <summary>
/// A batch of independent products <c>C_g = (accumulate ? C_g : 0) + alpha · A_g · B_g</c> for <c>g &lt; Groups</c>,
/// <c>A_g</c> <c>[M, K]</c>, <c>B_g</c> <c>[K, N]</c>, <c>C_g</c> <c>[M, N]</c>, where group <c>g</c>'s view is its matrix's
/// view moved by <c>g · GroupStride</c> elements (by <c>(g ⊕ AGroupXor) · AGroupStride</c> for A, likewise B). Every block
/// product, its transpose and its weight gradient is one of these with suitable strides, which is how a folded
/// permutation or block swap costs nothing but indexing.
/// </summary>
internal readonly unsafe struct GroupedProduct
{
    public GroupedProduct(int groups, int m, int n, int k, StridedMatrix a, nint aGroupStride, StridedMatrix b, nint bGroupStride, StridedMatrix c, nint cGroupStride, float alpha, bool accumulate, bool bIsParameter = false)
    {
        BIsParameter = bIsParameter;
        Groups = groups;
        M = m;
        N = n;
        K = k;
        A = a;
        AGroupStride = aGroupStride;
        B = b;
        BGroupStride = bGroupStride;
        C = c;
        CGroupStride = cGroupStride;
        Alpha = alpha;
        Accumulate = accumulate;
    }

    public int Groups { get; }

    public int M { get; }

    public int N { get; }

    public int K { get; }

    public StridedMatrix A { get; }

    public nint AGroupStride { get; }

    public StridedMatrix B { get; }

    public nint BGroupStride { get; }

    public StridedMatrix C { get; }

    public nint CGroupStride { get; }

    public float Alpha { get; }

    public bool Accumulate { get; }

    /// <summary>B is a layer's weight, which a <see cref="PackCache"/> scope may keep packed across calls.</summary>
    public bool BIsParameter { get; }

    /// <summary>Group <c>g</c> reads A's group <c>g ⊕ AGroupXor</c> (a flat block butterfly's diagonal); 0 by default.</summary>
    public int AGroupXor { get; init; }

    /// <summary>Group <c>g</c> reads B's group <c>g ⊕ BGroupXor</c>; 0 by default.</summary>
    public int BGroupXor { get; init; }

    /// <summary>Where group <c>g</c>'s A starts.</summary>
    public float* AOf(int g) => A.Data + (g ^ AGroupXor) * AGroupStride;

    /// <summary>Where group <c>g</c>'s B starts.</summary>
    public float* BOf(int g) => B.Data + (g ^ BGroupXor) * BGroupStride;

    /// <summary>The key of B's packed form in <paramref name="engine"/>'s layout.</summary>
    public PackKey PackKeyOfB(int engine) => new((nint)B.Data, B.RowStride, B.ColStride, BGroupStride, BGroupXor, Groups, K, N, engine);

    /// <summary><c>C_gᵀ = B_gᵀ · A_gᵀ</c>: the same products with the roles of rows and columns swapped.</summary>
    public GroupedProduct Transposed() =>
        new(Groups, N, M, K, B.Transposed, BGroupStride, A.Transposed, AGroupStride, C.Transposed, CGroupStride, Alpha, Accumulate)
        {
            AGroupXor = BGroupXor,
            BGroupXor = AGroupXor,
        };
}
