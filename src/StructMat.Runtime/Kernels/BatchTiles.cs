using System;
using System.Buffers;
using System.Collections.Generic;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Threading.Tasks;

namespace StructMat.Runtime.Kernels;

/// <summary>
/// Runs a layer's forward pass one batch tile at a time: each thread takes a run of tiles and runs the whole op
/// sequence on one tile before the next, so a tile's intermediates are still in cache when the next op reads them
/// (a Monarch layer's middle activation, the terms of a sum). The kernels inside a tile run on their thread alone,
/// and each weight is packed once per thread, not once per tile.
/// </summary>
/// <remarks>
/// Rows are independent in a forward pass and every kernel computes a row the same way whatever the rows beside
/// it, so the result is the same, bit for bit, as one call over the whole batch.
/// </remarks>
public static unsafe class BatchTiles
{
    /// <summary>The forward pass over <paramref name="rows"/> rows: <paramref name="x"/> <c>[rows, in]</c> to <paramref name="y"/> <c>[rows, out]</c>.</summary>
    public delegate void TileAction(ReadOnlySpan<float> x, Span<float> y, int rows);

    /// <summary>
    /// Calls <paramref name="body"/> on tiles of at most <paramref name="tileRows"/> rows (fewer where that shares the
    /// tiles out more evenly over the cores, see <see cref="BalancedTileRows"/>), in parallel over the cores; a batch of
    /// one tile (or a call from a thread already marked serial) runs as one call.
    /// </summary>
    /// <param name="parameters">
    /// The layer's parameters, pinned for the call: the weights <paramref name="body"/> passes to the block kernels
    /// must be among them and must not change during the call, because each thread keeps them packed, by address,
    /// from one tile to the next (pinning keeps an address from passing to another array meanwhile).
    /// </param>
    public static void Run(ReadOnlySpan<float> x, Span<float> y, int batch, int inWidth, int outWidth, int tileRows, IReadOnlyList<Parameter> parameters, TileAction body)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(body);
        int inSize = KernelArguments.Rows(batch, inWidth);
        int outSize = KernelArguments.Rows(batch, outWidth);
        if (tileRows <= 0) throw new ArgumentException($"{nameof(tileRows)} must be positive, got {tileRows}.", nameof(tileRows));
        KernelArguments.Length(x.Length, inSize, nameof(x), "batch * inWidth");
        KernelArguments.Length(y.Length, outSize, nameof(y), "batch * outWidth");
        x = x.Slice(0, inSize);
        y = y.Slice(0, outSize);
        if (!KernelThreading.MaySplit(batch, minimum: tileRows))
        {
            body(x, y, batch);
            return;
        }

