using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace StructMat.Runtime.IO;

/// <summary>
/// PEFT's names for a layer's tensors. A generated layer that is a PEFT form (one frozen base <c>dense</c> and an
/// adapter PEFT knows: LoRA, DoRA, LoHa, HRA, OFT, BOFT) gives each parameter its PEFT key after the module prefix
/// (<see cref="Parameter.PeftKey"/>): <c>base_layer.weight</c>, <c>lora_A.{adapter}.weight</c>, <c>hra_u.{adapter}</c>,
/// <c>oft_R.{adapter}.weight</c>. A <c>PeftModel</c>'s state dict holds them under the module's prefix with the adapter's
/// name (<c>base_model.model.layers.0.q_proj.oft_R.default.weight</c>); the <c>adapter_model.safetensors</c> that
/// <c>save_pretrained</c> writes drops the adapter's name (<c>….q_proj.oft_R.weight</c>) and holds no base weights.
/// </summary>
public static class PeftNames
{
    private const string AdapterSlot = "{adapter}";
    private const string BasePrefix = "base_layer.";

    /// <summary>
    /// The map from PEFT keys to <paramref name="layer"/>'s parameter names for the module at
    /// <paramref name="modulePrefix"/> (e.g. <c>base_model.model.layers.0.self_attn.q_proj</c>); with
    /// <paramref name="adapter"/> null the keys have no adapter name, as in a saved adapter file.
    /// </summary>
    /// <exception cref="ArgumentException">The layer is not a PEFT form (none of its parameters has a PEFT key).</exception>
    public static IReadOnlyDictionary<string, string> Map(IStructuredLayer layer, string modulePrefix, string? adapter = "default")
    {
        ArgumentNullException.ThrowIfNull(layer);
        return Keyed(layer, nameof(layer)).ToDictionary(p => Key(p, modulePrefix, adapter), p => p.Name, StringComparer.Ordinal);
    }

    /// <summary>The PEFT key of <paramref name="parameter"/> in the module at <paramref name="modulePrefix"/>.</summary>
    public static string Key(Parameter parameter, string modulePrefix, string? adapter = "default")
    {
        ArgumentNullException.ThrowIfNull(parameter);
        ArgumentNullException.ThrowIfNull(modulePrefix);
        if (parameter.PeftKey is not { } key) throw new ArgumentException($"Parameter '{parameter.Name}' has no PEFT key.", nameof(parameter));
        if (adapter is { Length: 0 } || adapter is not null && adapter.Contains('.'))
            throw new ArgumentException($"The adapter name '{adapter}' is not a PEFT adapter name (non-empty, no '.'); pass null for keys without one.", nameof(adapter));
        var local = adapter is null ? SavedKey(key) : key.Replace(AdapterSlot, adapter, StringComparison.Ordinal);
        return modulePrefix.Length == 0 ? local : modulePrefix.TrimEnd('.') + "." + local;
    }

    /// <summary>
    /// Fills <paramref name="layer"/>'s parameters from the module at <paramref name="modulePrefix"/> of a PEFT
    /// <c>.safetensors</c> file that may hold other modules too. With <paramref name="adapterOnly"/> only the adapter's
    /// tensors load (a saved <c>adapter_model.safetensors</c> has no <c>base_layer.*</c>; load the base from the model's
    /// own file). Shapes may differ by unit dimensions (PEFT's <c>boft_s [out, 1]</c>); everything is checked before
    /// any parameter is written.
    /// </summary>
    /// <exception cref="ArgumentException">The layer is not a PEFT form; or, without <paramref name="adapterOnly"/>, it has a
    /// tensor with no PEFT key (a quantised base, whose layout bitsandbytes saves differently: load its adapter with
    /// <paramref name="adapterOnly"/> and the base, and a bias, with <c>Quantize</c> or <c>LoadSafeTensors</c>).</exception>
    /// <exception cref="InvalidDataException">A key is missing (named, with the keys of the file that end like it, which
    /// usually show the right prefix or adapter name), or a shape does not fit.</exception>
    public static void Load(IStructuredLayer layer, string path, string modulePrefix, string? adapter = "default", bool adapterOnly = false)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(path);
        var keyed = Keyed(layer, nameof(layer));
        if (!adapterOnly && layer.Parameters.FirstOrDefault(p => p.PeftKey is null) is { } unkeyed)
            throw new ArgumentException(
                $"{layer.GetType().Name}'s '{unkeyed.Name}' has no PEFT key (a quantised base: bitsandbytes saves its own layout); " +
                "load the adapter with adapterOnly: true and the base with Quantize or LoadSafeTensors.", nameof(adapterOnly));
        var wanted = keyed.Where(p => !adapterOnly || !p.PeftKey!.StartsWith(BasePrefix, StringComparison.Ordinal)).ToList();
        var names = SafeTensors.TensorNames(path).ToHashSet(StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var p in wanted)
        {
            var key = Key(p, modulePrefix, adapter);
            if (names.Contains(key)) continue;
            var tail = "." + SavedKey(p.PeftKey!).Split('.')[0] + ".";
            var near = names.Where(k => k.Contains(tail, StringComparison.Ordinal) || k.EndsWith(tail.TrimEnd('.'), StringComparison.Ordinal))
                .OrderBy(k => k, StringComparer.Ordinal).Take(3).ToList();
            missing.Add($"'{key}' for {p.Name}" + (near.Count == 0 ? "" : $" (the file has {string.Join(", ", near.Select(k => "'" + k + "'"))})"));
        }
        if (missing.Count > 0)
            throw new InvalidDataException($"PEFT file '{path}' lacks {string.Join("; ", missing)}.");
        // Only this module's tensors are read (from the header's offsets), each into its parameter.
        var parameterOf = wanted.ToDictionary(p => Key(p, modulePrefix, adapter), p => p.Name, StringComparer.Ordinal);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        SafeTensors.LoadFrom(stream, $"'{path}' (PEFT module '{modulePrefix}')", wanted,
            name => parameterOf.TryGetValue(name, out var parameter) ? parameter : "\u0000" + name, strict: false, unitDimensions: true);
    }

    // save_pretrained drops the adapter's name; for DoRA's magnitude it also drops ".weight" (PEFT's
    // LoraModel._get_adapter_state_dict keeps the format from before lora_magnitude_vector became a module).
    private static string SavedKey(string key)
    {
        var saved = key.Replace("." + AdapterSlot, "", StringComparison.Ordinal);
        return saved == MagnitudeSaved + ".weight" ? MagnitudeSaved : saved;
    }

    private const string MagnitudeSaved = "lora_magnitude_vector";

    private static IReadOnlyList<Parameter> Keyed(IStructuredLayer layer, string argument)
    {
        var keyed = layer.Parameters.Where(p => p.PeftKey is not null).ToList();
        if (keyed.Count == 0)
            throw new ArgumentException(
                $"{layer.GetType().Name} is not a PEFT form: PEFT names tensors of one frozen base dense and an adapter it knows (LoRA, DoRA, LoHa, HRA, OFT, BOFT), " +
                "and this layer is not such a pair. Pass a name map to LoadSafeTensors instead.", argument);
        return keyed;
    }
}
