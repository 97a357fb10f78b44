using System;
using System.Buffers;
using System.Collections.Generic;

namespace StructMat.Runtime.Kernels;

/// <summary>
/// Packed weight panels kept for the length of one scope on one thread (a worker of <see cref="BatchTiles"/>, or one
/// thread's strips of a staged product or backward), so that weights are packed once per thread instead of once per
/// tile or strip. Only weights are cached (the <see cref="GroupedProduct.BIsParameter"/> operands), and only while a
/// scope is open: a layer's parameters do not change during its forward or backward pass.
/// </summary>
internal sealed class PackCache : IDisposable
{
    [ThreadStatic]
    private static PackCache? t_current;

    private readonly PackCache? _outer;
    private readonly List<(PackKey Key, float[] Buffer)> _entries = new();

    private PackCache(PackCache? outer) => _outer = outer;

    /// <summary>Whether a scope is open on this thread.</summary>
    public static bool IsOpen => t_current is not null;

    /// <summary>Opens a scope on this thread; disposing it returns the buffers and restores the outer scope.</summary>
    public static PackCache Enter() => t_current = new PackCache(t_current);

    /// <summary>
    /// A buffer of at least <paramref name="length"/> floats for B's packed form in <paramref name="engine"/>'s layout.
    /// When B is a parameter and a scope is open, the scope's buffer (<paramref name="fresh"/> false if B is already
    /// packed in it) and the scope owns it; otherwise a rented buffer to fill, which the caller returns
    /// (<paramref name="owned"/>).
    /// </summary>
    public static float[] BufferForB(in GroupedProduct p, int engine, int length, out bool fresh, out bool owned)
    {
        var cache = p.BIsParameter ? t_current : null;
        var key = p.PackKeyOfB(engine);
        var buffer = cache?.Find(key);
        fresh = buffer is null;
        owned = cache is null;
        if (buffer is not null) return buffer;
        buffer = ArrayPool<float>.Shared.Rent(length);
        cache?.Add(key, buffer);
        return buffer;
    }

    private float[]? Find(in PackKey key)
    {
        foreach (var (k, buffer) in _entries)
            if (k.Equals(key)) return buffer;
        return null;
    }

    /// <summary>Takes ownership of <paramref name="buffer"/> (rented from the shared pool) until the scope ends.</summary>
    private void Add(in PackKey key, float[] buffer) => _entries.Add((key, buffer));

    public void Dispose()
    {
        foreach (var (_, buffer) in _entries) ArrayPool<float>.Shared.Return(buffer);
        _entries.Clear();
        t_current = _outer;
    }
}

/// <summary>What a packed buffer was packed from and how: the weight's address, view and the engine's layout.</summary>
internal readonly record struct PackKey(nint Data, nint RowStride, nint ColStride, nint GroupStride, int GroupXor, int Groups, int K, int N, int Engine);
