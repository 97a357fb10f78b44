using System;
using System.Reflection;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using StructMat.Runtime.Gpu;

namespace StructMat.GpuRunner;

/// <summary>
/// Opens the accelerator a run uses: the first CUDA device (<see cref="Devices.TryCreateCudaAccelerator"/>), or with
/// <c>--cpu</c> ILGPU's CPU accelerator. Without either, <see cref="NoCudaReason"/> says why CUDA was not found.
/// </summary>
public sealed class AcceleratorChoice : IDisposable
{
    private AcceleratorChoice(Context context, Accelerator? accelerator, string? noCudaReason)
    {
        Context = context;
        Accelerator = accelerator;
        NoCudaReason = noCudaReason;
    }

    public Context Context { get; }

    /// <summary>Null when CUDA was asked for and none could be opened.</summary>
    public Accelerator? Accelerator { get; }

    public string? NoCudaReason { get; }

    public static AcceleratorChoice Open(bool cpu)
    {
        ResolveDriverLibrary();
        var context = Devices.CreateContext();
        if (cpu) return new AcceleratorChoice(context, Devices.CreateCpuAccelerator(context), null);
        var cuda = Devices.TryCreateCudaAccelerator(context);
        return new AcceleratorChoice(context, cuda, cuda is null ? Diagnose(context) : null);
    }

    public void Dispose()
    {
        Accelerator?.Dispose();
        Context.Dispose();
    }

    /// <summary>
    /// ILGPU imports the driver as "cuda", which .NET probes as libcuda.so; a machine with only the driver's runtime
    /// files has libcuda.so.1 (the -dev package adds the unversioned link). Try that name first, then the default probe.
    /// </summary>
    private static void ResolveDriverLibrary()
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(Context).Assembly, static (name, _, _) =>
                name == "cuda" && NativeLibrary.TryLoad("libcuda.so.1", out var handle) ? handle : IntPtr.Zero);
        }
        catch (InvalidOperationException)
        {
            // A resolver is already set for ILGPU (a second Open in one process, or ILGPU's own): keep it.
        }
    }

    /// <summary>Why <see cref="Devices.TryCreateCudaAccelerator"/> returned null, as far as the process can tell.</summary>
    private static string Diagnose(Context context)
    {
        var loaded = OperatingSystem.IsLinux()
            ? NativeLibrary.TryLoad("libcuda.so.1", out _) || NativeLibrary.TryLoad("libcuda.so", out _)
            : NativeLibrary.TryLoad("nvcuda", out _);
        if (!loaded) return "the CUDA driver library (libcuda.so.1) could not be loaded: no NVIDIA driver on this machine";
        try
        {
            var devices = context.GetCudaDevices();
            if (devices.Count == 0)
            {
                var visible = Environment.GetEnvironmentVariable("CUDA_VISIBLE_DEVICES");
                return "the CUDA driver loaded but ILGPU found no CUDA device"
                       + (visible is null ? "" : $" (CUDA_VISIBLE_DEVICES={visible})")
                       + "; check nvidia-smi";
            }
            using var accelerator = devices[0].CreateAccelerator(context);
            return $"ILGPU created an accelerator on {devices[0].Name} only on a second try; run again";
        }
        catch (Exception e)
        {
            var inner = e is TargetInvocationException { InnerException: { } i } ? i : e;
            return $"creating an accelerator on the first CUDA device failed: {inner.GetType().Name}: {inner.Message}";
        }
    }
}