        tileRows = BalancedTileRows(batch, tileRows, Environment.ProcessorCount);
        int tiles = (batch + tileRows - 1) / tileRows;
        int workers = Math.Min(tiles, Environment.ProcessorCount);
        using (new PinnedWeights(parameters))
        {
            fixed (float* px = x, py = y)
            {
                nint xAddress = (nint)px, yAddress = (nint)py;
                // Tiles are handed out one at a time (the shared machine's other load decides who is faster); the
                // scopes are opened once per worker, so each worker packs each weight once.
                Parallel.For(0, tiles, new ParallelOptions { MaxDegreeOfParallelism = workers },
                    () => new WorkerScope(),
                    (tile, _, scope) =>
                    {
                        int start = tile * tileRows, rows = Math.Min(tileRows, batch - start);
                        body(new ReadOnlySpan<float>((float*)xAddress + (long)start * inWidth, rows * inWidth),
                            new Span<float>((float*)yAddress + (long)start * outWidth, rows * outWidth),
                            rows);
                        return scope;
                    },
                    scope => scope.Dispose());
            }
        }
    }

    /// <summary>
    /// Rows per forward tile, at most <paramref name="tileRows"/>, such that the tiles share out evenly over
    /// <paramref name="workers"/>: the multiple of 8 (a register tile's rows) from <paramref name="tileRows"/> down to
    /// 64 (or <paramref name="tileRows"/> itself, if smaller) whose busiest worker gets the fewest rows, the largest on
    /// a tie. At batch 1024 on 2 cores, tiles of 80 rows come 13 to a batch and one core runs 7 of them (544 rows)
    /// while the other runs 6; tiles of 64 give each core 512. A forward row's bits do not depend on its tile.
    /// </summary>
    internal static int BalancedTileRows(int batch, int tileRows, int workers)
    {
        int best = tileRows;
        long bestLoad = BusiestWorkerRows(batch, tileRows, workers);
        for (int rows = tileRows / 8 * 8; rows >= Math.Min(64, tileRows) && rows >= 8; rows -= 8)
        {
            long load = BusiestWorkerRows(batch, rows, workers);
            if (load < bestLoad) (best, bestLoad) = (rows, load);
        }
        return best;
    }

    /// <summary>Rows of the worker with the most tiles when <paramref name="batch"/> rows are cut into tiles of <paramref name="rows"/>.</summary>
    private static long BusiestWorkerRows(int batch, int rows, int workers)
    {
        long tiles = ((long)batch + rows - 1) / rows;
        long perWorker = (tiles + workers - 1) / workers;
        return Math.Min(batch, perWorker * rows);
    }

    /// <summary>The backward pass over <paramref name="rows"/> rows, adding parameter gradients into <paramref name="gradients"/>.</summary>
    public delegate void BackwardTileAction(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, int rows, GradientTargets gradients);

    /// <summary>Partial gradients the tiles of one backward call may hold, in floats (128 MB); past it the call is not tiled.</summary>
    private const long MaxPartialFloats = 32L << 20;

    /// <summary>
    /// The backward pass by batch tiles, like <see cref="Run"/> for the forward: each tile recomputes and propagates
    /// through the whole op sequence while its intermediates are in cache. Parameter gradients sum over the batch,
    /// so each tile adds into its own zeroed partial buffers, and the partials are added to the parameters'
    /// gradients in tile order afterwards: the result depends on the batch and the tile size, never on the threads.
    /// A batch of one tile, a serial thread, or partials past 128 MB run as one call on the parameters' own buffers.
    /// </summary>
    public static void RunBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, int batch, int inWidth, int outWidth, int tileRows, IReadOnlyList<Parameter> parameters, BackwardTileAction body)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(body);
        int inSize = KernelArguments.Rows(batch, inWidth);
        int outSize = KernelArguments.Rows(batch, outWidth);
        if (tileRows <= 0) throw new ArgumentException($"{nameof(tileRows)} must be positive, got {tileRows}.", nameof(tileRows));
        KernelArguments.Length(x.Length, inSize, nameof(x), "batch * inWidth");
        KernelArguments.Length(dy.Length, outSize, nameof(dy), "batch * outWidth");
        KernelArguments.Length(dx.Length, inSize, nameof(dx), "batch * inWidth");
        x = x.Slice(0, inSize);
        dy = dy.Slice(0, outSize);
        dx = dx.Slice(0, inSize);

        int tiles = (batch + tileRows - 1) / tileRows;
        long trainable = 0;
        foreach (var parameter in parameters) trainable += parameter.Gradient?.Length ?? 0;
        if (!KernelThreading.MaySplit(batch, minimum: tileRows) || tiles * trainable > MaxPartialFloats)
        {
            body(x, dy, dx, batch, GradientTargets.Of(parameters));
            return;
        }

        int workers = Math.Min(tiles, Environment.ProcessorCount);
        var lengths = new int[parameters.Count];
        for (int i = 0; i < lengths.Length; i++) lengths[i] = parameters[i].Gradient?.Length ?? 0;
        var partials = new float[]?[tiles][];
        var pins = new PinnedWeights(parameters);
        try
        {
            fixed (float* px = x, pdy = dy, pdx = dx)
            {
                nint xAddress = (nint)px, dyAddress = (nint)pdy, dxAddress = (nint)pdx;
                Parallel.For(0, tiles, new ParallelOptions { MaxDegreeOfParallelism = workers },
                    () => new WorkerScope(),
                    (tile, _, scope) =>
                    {
                        var buffers = new float[]?[lengths.Length];
                        for (int i = 0; i < buffers.Length; i++)
                        {
                            if (parameters[i].Gradient is null) continue;
                            buffers[i] = ArrayPool<float>.Shared.Rent(lengths[i]);
                            Array.Clear(buffers[i]!, 0, lengths[i]);
                        }
                        partials[tile] = buffers;
                        int start = tile * tileRows, rows = Math.Min(tileRows, batch - start);
                        body(new ReadOnlySpan<float>((float*)xAddress + (long)start * inWidth, rows * inWidth),
                            new ReadOnlySpan<float>((float*)dyAddress + (long)start * outWidth, rows * outWidth),
                            new Span<float>((float*)dxAddress + (long)start * inWidth, rows * inWidth),
                            rows,
                            new GradientTargets(buffers, lengths));
                        return scope;
                    },
                    scope => scope.Dispose());
            }

            // Fixed order: each element adds tile 0's partial, then tile 1's, …; element ranges split over threads.
            for (int i = 0; i < lengths.Length; i++)
            {
                if (parameters[i].Gradient is not { } gradient) continue;
                int length = lengths[i];
                int chunks = (int)Math.Clamp((long)length * tiles / (1 << 16), 1, KernelThreading.BalancingChunks);
                int parameter = i;
                KernelThreading.RunChunks(length, chunks, (start, end) =>
                {
                    var target = gradient.AsSpan(start, end - start);
                    for (int tile = 0; tile < tiles; tile++)
                        TensorPrimitives.Add(target, partials[tile]![parameter].AsSpan(start, end - start), target);
                });
            }
        }
        finally
        {
            pins.Dispose();
            foreach (var buffers in partials)
                if (buffers is not null)
                    foreach (var buffer in buffers)
                        if (buffer is not null) ArrayPool<float>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// The parameters' arrays pinned for one call: a pack cache keys weights by address, and pinning keeps an address
    /// from passing to another array while the call runs.
    /// </summary>
    private sealed class PinnedWeights : IDisposable
    {
        private readonly GCHandle[] _pins;

        public PinnedWeights(IReadOnlyList<Parameter> parameters)
        {
            _pins = new GCHandle[parameters.Count];
            try
            {
                for (int i = 0; i < _pins.Length; i++)
                    if (parameters[i].ElementType == ElementType.Float32) _pins[i] = GCHandle.Alloc(parameters[i].Data, GCHandleType.Pinned); // codes are never packed
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public void Dispose()
        {
            foreach (var pin in _pins)
                if (pin.IsAllocated) pin.Free();
        }
    }

    /// <summary>A worker's serial mark and pack cache, opened and closed on the worker's own thread.</summary>
    private sealed class WorkerScope : IDisposable
    {
        private readonly KernelThreading.SerialScope _serial = KernelThreading.EnterSerial();
        private readonly PackCache _cache = PackCache.Enter();

        public void Dispose()
        {
            _cache.Dispose();
            _serial.Dispose();
        }
    }
}
