using System.Collections.Generic;
using System.Linq;
using StructMat.Compiler.Analysis;
using StructMat.Compiler.IR;

namespace StructMat.Compiler.Emit;

/// <summary>
/// Emits the GPU path: the nested <c>Gpu</c> class that owns device parameters, gradients and workspace and launches
/// the kernels in program order. Block products run on the runtime's tiled GEMM (<c>TiledGemmDevice</c>), which the
/// layer describes by one <c>GemmShape</c> per distinct product and ILGPU specialises on it; the other ops (elementwise,
/// tiny blocks) get one generated kernel per distinct op (static methods of the layer class). Kernels are loaded
/// once per accelerator (KernelCache).
/// </summary>
internal static class GpuEmitter
{
    public static void Emit(SourceWriter w, LayerModel model)
    {
        var (kernels, kernelOf) = Kernels(model);

        foreach (var kernel in kernels.Where(k => !k.Grouped))
        {
            w.Comment($"ILGPU kernel: {kernel.Description}.");
            w.Block($"private static void {kernel.Method}({kernel.Signature})", () =>
            {
                foreach (var line in kernel.Body) w.Line(line);
            });
            w.Line();
        }

        w.Line("/// <summary>Uploads this layer's parameters to <paramref name=\"accelerator\"/> and returns its GPU twin.</summary>");
        w.Line($"public Gpu ToAccelerator({TypeNames.Accelerator} accelerator) => new(this, accelerator);");
        w.Line();
        EmitGpuClass(w, model, kernels, kernelOf);
    }

    /// <summary>
    /// One kernel per distinct op (equal ops are the same arithmetic, so sharing by value is right), numbered in
    /// program order, forward first; Householder chains and OFT rotations have none (the runtime's HouseholderDevice and
    /// OrthogonalDevice launch them).
    /// </summary>
    internal static (List<GpuKernel> Kernels, Dictionary<IrOp, GpuKernel> KernelOf) Kernels(LayerModel model)
    {
        var forward = model.Optimized.Forward;
        var backward = model.Optimized.Backward;
        var kernels = new List<GpuKernel>();
        var kernelOf = new Dictionary<IrOp, GpuKernel>();
        foreach (var (program, op) in forward.Ops.Select(o => (forward, o)).Concat(backward.Ops.Select(o => (backward, o))))
        {
            if (IsLibraryOp(op)) continue;
            var candidate = GpuKernelBuilder.For(op, program, kernels.Count);
            var existing = kernels.FirstOrDefault(k => k.Key == candidate.Key);
            if (existing is null) kernels.Add(existing = candidate);
            kernelOf[op] = existing;
        }
        return (kernels, kernelOf);
    }

