using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/StructMat.Bench -- --filter '*' [--job short]
BenchmarkSwitcher.FromAssembly(typeof(StructMat.Bench.ForwardBenchmarks).Assembly).Run(args);
