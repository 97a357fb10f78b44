using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using ILGPU.Runtime;

namespace StructMat.Runtime.Gpu;

/// <summary>
/// Loaded ILGPU kernels, once per (accelerator, key). Loading compiles the kernel (≈ 150–200 ms the first
/// time), so generated layers fetch their launchers here on every call. The table is weak in the
/// accelerator: a disposed and unreferenced accelerator takes its kernels with it.
/// </summary>
public static class KernelCache
{
    private static readonly ConditionalWeakTable<Accelerator, ConcurrentDictionary<string, object>> Kernels = new();

    /// <summary>
    /// The kernel stored under <paramref name="key"/> for <paramref name="accelerator"/>, loading it with
    /// <paramref name="load"/> on first use. Concurrent first calls load it once.
    /// </summary>
    /// <exception cref="InvalidCastException">The key was first loaded as a different kernel type.</exception>
    public static TKernel GetOrLoad<TKernel>(Accelerator accelerator, string key, Func<Accelerator, TKernel> load)
        where TKernel : class
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(load);
        var kernels = Kernels.GetValue(accelerator, static _ => new ConcurrentDictionary<string, object>(StringComparer.Ordinal));
        // Lazy makes the load run once even when two threads miss at the same time
        // (ConcurrentDictionary.GetOrAdd alone may run the factory twice).
        var entry = (Lazy<object>)kernels.GetOrAdd(key, _ => new Lazy<object>(() => load(accelerator) ?? throw new InvalidOperationException($"The loader for kernel '{key}' returned null.")));
        object kernel;
        try
        {
            kernel = entry.Value;
        }
        catch
        {
            // Lazy would replay a failed load forever; forget it so that a later call tries again.
            kernels.TryRemove(new KeyValuePair<string, object>(key, entry));
            throw;
        }
        return kernel as TKernel
            ?? throw new InvalidCastException($"Kernel '{key}' is cached as {kernel.GetType()}, not {typeof(TKernel)}.");
    }
}
