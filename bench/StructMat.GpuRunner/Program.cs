using System;
using StructMat.GpuRunner;

// Validates (check) and times (bench) the generated ILGPU kernels on a CUDA device; docs/gpu-benchmarks.md.
//   dotnet run -c Release --project bench/StructMat.GpuRunner -- --cpu check   # dry run, seconds (CI runs it)
//   StructMat.GpuRunner check && StructMat.GpuRunner bench --out results.json   # on a GPU machine (scripts/gpu/)
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine(RunnerOptions.Usage);
    return args.Length == 0 ? ExitCodes.Usage : ExitCodes.Ok;
}

RunnerOptions options;
try
{
    options = RunnerOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    Console.Error.WriteLine(RunnerOptions.Usage);
    return ExitCodes.Usage;
}

using var choice = AcceleratorChoice.Open(options.Cpu);
if (choice.Accelerator is not { } accelerator)
{
    Console.Error.WriteLine($"no CUDA accelerator: {choice.NoCudaReason}");
    Console.Error.WriteLine("(run with --cpu for the dry run on ILGPU's CPU accelerator; exit code 3)");
    return ExitCodes.NoCuda;
}

var device = DeviceInfo.Read(accelerator, options.ClockMhz);
Console.WriteLine(device.Describe());
if (options.Cpu) Console.WriteLine("--cpu: ILGPU's CPU accelerator, tiny shapes — a dry run of the runner's logic, not a GPU measurement.");
return options.Mode switch
{
    "check" => CheckMode.Run(options, accelerator, device),
    "bench" => BenchMode.Run(options, accelerator, device),
    _ => ExitCodes.Ok, // info: the description above
};
