using System;
using System.IO;
using System.Linq;
using BenchmarkDotNet.Running;
using StructMat.Bench;

// Full suite (about 10–15 minutes on 2 cores; docs/benchmarks.md):
//   dotnet run -c Release --project bench/StructMat.Bench -- --filter '*'
// then: python3 scripts/bench/report.py
// Smoke test of every benchmark body (seconds, not a measurement):
//   dotnet run -c Release --project bench/StructMat.Bench -- --quick
if (args.Contains("--quick")) return QuickMode.Run();
// A layer's first call against its steady state, each case in a fresh process (issue 16):
//   dotnet run -c Release --project bench/StructMat.Bench -- --first-call
if (args.Contains("--first-call")) return FirstCallProbe.Run();
if (Array.IndexOf(args, "--first-call-one") is var one and >= 0) return FirstCallProbe.RunOne(args[one + 1], int.Parse(args[one + 2], System.Globalization.CultureInfo.InvariantCulture));
// Loading a 2 GiB checkpoint, wrong and right (issue 16): dotnet run -c Release --project bench/StructMat.Bench -- --load /tmp
if (Array.IndexOf(args, "--load") is var load and >= 0) return LoadProbe.Run(load + 1 < args.Length ? args[load + 1] : Path.GetTempPath());

// StructMat's Forward against ONNX Runtime, quickly (not the reported figures):
//   dotnet run -c Release --project bench/StructMat.Bench -- --peer lowrank hra --n 1024 --batch 1,16
if (Array.IndexOf(args, "--peer") is var peer and >= 0) return PeerProbe.Run(args.Skip(peer + 1).ToArray());

Console.WriteLine($"Baseline: {LayerCatalog.Label(LayerCatalog.Baseline, 1024)}{(OpenBlas.Instance is { } blas ? " — " + blas.Describe() : "")}");
Console.WriteLine(FmaCeiling.Describe()); // measured before the benchmarks start, with the machine otherwise idle
var startedUtc = DateTime.UtcNow;
var summaries = BenchmarkSwitcher.FromAssembly(typeof(Workload).Assembly).Run(args, BenchConfig.Create(args)).ToArray();
foreach (var path in RunInfo.Write(summaries, args, startedUtc)) Console.WriteLine($"StructMat run info (for scripts/bench/report.py): {path}");
var failed = summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success));
return failed ? 1 : 0;
