using System.Linq;
using StructMat.Compiler.IR;

namespace StructMat.Compiler.Emit;

/// <summary>Emits one layer class: parameters, costs, initialisation, then the CPU, dense and GPU parts.</summary>
internal static class LayerEmitter
{
    public static void Emit(SourceWriter w, LayerModel model)
    {
        var layer = model.Bound;
        w.Line("/// <summary>");
        foreach (var line in (layer.Documentation ?? $"The layer {layer.Name} : {layer.Shape.In} -> {layer.Shape.Out}.").Split('\n'))
        {
            w.Line("/// " + CSharp.Xml(line));
        }
        w.Line("/// </summary>");
        w.Line("/// <remarks>Parameter tensors (names as saved): " +
               string.Join(", ", model.Ir.Parameters.Select(p => $"<c>{p.Name} [{string.Join(", ", p.Shape)}]</c>")) + ".</remarks>");
        w.Line($"[{TypeNames.GeneratedCode}(\"StructMat\", \"{SmxCompiler.Version}\")]");
        if (ReservedNames.IsAllLowerCase(model.ClassName))
        {
            w.Line("#pragma warning disable CS8981 // the layer's name, as written in the .smx file, is all lower case");
        }
        var interfaces = $"{TypeNames.IStructuredLayer}, " + (ProjectionEmitter.IsProjectable(model) ? $"{TypeNames.IProjectable}, " : "") + TypeNames.IOnnxExportable;
        w.Block($"public sealed partial class {model.ClassName} : {interfaces}", () =>
        {
            w.Line($"private readonly {TypeNames.Workspace} _workspace = new({System.Math.Max(1, model.WorkspaceSlots)});");
            w.Line($"private readonly {TypeNames.ExclusiveUse} _backwardInUse = new({CSharp.String(model.ClassName + ".Backward")});");
            IndexMaps.EmitFields(w, model);
            w.Line();
            EmitConstructor(w, model);
            w.Line();
            EmitMembers(w, model);
            w.Line();
            EmitInitialize(w, model);
            w.Line();
            w.Line("/// <inheritdoc/>");
            w.Line($"public void ZeroGrad() => {TypeNames.Parameter}.ZeroGradients(Parameters);");
            w.Line();
            CpuEmitter.Emit(w, model);
            w.Line();
            DenseEmitter.Emit(w, model);
            w.Line();
            OnnxEmitter.Emit(w, model);
            w.Line();
            GpuEmitter.Emit(w, model);
        });
    }

    private static void EmitConstructor(SourceWriter w, LayerModel model)
    {
        w.Line("/// <summary>Creates the layer with its default initialisation, drawn from <paramref name=\"seed\"/>.</summary>");
        w.Block($"public {model.ClassName}(int seed = 0)", () =>
        {
            foreach (var p in model.Ir.Parameters)
            {
                var multiplier = p.LearningRateMultiplier == 1f ? "" : $", learningRateMultiplier: {CSharp.Float(p.LearningRateMultiplier)}";
                var peft = p.PeftKey is null ? "" : $" {{ PeftKey = {CSharp.String(p.PeftKey)} }}";
                var elementType = p.ElementType == IR.ElementType.Float32 ? "" : $", elementType: {TypeNames.ElementType}.{p.ElementType}";
                w.Line($"{model.Property(p.Id)} = new {TypeNames.Parameter}({CSharp.String(p.Name)}, new[] {{ {string.Join(", ", p.Shape)} }}, trainable: {(p.Trainable ? "true" : "false")}{multiplier}{elementType}){peft};");
            }
            w.Line(model.Ir.Parameters.Count == 0
                ? $"Parameters = {TypeNames.Array}.Empty<{TypeNames.Parameter}>();"
                : $"Parameters = new[] {{ {string.Join(", ", model.Ir.Parameters.Select(p => model.Property(p.Id)))} }};");
            w.Line($"Initialize(new {TypeNames.Random}(seed));");
        });
    }

    private static void EmitMembers(SourceWriter w, LayerModel model)
    {
        var (i, o) = (model.Bound.Shape.In, model.Bound.Shape.Out);
        w.Line("/// <inheritdoc/>");
        w.Line($"public int InFeatures => {i};");
        w.Line();
        w.Line("/// <inheritdoc/>");
        w.Line($"public int OutFeatures => {o};");
        w.Line();
        w.Line("/// <inheritdoc/>");
        w.Line($"public long ParameterCount => {model.ParameterCount};");
        w.Line();
        w.Line("/// <inheritdoc/>");
        w.Line($"public long TrainableParameterCount => {model.TrainableParameterCount};");
        w.Line();
        w.Line("/// <inheritdoc/>");
        w.Line($"public long FlopsPerRow => {model.Optimized.FlopsPerRow};");
        w.Line();
        w.Line("/// <inheritdoc/>");
        w.Line($"public long DenseFlopsPerRow => {(long)i * o};");
        w.Line();
        w.Line("/// <inheritdoc/>");
        w.Line($"public {TypeNames.IReadOnlyList}<{TypeNames.Parameter}> Parameters {{ get; }}");
        foreach (var p in model.Ir.Parameters)
        {
            w.Line();
            w.Line($"/// <summary><c>{p.Name} [{string.Join(", ", p.Shape)}]</c>{(p.Trainable ? "" : " (frozen)")}: {CSharp.Xml(p.Description)}.</summary>");
            w.Line($"public {TypeNames.Parameter} {model.Property(p.Id)} {{ get; }}");
        }
    }

