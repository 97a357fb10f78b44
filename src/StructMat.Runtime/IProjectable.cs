using System;

namespace StructMat.Runtime;

/// <summary>A layer whose structure has a projection from dense weights (lowrank, blockdiag, monarch, kron of dense, dense).</summary>
public interface IProjectable
{
    /// <summary>Sets the parameters to the structure nearest <paramref name="dense"/> [out, in] in Frobenius norm; returns that distance.</summary>
    double Project(ReadOnlySpan<float> dense);
}
