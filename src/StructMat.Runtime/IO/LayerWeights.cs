using System;
using System.Collections.Generic;

namespace StructMat.Runtime.IO;

/// <summary>Saves and loads a layer's parameters (frozen ones included) as <c>.safetensors</c>, under the design's names.</summary>
public static class LayerWeights
{
    /// <summary>Writes every parameter of <paramref name="layer"/> to <paramref name="path"/> (see <see cref="SafeTensors.Save(string, IEnumerable{Parameter}, IReadOnlyDictionary{string, string}?)"/>).</summary>
    public static void SaveSafeTensors(this IStructuredLayer layer, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(layer);
        SafeTensors.Save(path, layer.Parameters, metadata);
    }

    /// <summary>Fills every parameter of <paramref name="layer"/> from <paramref name="path"/> (see <see cref="SafeTensors.Load(string, IReadOnlyList{Parameter}, bool)"/>).</summary>
    public static void LoadSafeTensors(this IStructuredLayer layer, string path, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(layer);
        SafeTensors.Load(path, layer.Parameters, strict);
    }

    /// <summary>
    /// Fills every parameter from a file whose tensors have other names, e.g. a PEFT adapter:
    /// <c>{ ["base_layer.weight"] = "terms.0.weight", ["lora_A.weight"] = "terms.1.lora_A", ["lora_B.weight"] = "terms.1.lora_B" }</c>.
    /// </summary>
    public static void LoadSafeTensors(this IStructuredLayer layer, string path, IReadOnlyDictionary<string, string> fileNames, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(layer);
        SafeTensors.Load(path, layer.Parameters, fileNames, strict);
    }

    /// <summary>
    /// Fills the parameters from the module at <paramref name="modulePrefix"/> of a PEFT file, with no hand-written map
    /// (see <see cref="PeftNames.Load"/>): <c>layer.LoadPeft("adapter_model.safetensors", "base_model.model.model.layers.0.self_attn.q_proj", adapter: null, adapterOnly: true)</c>.
    /// </summary>
    public static void LoadPeft(this IStructuredLayer layer, string path, string modulePrefix, string? adapter = "default", bool adapterOnly = false) =>
        PeftNames.Load(layer, path, modulePrefix, adapter, adapterOnly);
}
