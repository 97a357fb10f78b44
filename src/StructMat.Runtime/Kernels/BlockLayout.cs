namespace StructMat.Runtime.Kernels;

/// <summary>
/// Where element <c>i</c> of block (group) <c>g</c> lives in a row of width <c>groups · blockSize</c>.
/// Strided layouts are how a permutation folds into a block matmul's indexing (Monarch's transposes).
/// </summary>
public enum BlockLayout
{
    /// <summary>Index <c>g · blockSize + i</c>: blocks side by side.</summary>
    Contiguous,

    /// <summary>Index <c>i · groups + g</c>: blocks interleaved (the row read as a transposed [blockSize, groups] matrix).</summary>
    Strided,
}