    private static void EmitGpuClass(SourceWriter w, LayerModel model, List<GpuKernel> kernels, Dictionary<IrOp, GpuKernel> kernelOf)
    {
        var resources = Resources(model, kernels);
        w.Line($"/// <summary>The layer on an ILGPU accelerator (see <see cref=\"{TypeNames.DeviceLayer}\"/>).</summary>");
        w.Block($"public sealed class Gpu : {TypeNames.DeviceLayer}", () =>
        {
            foreach (var (type, field, _, _) in resources) w.Line($"private readonly {type} {field};");
            foreach (var k in kernels.Where(k => !k.Grouped))
            {
                w.Line($"private readonly {k.DelegateType} {KernelField(k)};");
            }
            w.Line();
            foreach (var k in kernels.Where(k => k.Grouped))
            {
                w.Comment($"{char.ToUpperInvariant(k.Description[0])}{k.Description.Substring(1)}.");
                w.Line($"private static readonly {TypeNames.GemmShape} {ShapeField(k)} = {k.Gemm!.ShapeLiteral(k.Tiling!)};");
                w.Line();
            }
            w.Line($"internal Gpu({model.QualifiedClassName} layer, {TypeNames.Accelerator} accelerator)");
            w.Block($"    : base(accelerator, layer, {WorkspaceSlots(model)}, {CSharp.String(model.ClassName + ".Gpu")})", () =>
            {
                foreach (var (_, field, create, _) in resources) w.Line($"{field} = {create};");
                foreach (var k in kernels.Where(k => !k.Grouped))
                {
                    w.Line($"{KernelField(k)} = {TypeNames.KernelCache}.GetOrLoad(accelerator, {CSharp.String(model.Namespace + "." + model.ClassName + "." + k.Method)},");
                    w.Line($"    a => {TypeNames.KernelLoaders}.{k.Loader}(a, {k.Method}));");
                }
            });
            w.Line();
            var forward = model.Optimized.Forward;
            var backward = model.Optimized.Backward;
            w.Line("/// <inheritdoc/>");
            w.Block($"public override void Forward({TypeNames.ArrayView}<float> x, {TypeNames.ArrayView}<float> y, int batch)", () =>
            {
                EntryChecks.Batch(w, model.Optimized.ForwardPlan, model);
                w.Line("using var exclusive = EnterForward(x, y, batch);");
                w.Line("if (batch == 0) return;");
                var names = new Dictionary<int, string> { [forward.Input] = "x", [forward.Output] = "y" };
                EmitLaunches(w, model, forward, model.Optimized.ForwardPlan, names, kernelOf);
            });
            w.Line();
            w.Line("/// <inheritdoc/>");
            w.Block($"public override void Backward({TypeNames.ArrayView}<float> x, {TypeNames.ArrayView}<float> dy, {TypeNames.ArrayView}<float> dx, int batch)", () =>
            {
                EntryChecks.Batch(w, model.Optimized.BackwardPlan, model);
                w.Line("using var exclusive = EnterBackward(x, dy, dx, batch);");
                w.Line("if (batch == 0) return;");
                var names = new Dictionary<int, string>
                {
                    [forward.Input] = "x", [Passes.OptimizedLayer.OutputGradientOf(backward)] = "dy", [backward.Output] = "dx",
                };
                EmitLaunches(w, model, backward, model.Optimized.BackwardPlan, names, kernelOf);
            });
            if (resources.Any(r => r.Disposable))
            {
                w.Line();
                w.Line("/// <inheritdoc/>");
                w.Block("protected override void DisposeResources()", () =>
                {
                    foreach (var (_, field, _, _) in resources.Where(r => r.Disposable)) w.Line($"{field}.Dispose();");
                });
            }
        });
    }

    /// <summary>What a layer's twin holds beyond the base class's parameters and workspace: type, field, how it is made, whether it owns device memory.</summary>
    private static List<(string Type, string Field, string Create, bool Disposable)> Resources(LayerModel model, List<GpuKernel> kernels)
    {
        var resources = new List<(string, string, string, bool)>();
        foreach (var map in IndexMaps.Distinct(model))
        {
            resources.Add(($"{TypeNames.MemoryBuffer1D}<int, {TypeNames.DenseStride1D}>", MapField(map), $"{TypeNames.ArrayViewExtensions}.Allocate1D(accelerator, {IndexMaps.Field(map)})", true));
        }
        void Device(bool used, string type, string field, bool disposable = true) { if (used) resources.Add((type, field, $"new {type}(accelerator)", disposable)); }
        Device(UsesHouseholder(model), TypeNames.HouseholderDevice, "_householder", disposable: false); // its scratch is the twin's workspace
        Device(UsesOrthogonal(model), TypeNames.OrthogonalDevice, "_orthogonal");
        Device(UsesHadamard(model), TypeNames.HadamardDevice, "_hadamard");
        Device(UsesNormalize(model), TypeNames.NormalizeDevice, "_normalize");
        Device(UsesQuantized(model), TypeNames.QuantizedDevice, "_quantized");
        Device(UsesButterfly(model), TypeNames.ButterflyDevice, "_butterfly");
        Device(kernels.Any(k => k.Grouped), TypeNames.TiledGemmDevice, "_gemm");
        return resources;
    }

    private static bool UsesHouseholder(LayerModel model) => model.Optimized.Forward.Ops.Any(op => op is HouseholderOp);

    private static bool UsesOrthogonal(LayerModel model) => model.Optimized.Forward.Ops.Any(op => op is OrthogonalBlocksOp);

