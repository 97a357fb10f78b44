using System;
using System.Runtime.InteropServices;

namespace StructMat.Measurement;

/// <summary>
/// OpenBLAS's <c>cblas_sgemm</c>, loaded at run time with <see cref="NativeLibrary.TryLoad(string, out IntPtr)"/>
/// (Debian: <c>apt-get install libopenblas0-pthread</c>, which provides <c>libopenblas.so.0</c>). The 32-bit
/// integer interface (<c>blasint</c> = int) of the standard build is assumed; the ILP64 build is
/// <c>libopenblas64</c>, which is not looked for. <c>STRUCTMAT_BENCH_NO_OPENBLAS=1</c> pretends it is absent.
/// </summary>
internal sealed unsafe class OpenBlas
{
    private const int RowMajor = 101;
    private const int NoTrans = 111;
    private const int Trans = 112;

    private static readonly string[] s_names = { "libopenblas.so.0", "libopenblas.so", "libopenblas.dylib", "libopenblas.dll", "openblas" };
    private static readonly Lazy<OpenBlas?> s_instance = new(Load);

    private readonly delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> _sgemm;

    private OpenBlas(string libraryName, IntPtr handle, IntPtr sgemm)
    {
        LibraryName = libraryName;
        _sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)sgemm;
        Config = NativeLibrary.TryGetExport(handle, "openblas_get_config", out var config)
            ? Marshal.PtrToStringAnsi(((delegate* unmanaged<IntPtr>)config)()) ?? "" : "";
        Threads = NativeLibrary.TryGetExport(handle, "openblas_get_num_threads", out var threads)
            ? ((delegate* unmanaged<int>)threads)() : 0;
    }

    /// <summary>The loaded library, or null when no OpenBLAS could be loaded.</summary>
    public static OpenBlas? Instance => s_instance.Value;

    public string LibraryName { get; }

    /// <summary><c>openblas_get_config()</c>: version, build options and the core it picked.</summary>
    public string Config { get; }

    /// <summary><c>openblas_get_num_threads()</c> (0 if the library does not export it).</summary>
    public int Threads { get; }

    public string Describe() => $"{LibraryName}: {Config}, {Threads} thread(s)";

    /// <summary>Row-major <c>y = x · Wᵀ</c>: x [batch, n], W [n, n] ([out, in]), y [batch, n].</summary>
    public void Forward(float[] x, float[] w, float[] y, int batch, int n) => Forward(x, w, y, batch, n, n);

    /// <summary>Row-major <c>y = x · Wᵀ</c>: x [batch, in], W [out, in], y [batch, out].</summary>
    public void Forward(float[] x, float[] w, float[] y, int batch, int inFeatures, int outFeatures)
    {
        fixed (float* px = x, pw = w, py = y)
            _sgemm(RowMajor, NoTrans, Trans, batch, outFeatures, inFeatures, 1f, px, inFeatures, pw, inFeatures, 0f, py, outFeatures);
    }

    /// <summary><c>dx = dy · W</c> (overwritten) and <c>dW += dyᵀ · x</c> (accumulated, as layers accumulate gradients).</summary>
    public void Backward(float[] x, float[] w, float[] dy, float[] dx, float[] dw, int batch, int n) => Backward(x, w, dy, dx, dw, batch, n, n);

    /// <summary>As the square overload, for x [batch, in], W and dW [out, in], dy [batch, out], dx [batch, in].</summary>
    public void Backward(float[] x, float[] w, float[] dy, float[] dx, float[] dw, int batch, int inFeatures, int outFeatures)
    {
        fixed (float* px = x, pw = w, pdy = dy, pdx = dx, pdw = dw)
        {
            _sgemm(RowMajor, NoTrans, NoTrans, batch, inFeatures, outFeatures, 1f, pdy, outFeatures, pw, inFeatures, 0f, pdx, inFeatures);
            _sgemm(RowMajor, Trans, NoTrans, outFeatures, inFeatures, batch, 1f, pdy, outFeatures, px, inFeatures, 1f, pdw, inFeatures);
        }
    }

    private static OpenBlas? Load()
    {
        // For checking the fallback path on a machine that has OpenBLAS.
        if (Environment.GetEnvironmentVariable("STRUCTMAT_BENCH_NO_OPENBLAS") == "1") return null;
        foreach (var name in s_names)
        {
            if (!NativeLibrary.TryLoad(name, out var handle)) continue;
            if (NativeLibrary.TryGetExport(handle, "cblas_sgemm", out var sgemm)) return new OpenBlas(name, handle, sgemm);
            NativeLibrary.Free(handle);
        }
        return null;
    }
}
