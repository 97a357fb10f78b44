using System;
using System.Threading;

namespace StructMat.Runtime;

/// <summary>
/// Guards an operation that must not run on two threads at once (a layer's <c>Backward</c> accumulates into
/// shared gradients; a GPU twin shares one device workspace): a second concurrent caller gets an
/// <see cref="InvalidOperationException"/> instead of silently corrupted results.
/// </summary>
public sealed class ExclusiveUse
{
    private readonly string _what;
    private int _busy;

    public ExclusiveUse(string what) => _what = what ?? throw new ArgumentNullException(nameof(what));

    /// <summary>Marks the operation as running until the returned scope is disposed.</summary>
    public Scope Enter()
    {
        if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            throw new InvalidOperationException(
                $"{_what} is already running on another thread. It accumulates into shared state: use one instance per thread, or call it from one thread at a time.");
        }
        return new Scope(this);
    }

    public readonly struct Scope : IDisposable
    {
        private readonly ExclusiveUse _owner;

        internal Scope(ExclusiveUse owner) => _owner = owner;

        public void Dispose() => Volatile.Write(ref _owner._busy, 0);
    }
}