    /// <summary>Ops a runtime device class launches (its own kernels), rather than a generated kernel.</summary>
    private static bool IsLibraryOp(IrOp op) =>
        op is HouseholderOp or HouseholderGradientOp or OrthogonalBlocksOp or OrthogonalBlocksGradientOp or HadamardLowRankOp or HadamardLowRankGradientOp
            or RowNormalizeOp or RowNormalizeGradientOp or QuantMatMulOp or ButterflyOp or ButterflyGradientOp;

    private static bool UsesQuantized(LayerModel model) => model.Optimized.Forward.Ops.Any(op => op is QuantMatMulOp);

    private static bool UsesButterfly(LayerModel model) => model.Optimized.Forward.Ops.Any(op => op is ButterflyOp);

    private static bool UsesNormalize(LayerModel model) => model.Optimized.Forward.Ops.Any(op => op is RowNormalizeOp);

    private static bool UsesHadamard(LayerModel model) => model.Optimized.Forward.Ops.Any(op => op is HadamardLowRankOp);

    /// <summary>The planned slots, plus three scratch slots for Householder chains (which run in place on a copy).</summary>
    private static int WorkspaceSlots(LayerModel model) => System.Math.Max(1, model.WorkspaceSlots) + (UsesHouseholder(model) ? 3 : 0);

    private static string Scratch(LayerModel model, int k, string length) => $"Workspace.Get({System.Math.Max(1, model.WorkspaceSlots) + k}, {length})";

    private static string MapField(GatherOp map)
    {
        var name = IndexMaps.Field(map);
        return "_" + char.ToLowerInvariant(name[0]) + name.Substring(1);
    }

    private static string KernelField(GpuKernel kernel) => "_" + char.ToLowerInvariant(kernel.Method[0]) + kernel.Method.Substring(1);

    /// <summary>The <c>GemmShape</c> field of a tiled product: its kernel's name without "Kernel" (MatMul0, WeightGradient5).</summary>
    private static string ShapeField(GpuKernel kernel) => kernel.Method.Replace("Kernel", "");

    private static void EmitLaunches(SourceWriter w, LayerModel model, IrProgram program, BufferPlan plan,
        Dictionary<int, string> names, Dictionary<IrOp, GpuKernel> kernelOf)
    {
        Workspaces.Emit(w, program, plan, names, $"{TypeNames.ArrayView}<float>", (slot, length) => $"Workspace.Get({slot}, (long){length})", "SubView");
        foreach (var op in program.Ops)
        {
            if (IsLibraryOp(op))
            {
                w.Comment(op.Comment);
                w.Line(LibraryLaunch(model, op, names));
                continue;
            }
            var kernel = kernelOf[op];
            var field = KernelField(kernel);
            string V(int id) => names[id];
            string P(int id) => $"DeviceParameters.Value({id} /* {model.Ir.Parameter(id).Name} */)";
            string G(int id) => $"DeviceParameters.Gradient({id} /* {model.Ir.Parameter(id).Name} */)";
            // A slice of the tensor when the op uses part of it (butterfly factors share `twiddle`).
            string Slice(string view, int id, int offset, long length) =>
                offset == 0 && length == model.Ir.Parameter(id).Length ? view : $"{view}.SubView({offset}, {length})";
            int Width(int id) => program.Value(id).Width;
            var batch = OpComments.Rows(op); // rows the kernel sees (kron sub-rows)
            if (kernel.Grouped)
            {
                w.Comment(op.Comment);
                w.Line(TiledLaunch(op, kernel, batch, V, P, G, Slice));
                continue;
            }
            var launch = op switch
            {
                MatMulOp m => $"{field}(new {TypeNames.Index2D}({batch}, {m.Groups * m.BlockOut}), {V(m.Input)}, {Slice(P(m.Weight), m.Weight, m.WeightOffset, (long)m.Groups * m.BlockOut * m.BlockIn)}, {V(m.Output)});",
                MatMulTransposedOp t => $"{field}(new {TypeNames.Index2D}({batch}, {t.Groups * t.BlockIn}), {V(t.OutputGradient)}, {Slice(P(t.Weight), t.Weight, t.WeightOffset, (long)t.Groups * t.BlockOut * t.BlockIn)}, {V(t.InputGradient)});",
                WeightGradientOp g => $"{field}({g.Groups * g.BlockOut * g.BlockIn}, {V(g.OutputGradient)}, {V(g.Input)}, {Slice(G(g.Weight), g.Weight, g.WeightOffset, (long)g.Groups * g.BlockOut * g.BlockIn)}, {batch});",
                PermuteOp p => $"{field}(new {TypeNames.Index2D}({batch}, {p.Rows * p.Cols}), {V(p.Input)}, {V(p.Output)});",
                ScaleOp s => $"{field}(batch * {Width(s.Output)}, {V(s.Input)}, {V(s.Output)});",
                AddOp a => $"{field}(batch * {Width(a.Output)}, {V(a.Left)}, {V(a.Right)}, {V(a.Output)});",
                BiasOp b => $"{field}(new {TypeNames.Index2D}(batch, {Width(b.Target)}), {V(b.Target)}, {P(b.Bias)});",
                BiasGradientOp bg => $"{field}({Width(bg.OutputGradient)}, {V(bg.OutputGradient)}, {G(bg.Bias)}, batch);",
                DiagonalOp d => $"{field}(new {TypeNames.Index2D}({batch}, {Width(d.Output) / d.SubRows}), {V(d.Input)}, {P(d.Weight)}, {V(d.Output)});",
                DiagonalGradientOp dg => $"{field}({Width(dg.Input) / dg.SubRows}, {V(dg.OutputGradient)}, {V(dg.Input)}, {G(dg.Weight)}, {batch});",
                GatherOp g => $"{field}(new {TypeNames.Index2D}({batch}, {g.Width}), {V(g.Input)}, {MapField(g)}.View, {V(g.Output)});",
                _ => throw new System.InvalidOperationException($"No launch for {op.GetType().Name}"),
            };
            w.Comment(op.Comment);
            w.Line(launch);
        }
    }

