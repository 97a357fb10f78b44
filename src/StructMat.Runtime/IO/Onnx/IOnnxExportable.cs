namespace StructMat.Runtime.IO.Onnx;

/// <summary>
/// A layer that can write its forward program as ONNX operators: every generated layer implements it, one
/// <see cref="OnnxGraphBuilder"/> call per IR op of its forward. Users call <see cref="OnnxExport.SaveOnnx"/>.
/// </summary>
public interface IOnnxExportable
{
    /// <summary>Makes the builder's calls for the forward program, in program order (<see cref="OnnxGraphBuilder.Begin"/> first).</summary>
    void WriteOnnx(OnnxGraphBuilder graph);
}
