using System.Collections.Generic;

namespace StructMat.Runtime.IO;

/// <summary>
/// One tensor read from a <c>.safetensors</c> file: the dtype as stored in the file (<c>F32</c>, <c>F16</c>,
/// <c>BF16</c>, <c>F64</c>), its shape, and its elements converted to float32, row-major.
/// </summary>
public sealed record Tensor(string DType, int[] Shape, float[] Data);

/// <summary>Everything a <c>.safetensors</c> file holds: its tensors (in file order) and its <c>__metadata__</c> map.</summary>
public sealed record SafeTensorsContent(
    IReadOnlyDictionary<string, Tensor> Tensors,
    IReadOnlyDictionary<string, string> Metadata);
