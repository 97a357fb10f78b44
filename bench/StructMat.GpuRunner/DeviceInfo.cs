using System;
using System.Globalization;
using System.Text.Json.Nodes;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace StructMat.GpuRunner;

/// <summary>
/// What ILGPU reports about the accelerator, and the fp32 FMA peak derived from it:
/// peak FLOP/s = multiprocessors × FP32 lanes per multiprocessor × 2 (an FMA is two FLOPs) × SM clock.
/// The clock is CUDA's <c>CU_DEVICE_ATTRIBUTE_CLOCK_RATE</c> (the maximum boost clock, in kHz) unless
/// <c>--clock-mhz</c> overrides it (for example with <c>nvidia-smi --query-gpu=clocks.max.sm</c>).
/// </summary>
public sealed record DeviceInfo(
    string AcceleratorType,
    string Name,
    int Multiprocessors,
    int WarpSize,
    long MemoryBytes,
    int? ClockKhz,
    string? ClockSource,
    int? MemoryClockKhz,
    int? MemoryBusWidthBits,
    int? L2CacheBytes,
    string? ComputeCapability,
    string? DriverVersion,
    string? PtxInstructionSet,
    int? Fp32LanesPerMultiprocessor)
{
    public const string PeakFormula = "multiprocessors × FP32 lanes per multiprocessor × 2 FLOP per FMA × SM clock";

    /// <summary>fp32 FMA peak in GFLOP/s, or null where the clock or the lane count is unknown.</summary>
    public double? Fp32PeakGflops =>
        ClockKhz is > 0 && Fp32LanesPerMultiprocessor is > 0
            ? Multiprocessors * (double)Fp32LanesPerMultiprocessor.Value * 2.0 * ClockKhz.Value * 1e-6
            : null;

    public static DeviceInfo Read(Accelerator accelerator, double? clockMhzOverride)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        if (accelerator is not CudaAccelerator cuda)
        {
            return new DeviceInfo(accelerator.AcceleratorType.ToString(), accelerator.Name, accelerator.NumMultiprocessors,
                accelerator.WarpSize, accelerator.MemorySize, null, null, null, null, null, null, null, null, null);
        }
        var arch = cuda.Architecture;
        var capability = $"{arch.Major}.{arch.Minor}";
        int? clock = cuda.ClockRate;
        var source = "CUDA device attribute CLOCK_RATE (maximum SM clock)";
        if (clockMhzOverride is > 0)
        {
            clock = (int)Math.Round(clockMhzOverride.Value * 1000);
            source = "--clock-mhz";
        }
        var isa = cuda.InstructionSet;
        return new DeviceInfo(
            "Cuda", cuda.Name, cuda.NumMultiprocessors, cuda.WarpSize, cuda.MemorySize,
            clock, source, cuda.MemoryClockRate, cuda.MemoryBusWidth, cuda.L2CacheSize, capability,
            $"{cuda.DriverVersion.Major}.{cuda.DriverVersion.Minor}",
            $"{isa.Major}.{isa.Minor}",
            Fp32Lanes(arch.Major, arch.Minor));
    }

    /// <summary>FP32 lanes per SM by compute capability (CUDA C++ Programming Guide, arithmetic instruction throughput).</summary>
    public static int? Fp32Lanes(int major, int minor) => (major, minor) switch
    {
        (5, _) => 128,
        (6, 0) => 64,
        (6, _) => 128,
        (7, _) => 64,
        (8, 0) => 64,
        (8, _) => 128, // 8.6, 8.7, 8.9
        (9, 0) => 128, // Hopper (H100, H200)
        (10, _) or (12, _) => 128,
        _ => null,
    };

    public JsonObject ToJson() => new()
    {
        ["accelerator"] = AcceleratorType,
        ["name"] = Name,
        ["multiprocessors"] = Multiprocessors,
        ["warp_size"] = WarpSize,
        ["memory_bytes"] = MemoryBytes,
        ["clock_khz"] = ClockKhz,
        ["clock_source"] = ClockSource,
        ["memory_clock_khz"] = MemoryClockKhz,
        ["memory_bus_width_bits"] = MemoryBusWidthBits,
        ["l2_cache_bytes"] = L2CacheBytes,
        ["compute_capability"] = ComputeCapability,
        ["cuda_driver_version"] = DriverVersion,
        ["ptx_isa"] = PtxInstructionSet,
        ["fp32_lanes_per_multiprocessor"] = Fp32LanesPerMultiprocessor,
        ["fp32_fma_peak_gflops"] = Fp32PeakGflops,
        ["peak_formula"] = PeakFormula,
    };

    public string Describe()
    {
        var ci = CultureInfo.InvariantCulture;
        var memory = MemoryBytes < (1L << 50) ? string.Format(ci, "{0:F1} GiB", MemoryBytes / (1024.0 * 1024 * 1024)) : "host memory";
        var text = $"{AcceleratorType} accelerator: {Name}, {Multiprocessors} multiprocessors, warp {WarpSize}, {memory}";
        if (ComputeCapability is not null) text += $", compute capability {ComputeCapability}";
        if (DriverVersion is not null) text += $", CUDA driver API {DriverVersion}";
        if (PtxInstructionSet is not null) text += $", PTX ISA {PtxInstructionSet}";
        if (ClockKhz is not null) text += string.Format(ci, ", SM clock {0:F0} MHz ({1})", ClockKhz / 1000.0, ClockSource);
        if (Fp32PeakGflops is { } peak)
            text += string.Format(ci, "\nfp32 FMA peak {0:F0} GFLOP/s = {1} SMs × {2} lanes × 2 × {3:F3} GHz", peak, Multiprocessors, Fp32LanesPerMultiprocessor, ClockKhz!.Value * 1e-6);
        else if (AcceleratorType == "Cuda")
            text += "\nfp32 FMA peak unknown (no clock or unknown compute capability; pass --clock-mhz)";
        return text;
    }
}