    /// <summary>A block product on the runtime's tiled GEMM: its shape, operands A and B, output C and the launch rows.</summary>
    private static string TiledLaunch(IrOp op, GpuKernel kernel, string batch,
        System.Func<int, string> V, System.Func<int, string> P, System.Func<int, string> G,
        System.Func<string, int, int, long, string> Slice)
    {
        var (a, b, c) = op switch
        {
            MatMulOp m => (V(m.Input), Slice(P(m.Weight), m.Weight, m.WeightOffset, (long)m.Groups * m.BlockOut * m.BlockIn), V(m.Output)),
            MatMulTransposedOp t => (V(t.OutputGradient), Slice(P(t.Weight), t.Weight, t.WeightOffset, (long)t.Groups * t.BlockOut * t.BlockIn), V(t.InputGradient)),
            WeightGradientOp g => (V(g.OutputGradient), V(g.Input), Slice(G(g.Weight), g.Weight, g.WeightOffset, (long)g.Groups * g.BlockOut * g.BlockIn)),
            _ => throw new System.InvalidOperationException($"No tiled launch for {op.GetType().Name}"),
        };
        return $"_gemm.Run({ShapeField(kernel)}, {a}, {b}, {c}, {batch});";
    }

    private static string LibraryLaunch(LayerModel model, IrOp op, Dictionary<int, string> names)
    {
        string Slice(string view, int id, int offset, long length) =>
            offset == 0 && length == model.Ir.Parameter(id).Length ? view : $"{view}.SubView({offset}, {length})";
        string Optional(int id) => id < 0 ? $"default({TypeNames.ArrayView}<float>)" : P(id);
        string P(int id) => $"DeviceParameters.Value({id} /* {model.Ir.Parameter(id).Name} */)";
        string G(int id) => $"DeviceParameters.Gradient({id} /* {model.Ir.Parameter(id).Name} */)";
        var batch = OpComments.Rows(op);
        return op switch
        {
            HouseholderOp h => $"_householder.Apply({names[h.Input]}, {names[h.Output]}, {P(h.Weight)}, {Scratch(model, 0, $"(long){batch} * {h.N}")}, {batch}, {h.N}, {h.R}, " +
                               $"transposed: {(h.Transposed ? "true" : "false")}, accumulate: {(h.Accumulate ? "true" : "false")});",
            HouseholderGradientOp g => $"_householder.Gradient({names[g.Input]}, {names[g.OutputGradient]}, {P(g.Weight)}, {G(g.Weight)}, " +
                                       $"{Scratch(model, 0, $"(long){batch} * {g.N}")}, {Scratch(model, 1, $"(long){batch} * {g.N}")}, {Scratch(model, 2, $"(long){batch} * {g.N * g.R}")}, {batch}, {g.N}, {g.R});",
            OrthogonalBlocksOp o => $"_orthogonal.Apply({names[o.Input]}, {names[o.Output]}, {Slice(P(o.Weight), o.Weight, o.WeightOffset, o.WeightLength)}, {batch}, {o.Blocks}, {o.Block}, terms: {o.Terms}, " +
                                    $"transposed: {(o.Transposed ? "true" : "false")}, accumulate: {(o.Accumulate ? "true" : "false")}{CpuEmitter.SkewArgument(o.Skew)});",
            RowNormalizeOp r => $"_normalize.Apply({names[r.Input]}, {names[r.Output]}, {P(r.Base)}, {Optional(r.Down)}, {Optional(r.Up)}, {CSharp.Float(r.Scale)}, {batch}, {r.Out}, {r.In}, {r.Rank}, " +
                                $"accumulate: {(r.Accumulate ? "true" : "false")});",
            RowNormalizeGradientOp r => $"_normalize.Gradient({names[r.OutputGradient]}, {names[r.Input]}, {P(r.Base)}, {Optional(r.Down)}, {Optional(r.Up)}, {CSharp.Float(r.Scale)}, {G(r.TargetParameter)}, " +
                                        $"target: {r.Target}, {batch}, {r.Out}, {r.In}, {r.Rank});",
            HadamardLowRankOp h => $"_hadamard.Apply({names[h.Input]}, {names[h.Output]}, {P(h.A1)}, {P(h.B1)}, {P(h.A2)}, {P(h.B2)}, {batch}, {h.In}, {h.Out}, {h.R1}, {h.R2}, " +
                                   $"transposed: {(h.Transposed ? "true" : "false")}, accumulate: {(h.Accumulate ? "true" : "false")});",
            HadamardLowRankGradientOp h => $"_hadamard.Gradient({names[h.Input]}, {names[h.OutputGradient]}, {P(h.A1)}, {P(h.B1)}, {P(h.A2)}, {P(h.B2)}, {G(h.TargetParameter)}, " +
                                           $"target: {h.Target}, {batch}, {h.In}, {h.Out}, {h.R1}, {h.R2});",
            OrthogonalBlocksGradientOp g => $"_orthogonal.Gradient({names[g.Input]}, {names[g.OutputGradient]}, {Slice(P(g.Weight), g.Weight, g.WeightOffset, g.WeightLength)}, " +
                                            $"{Slice(G(g.Weight), g.Weight, g.WeightOffset, g.WeightLength)}, {batch}, {g.Blocks}, {g.Block}, terms: {g.Terms}{CpuEmitter.SkewArgument(g.Skew)});",
            ButterflyOp f => $"_butterfly.{(f.Transposed ? "ApplyTransposed" : "Apply")}({names[f.Input]}, {names[f.Output]}, {P(f.Weight)}, {batch}, {f.N}, accumulate: {(f.Accumulate ? "true" : "false")});",
            ButterflyGradientOp f => $"_butterfly.Gradient({names[f.Input]}, {names[f.OutputGradient]}, {P(f.Weight)}, {G(f.Weight)}, {batch}, {f.N});",
            QuantMatMulOp q => $"_quantized.{(q.Transposed ? "ApplyTransposed" : "Apply")}({names[q.Input]}, {names[q.Output]}, {P(q.Codes)}, {P(q.Scales)}, {TypeNames.QuantFormat}.{q.Format}, {batch}, {q.Out}, {q.In}, {q.Group}, " +
                                $"{CSharp.Float(q.Alpha)}, accumulate: {(q.Accumulate ? "true" : "false")});",
            _ => throw new System.InvalidOperationException(op.GetType().Name),
        };
    }
}
