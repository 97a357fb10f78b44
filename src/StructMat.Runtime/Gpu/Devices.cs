using System;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace StructMat.Runtime.Gpu;

/// <summary>Creates the ILGPU context and accelerators that generated layers run on.</summary>
public static class Devices
{
    /// <summary>
    /// A context with the CPU simulator (<see cref="CPUDeviceKind.Default"/>: 1 multiprocessor, 4 warps of 4
    /// threads, small and fast to simulate) and every CUDA device, if any.
    /// </summary>
    public static Context CreateContext() => Context.Create(builder => builder.CPU(CPUDeviceKind.Default).Cuda());

    /// <summary>The CPU accelerator: a correctness emulator for kernels, not a fast CPU path.</summary>
    public static Accelerator CreateCpuAccelerator(Context context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.GetCPUDevices().Count > 0
            ? context.CreateCPUAccelerator(0)
            : CPUDevice.Default.CreateAccelerator(context);
    }

    /// <summary>An accelerator on the first CUDA device, or null when there is none (no device, driver or library).</summary>
    public static Accelerator? TryCreateCudaAccelerator(Context context)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            var devices = context.GetCudaDevices();
            return devices.Count > 0 ? devices[0].CreateAccelerator(context) : null;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A broken or missing CUDA installation means "no CUDA here", never a crash.
            return null;
        }
    }
}
