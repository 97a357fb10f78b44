// QuickStart: a dense MLP and a Monarch MLP, declared in layers.smx and generated at build time,
// trained side by side on 10,000 real MNIST digits.
//
//   dotnet run -c Release --project samples/QuickStart [-- --epochs N]
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using QuickStart;
using QuickStart.Layers;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

var options = new TrainingOptions(Epochs: ParseEpochs(args, defaultEpochs: 10), BatchSize: 64, LearningRate: 1e-3f, Seed: 42);
const double testFraction = 0.2;

var total = Stopwatch.StartNew();
string directory;
Digits all;
try
{
    directory = MnistDigits.FindDirectory();
    all = MnistDigits.Load(directory);
}
catch (Exception e) when (e is IOException or InvalidDataException or System.Text.Json.JsonException)
{
    Console.Error.WriteLine($"QuickStart: cannot load the MNIST digits. {e.Message}");
    return 1;
}
var (train, test) = Split.Stratified(all, testFraction, options.Seed);
Console.WriteLine($"Data: {all.Count:N0} real MNIST digits (28x28, {Digits.Classes} classes) from {MnistDigits.Source} ({directory}); " +
                  $"stratified split, seed {options.Seed}: {train.Count:N0} train / {test.Count:N0} test.");
Console.WriteLine($"Training: {options.Epochs} epochs, minibatch {options.BatchSize}, Adam lr {options.LearningRate}, ReLU MLP 784 -> hidden -> 10.");

var models = new[]
{
    new Mlp("Dense", new DenseHidden(seed: options.Seed), new DenseOut(seed: options.Seed + 1), options.BatchSize),
    new Mlp("Monarch", new MonarchHidden(seed: options.Seed), new MonarchOut(seed: options.Seed + 1), options.BatchSize),
};

var results = new List<TrainingResult>();
foreach (var model in models)
    results.Add(Trainer.Run(model, train, test, options, Console.WriteLine));

Console.WriteLine();
ResultsTable.Print(results, Console.Out);
Console.WriteLine();
Console.WriteLine($"Total wall time: {total.Elapsed.TotalSeconds:F1} s");
return 0;

static int ParseEpochs(string[] args, int defaultEpochs)
{
    int at = Array.IndexOf(args, "--epochs");
    if (at < 0) return defaultEpochs;
    if (at + 1 < args.Length && int.TryParse(args[at + 1], out int epochs) && epochs > 0) return epochs;
    throw new ArgumentException("--epochs needs a positive integer, e.g. --epochs 3.");
}