    /// <summary>The quantised bases of a layer: their forward ops, in parameter order.</summary>
    internal static System.Collections.Generic.List<QuantMatMulOp> QuantizedBases(LayerModel model) =>
        model.Ir.Forward.Ops.OfType<QuantMatMulOp>().Where(q => !q.Transposed).OrderBy(q => q.Codes).ToList();

    private static QuantMatMulOp BaseOf(LayerModel model, IrParameter codes) => QuantizedBases(model).Single(q => q.Codes == codes.Id);

    private static string QuantizedInit(LayerModel model, IrParameter p)
    {
        var q = BaseOf(model, p);
        var random = p.Seed is { } seed ? $"new {TypeNames.Random}({seed})" : "random";
        return $"{TypeNames.Initializers}.Quantized({model.Property(q.Codes)}.Bytes, {model.Property(q.Scales)}.Data, {TypeNames.QuantFormat}.{q.Format}, {q.Out}, {q.In}, {q.Group}, fanIn: {p.FanIn}, fanOut: {p.FanOut}, {random});" +
            (p.Seed is { } s ? $" // shared: seed {s}, not the layer's" : "");
    }

    /// <summary><c>Quantize</c>: fills a quantised base from float32 weights, as QLoRA quantises a pretrained layer.</summary>
    private static void EmitQuantize(SourceWriter w, LayerModel model)
    {
        var bases = QuantizedBases(model);
        if (bases.Count == 0) return;
        w.Line();
        w.Line("/// <summary>");
        w.Line("/// Quantises float32 weights <paramref name=\"weight\"/> (row-major <c>[out, in]</c>) into a quantised base: NF4 as QLoRA does");
        w.Line("/// (per group, absmax, and each code by bitsandbytes' decision tree on w · (1/absmax)), int8 with one scale per row (absmax / 127,");
        w.Line("/// codes w / scale rounded half to even).");
        w.Line("/// <paramref name=\"name\"/> is the codes' saved name (" + string.Join(", ", bases.Select(q => "<c>" + model.Ir.Parameter(q.Codes).Name + "</c>")) + ")" +
               (bases.Count == 1 ? "; null for the layer's one base." : "."));
        w.Line("/// </summary>");
        w.Block($"public void Quantize({TypeNames.ReadOnlySpan}<float> weight, string? name = null)", () =>
        {
            foreach (var q in bases)
            {
                var codes = model.Ir.Parameter(q.Codes);
                var condition = bases.Count == 1 ? $"name is null || name == {CSharp.String(codes.Name)}" : $"name == {CSharp.String(codes.Name)}";
                w.Block($"if ({condition})", () =>
                {
                    w.Line($"if (weight.Length != {(long)q.Out * q.In}) throw new {TypeNames.ArgumentException}($\"weight has {{weight.Length}} elements, not {q.Out}·{q.In}.\", nameof(weight));");
                    w.Line(q.Format == QuantFormat.Nf4
                        ? $"{TypeNames.QuantizedKernels}.QuantizeNf4(weight, {q.Out}, {q.In}, {q.Group}, {model.Property(q.Codes)}.Bytes, {model.Property(q.Scales)}.Data);"
                        : $"{TypeNames.QuantizedKernels}.QuantizeInt8(weight, {q.Out}, {q.In}, {model.Property(q.Codes)}.Bytes, {model.Property(q.Scales)}.Data);");
                    w.Line("return;");
                });
            }
            w.Line($"throw new {TypeNames.ArgumentException}($\"'{{name}}' is not a quantised base of this layer; its bases are {string.Join(", ", bases.Select(q => model.Ir.Parameter(q.Codes).Name))}.\", nameof(name));");
        });
    }

    /// <summary>The method layers with a normalize get, which resets their magnitudes to the row norms.</summary>
    public const string ResetMagnitudes = "ResetMagnitudes";

