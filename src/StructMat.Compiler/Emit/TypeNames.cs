namespace StructMat.Compiler.Emit;

/// <summary>
/// Every type the generated code names, written <c>global::</c>-qualified (as the Regex and System.Text.Json
/// generators emit), and the generated file has no <c>using</c> directives: no layer, namespace or user type
/// name can capture one of them. Generic types are written without their arguments (<c>{Span}&lt;float&gt;</c>).
/// </summary>
internal static class TypeNames
{
    // System
    public const string Action = "global::System.Action";
    public const string ArgumentException = "global::System.ArgumentException";
    public const string NotSupportedException = "global::System.NotSupportedException";
    public const string ArgumentNullException = "global::System.ArgumentNullException";
    public const string Array = "global::System.Array";
    public const string Random = "global::System.Random";
    public const string ReadOnlySpan = "global::System.ReadOnlySpan";
    public const string Span = "global::System.Span";
    public const string MemoryExtensions = "global::System.MemoryExtensions";
    public const string GeneratedCode = "global::System.CodeDom.Compiler.GeneratedCode";
    public const string IReadOnlyList = "global::System.Collections.Generic.IReadOnlyList";

    // ILGPU
    public const string Accelerator = "global::ILGPU.Runtime.Accelerator";
    public const string ArrayView = "global::ILGPU.ArrayView";
    public const string ArrayViewExtensions = "global::ILGPU.Runtime.ArrayViewExtensions";
    public const string KernelLoaders = "global::ILGPU.Runtime.KernelLoaders";
    public const string Index1D = "global::ILGPU.Index1D";
    public const string Index2D = "global::ILGPU.Index2D";
    public const string MemoryBuffer1D = "global::ILGPU.Runtime.MemoryBuffer1D";
    public const string DenseStride1D = "global::ILGPU.Stride1D.Dense";

    // StructMat.Runtime
    public const string Checks = "global::StructMat.Runtime.Checks";
    public const string ExclusiveUse = "global::StructMat.Runtime.ExclusiveUse";
    public const string IProjectable = "global::StructMat.Runtime.IProjectable";
    public const string IStructuredLayer = "global::StructMat.Runtime.IStructuredLayer";
    public const string Parameter = "global::StructMat.Runtime.Parameter";
    public const string Workspace = "global::StructMat.Runtime.Workspace";
    public const string IOnnxExportable = "global::StructMat.Runtime.IO.Onnx.IOnnxExportable";
    public const string OnnxGraphBuilder = "global::StructMat.Runtime.IO.Onnx.OnnxGraphBuilder";
    public const string DeviceLayer = "global::StructMat.Runtime.Gpu.DeviceLayer";
    public const string HouseholderDevice = "global::StructMat.Runtime.Gpu.HouseholderDevice";
    public const string OrthogonalDevice = "global::StructMat.Runtime.Gpu.OrthogonalDevice";
    public const string HadamardDevice = "global::StructMat.Runtime.Gpu.HadamardDevice";
    public const string QuantizedDevice = "global::StructMat.Runtime.Gpu.QuantizedDevice";
    public const string ButterflyDevice = "global::StructMat.Runtime.Gpu.ButterflyDevice";
    public const string NormalizeDevice = "global::StructMat.Runtime.Gpu.NormalizeDevice";
    public const string KernelCache = "global::StructMat.Runtime.Gpu.KernelCache";
    public const string TiledGemmDevice = "global::StructMat.Runtime.Gpu.TiledGemmDevice";
    public const string GemmShape = "global::StructMat.Runtime.Gpu.GemmShape";
    public const string Initializers = "global::StructMat.Runtime.Init.Initializers";
    public const string BatchTiles = "global::StructMat.Runtime.Kernels.BatchTiles";
    public const string BlockLayout = "global::StructMat.Runtime.Kernels.BlockLayout";
    public const string CpuKernels = "global::StructMat.Runtime.Kernels.CpuKernels";
    public const string ElementKernels = "global::StructMat.Runtime.Kernels.ElementKernels";
    public const string GradientTargets = "global::StructMat.Runtime.Kernels.GradientTargets";
    public const string HouseholderKernels = "global::StructMat.Runtime.Kernels.HouseholderKernels";
    public const string OrthogonalKernels = "global::StructMat.Runtime.Kernels.OrthogonalKernels";
    public const string SkewLayout = "global::StructMat.Runtime.Kernels.SkewLayout";
    public const string HadamardKernels = "global::StructMat.Runtime.Kernels.HadamardKernels";
    public const string QuantizedKernels = "global::StructMat.Runtime.Kernels.QuantizedKernels";
    public const string ButterflyKernels = "global::StructMat.Runtime.Kernels.ButterflyKernels";
    public const string QuantFormat = "global::StructMat.Runtime.Kernels.QuantFormat";
    public const string ElementType = "global::StructMat.Runtime.ElementType";
    public const string NormalizeKernels = "global::StructMat.Runtime.Kernels.NormalizeKernels";
    public const string Permutations = "global::StructMat.Runtime.Kernels.Permutations";
    public const string DenseMath = "global::StructMat.Runtime.Oracle.DenseMath";
    public const string Projections = "global::StructMat.Runtime.Projection.Projections";
}
