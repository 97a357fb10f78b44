using System;
using System.Collections.Generic;
using System.Linq;
using StructMat.Runtime;

namespace StructMat.Layers.Tests;

/// <summary>Every layer the generator produced from tests/Cases/*.smx, found by reflection so a new case is tested automatically.</summary>
public static class LayerCatalog
{
    public static readonly Type[] Types = typeof(LayerCatalog).Assembly.GetTypes()
        .Where(t => t.Namespace == "StructMat.Tests.Cases" && typeof(IStructuredLayer).IsAssignableFrom(t))
        .OrderBy(t => t.Name)
        .ToArray();

    public static IEnumerable<object[]> Names => Types.Select(t => new object[] { t.Name });

    public static IStructuredLayer Create(string name, int seed = 0) =>
        (IStructuredLayer)Activator.CreateInstance(Types.Single(t => t.Name == name), seed)!;

    /// <summary>
    /// A layer whose every parameter (bias and zero-initialised LoRA factors included) holds random values,
    /// so no term of the structure can hide behind a zero.
    /// </summary>
    public static IStructuredLayer CreateRandomized(string name, int seed = 1)
    {
        var layer = Create(name);
        var random = new Random(seed);
        foreach (var p in layer.Parameters)
        {
            if (p.ElementType != ElementType.Float32)
            {
                random.NextBytes(p.Bytes); // any byte is a valid pair of NF4 codes or an int8 code
                continue;
            }
            for (var i = 0; i < p.Data.Length; i++) p.Data[i] = (float)(random.NextDouble() * 2 - 1);
        }
        return layer;
    }
}