    private static void EmitInitialize(SourceWriter w, LayerModel model)
    {
        // The rule is the Initializers class's; the lines that follow name what this layer starts specially.
        w.Line("/// <summary>");
        w.Line($"/// Default initialisation: each factor µP-style normal (<see cref=\"{TypeNames.Initializers}.MuP\"/>, as in \"Compute Better Spent\").");
        if (model.Ir.Parameters.Any(p => p.Init == InitKind.Zero && !p.Name.EndsWith("oft_R", System.StringComparison.Ordinal) && !p.Name.EndsWith("hadamard.1.lora_A", System.StringComparison.Ordinal)))
            w.Line("/// Biases, and LoRA's <c>lora_B</c> next to a frozen base, start at zero.");
        if (model.Ir.Parameters.Any(p => p.Init is InitKind.Ones or InitKind.HouseholderIdentity))
            w.Line("/// Diagonals start at one and Householder vectors in equal pairs (PEFT HRA), so those start as the identity.");
        if (model.Ir.Parameters.Any(p => p.Init == InitKind.Zero && p.Name.EndsWith("oft_R", System.StringComparison.Ordinal)))
            w.Line("/// OFT's packed skew-symmetric blocks start at zero (PEFT's default), so its rotations start as the identity.");
        if (model.Ir.Parameters.Any(p => p.Init == InitKind.Zero && p.Name.EndsWith("boft_R", System.StringComparison.Ordinal)))
            w.Line("/// BOFT's blocks start at zero (PEFT's default), so its rotations start as the identity.");
        if (model.Ir.Parameters.Any(p => p.Init == InitKind.RowNorms))
            w.Line("/// DoRA's magnitude (a diag beside a normalize) starts at the row norms of the weight it normalises, so the layer starts as that");
        if (model.Ir.Parameters.Any(p => p.Init == InitKind.RowNorms))
            w.Line("/// weight (see <see cref=\"ResetMagnitudes\"/>).");
        if (model.Ir.Parameters.Any(p => p.Init == InitKind.Quantized))
            w.Line("/// A quantised base is drawn like a dense one and quantised row by row (see <see cref=\"Quantize\"/> to fill it from float weights).");
        if (model.Ir.Parameters.Any(p => p.Init == InitKind.Zero && p.Name.EndsWith("hadamard.1.lora_A", System.StringComparison.Ordinal)))
            w.Line("/// A hadamard beside a frozen base starts at zero: its right operand's <c>lora_A</c> (PEFT LoHa's <c>hada_w2_b</c>) is zero.");
        w.Line("/// </summary>");
        w.Block($"public void Initialize({TypeNames.Random} random)", () =>
        {
            w.Line($"{TypeNames.ArgumentNullException}.ThrowIfNull(random);");
            foreach (var p in model.Ir.Parameters)
            {
                w.Line(p.Init switch
                {
                    InitKind.Zero => $"{TypeNames.Initializers}.Zero({model.Property(p.Id)}.Data);",
                    InitKind.Ones => $"{TypeNames.Initializers}.Ones({model.Property(p.Id)}.Data);",
                    InitKind.HouseholderIdentity => $"{TypeNames.Initializers}.HouseholderIdentity({model.Property(p.Id)}.Data, {p.Shape[0]}, {p.Shape[1]}, random);",
                    InitKind.RowNorms => $"// {p.Name}: set below, from the weights it normalises",
                    InitKind.QuantScale => $"// {p.Name}: set with its codes",
                    InitKind.Quantized => QuantizedInit(model, p),
                    _ when p.Seed is { } seed => $"{TypeNames.Initializers}.MuP({model.Property(p.Id)}.Data, fanIn: {p.FanIn}, fanOut: {p.FanOut}, new {TypeNames.Random}({seed})); // shared: seed {seed}, not the layer's",
                    _ => $"{TypeNames.Initializers}.MuP({model.Property(p.Id)}.Data, fanIn: {p.FanIn}, fanOut: {p.FanOut}, random);",
                });
            }
            if (model.Ir.Parameters.Any(p => p.MagnitudeOf is not null)) w.Line($"{ResetMagnitudes}();");
        });
        EmitQuantize(w, model);
        if (!model.Ir.Parameters.Any(p => p.MagnitudeOf is not null)) return;
        w.Line();
        w.Line("/// <summary>");
        w.Line("/// Sets each magnitude (a diag left of a normalize: DoRA's <c>lora_magnitude_vector</c>) to the row norms of the weight it");
        w.Line("/// normalises, as <see cref=\"Initialize\"/> does, so the layer equals that weight again. Call it after loading a new base");
        w.Line("/// to start training from that base; a PEFT DoRA file carries its own magnitude.");
        w.Line("/// </summary>");
        w.Block($"public void {ResetMagnitudes}()", () =>
        {
            foreach (var p in model.Ir.Parameters)
            {
                if (p.MagnitudeOf is not { } m) continue;
                w.Line($"{TypeNames.Initializers}.RowNorms({model.Property(p.Id)}.Data, {CpuEmitter.NormalizedWeights(model, m.Base, m.Down, m.Up)}, {CSharp.Float(m.Scale)}, {m.Out}, {m.In}, {m.Rank});");
            }
        });
    }
}
