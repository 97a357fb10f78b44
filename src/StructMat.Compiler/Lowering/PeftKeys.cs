using System.Collections.Generic;
using System.Linq;
using StructMat.Compiler.IR;
using StructMat.Compiler.Semantics;
using StructMat.Compiler.Structures;

namespace StructMat.Compiler.Lowering;

/// <summary>
/// Which tensors of a layer have a key in a PEFT state dict. PEFT wraps one base linear layer and adds its adapter's
/// tensors next to it, so a layer is a PEFT form when it has exactly one frozen <c>dense</c> of its own shape (PEFT's
/// <c>base_layer.weight</c>; the layer's bias is <c>base_layer.bias</c>) and every other tensor is one a structure
/// names for PEFT (<c>lora_A.{adapter}.weight</c>, LoHa's <c>hada_w1_a.{adapter}</c> …, <c>hra_u.{adapter}</c>, <c>oft_R.{adapter}.weight</c>, <c>boft_R.{adapter}</c>; a diag next to a boft is
/// <c>boft_s.{adapter}</c>, DoRA's magnitude <c>lora_magnitude_vector.{adapter}.weight</c>), each key
/// once. Otherwise — no base, two bases, a tensor PEFT has no name for, or two low-ranks both claiming
/// <c>lora_A</c> — no tensor gets a key, and the runtime's <c>PeftNames</c> says the layer has no PEFT form.
/// </summary>
internal static class PeftKeys
{
    public const string BaseWeight = "base_layer.weight";
    public const string BaseBias = "base_layer.bias";

    public static IReadOnlyList<IrParameter> Assign(IReadOnlyList<IrParameter> parameters, IReadOnlyList<int> frozenBases, int? bias, BoundExpression body)
    {
        var none = parameters.Select(p => p with { PeftKey = null }).ToList();
        if (frozenBases.Count != 1 || !IsPeftForm(body)) return none;
        // DoRA's magnitude (a diag that starts at the row norms of normalize(base + lowrank)) is lora_magnitude_vector.
        parameters = parameters.Select(p => p.PeftKey is null && p.MagnitudeOf is { Rank: > 0 } ? p with { PeftKey = "lora_magnitude_vector.{adapter}.weight" } : p).ToList();
        // PEFT keeps BOFT's output scale as a vector of the adapter's own: a diag next to a boft is boft_s.
        if (parameters.Any(p => p.PeftKey?.StartsWith("boft_R.", System.StringComparison.Ordinal) == true))
            parameters = parameters.Select(p => p.PeftKey is null && IsDiagonal(p) ? p with { PeftKey = "boft_s.{adapter}" } : p).ToList();
        // A quantised base (codes and scales) has no key: bitsandbytes saves its own layout (flattened codes, quant_state),
        // which is not this one, and a PEFT adapter file never holds the base; its adapter loads with adapterOnly.
        var quantized = parameters[frozenBases[0]].ElementType != ElementType.Float32;
        var adapter = parameters.Where(p => p.Id != frozenBases[0] && p.Id != bias && p.Init != InitKind.QuantScale).ToList();
        if (adapter.Count == 0 || adapter.Any(p => p.PeftKey is null)) return none;
        if (adapter.Select(p => p.PeftKey).Distinct().Count() != adapter.Count) return none;
        return parameters.Select(p => p.Id == frozenBases[0] ? p with { PeftKey = quantized ? null : BaseWeight } : p.Id == bias ? p with { PeftKey = BaseBias } : p).ToList();
    }

    /// <summary>
    /// Whether the layer's expression has the shape of a PEFT adapter on its base layer, each part where PEFT puts it:
    /// <c>W0 + c·ΔW</c> (LoRA, LoHa), <c>W0 · R</c> (HRA and OFT rotate the input), <c>diag(s) · W0 · R</c> (BOFT scales the
    /// output), <c>diag(m) · normalize(W0 + c·B A)</c> (DoRA). Names alone are not enough: <c>oft(…) * frozen dense</c> has
    /// OFT's tensors but rotates the output, and would load a PEFT file into a different function.
    /// </summary>
    internal static bool IsPeftForm(BoundExpression body)
    {
        static bool Base(BoundExpression e) => e is BoundDense { Frozen: true };
        static BoundExpression Unscaled(BoundExpression e) => e is BoundScale s ? s.Operand : e;
        if (body is BoundSum { Terms.Count: 2 } sum)
            return sum.Terms.Any(Base) && sum.Terms.Any(t => Unscaled(t) is BoundLowRank or BoundHadamard);
        if (body is not BoundProduct product) return false;
        var f = ExpressionPaths.Factors(product);
        return f.Count switch
        {
            2 => (Base(f[0]) && f[1] is BoundHouseholder or BoundOft) || (f[0] is BoundDiagonal && f[1] is BoundNormalize { LowRank: not null }),
            3 => f[0] is BoundDiagonal && Base(f[1]) && f[2] is BoundBoft,
            _ => false,
        };
    }

    private static bool IsDiagonal(IrParameter p) => p.Name == "diag" || p.Name.EndsWith(".diag", System.StringComparison.Ordinal);
}
