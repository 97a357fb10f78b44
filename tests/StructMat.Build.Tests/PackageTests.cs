using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Xml.Linq;
using StructMat.Build.Tests.Infrastructure;
using Xunit;

namespace StructMat.Build.Tests;

/// <summary>
/// The one `StructMat` NuGet package (packed from src/StructMat.Runtime): its layout and metadata, and a fresh
/// consumer that references only that package from a local feed, builds a .smx and runs the generated layer.
/// </summary>
[Collection(BuildCollection.Name)]
[Trait("Category", "Build")]
public sealed class PackageTests
{
    private static readonly string PackageProject = Repo.PathOf("src", "StructMat.Runtime");

    /// <summary>The consumer runs its exported model with the ONNX Runtime the repository's tests use.</summary>
    private static readonly string OnnxRuntimeVersion = BuildProps.PackageVersion("Microsoft.ML.OnnxRuntime");

    [Fact]
    public void Pack_puts_runtime_in_lib_generator_in_analyzers_and_build_files_in_build()
    {
        using var temp = new TempFolder("pack");
        var feed = temp.Combine("feed");
        var version = BuildProps.StructMatVersion;

        var pack = Dotnet.Run(Repo.Root, "pack", PackageProject, "-c", "Release", "-o", feed);
        Assert.True(pack.Succeeded, pack.Describe("dotnet pack failed."));

        // Named by the one version of Directory.Build.props, with nothing set on the command line.
        var package = Path.Combine(feed, $"StructMat.{version}.nupkg");
        Assert.True(File.Exists(package), pack.Describe($"Expected {package} (StructMatVersion {version}); the feed holds: "
            + string.Join(", ", Directory.GetFiles(feed).Select(Path.GetFileName))));

        using var zip = ZipFile.OpenRead(package);
        var entries = zip.Entries.Select(e => e.FullName.Replace('\\', '/')).ToList();
        var listing = "Package entries:" + Environment.NewLine + string.Join(Environment.NewLine, entries);

        foreach (var expected in new[]
                 {
                     "lib/net10.0/StructMat.Runtime.dll",
                     "analyzers/dotnet/cs/StructMat.Generator.dll",
                     "analyzers/dotnet/cs/StructMat.Compiler.dll",
                     "analyzers/dotnet/cs/Antlr4.Runtime.Standard.dll",
                     "build/StructMat.props",
                     "build/StructMat.targets",
                 })
        {
            Assert.True(entries.Contains(expected), $"Missing {expected}. {listing}");
        }

        // The generator side must never reach the consumer's compile references: lib/ holds the runtime only.
        var compileAssets = entries.Where(e => e.StartsWith("lib/", StringComparison.Ordinal) || e.StartsWith("ref/", StringComparison.Ordinal)).ToList();
        Assert.True(compileAssets.SequenceEqual(new[] { "lib/net10.0/StructMat.Runtime.dll" }), $"lib/ or ref/ holds more than the runtime. {listing}");

        // build/StructMat.targets turns every *.smx of the project into an AdditionalFiles item.
        var targetsText = ReadEntry(zip, "build/StructMat.targets");
        var smxGlob = XDocument.Parse(targetsText).Descendants()
            .Where(e => e.Name.LocalName == "AdditionalFiles")
            .Select(e => (string?)e.Attribute("Include"))
            .Where(include => include != null && include.Split(';').Any(part => part.Trim() == "**/*.smx"))
            .ToList();
        Assert.True(smxGlob.Count == 1, "build/StructMat.targets has no <AdditionalFiles Include=\"**/*.smx\" />:" + Environment.NewLine + targetsText);
        // Props must be well-formed MSBuild too (NuGet imports it into every consumer).
        Assert.Equal("Project", XDocument.Parse(ReadEntry(zip, "build/StructMat.props")).Root!.Name.LocalName);

        var nuspecText = ReadEntry(zip, "StructMat.nuspec");
        var nuspec = XDocument.Parse(nuspecText);
        string? Metadata(string name) => nuspec.Descendants().FirstOrDefault(e => e.Name.LocalName == name)?.Value.Trim();
        var context = Environment.NewLine + nuspecText;

        Assert.True(Metadata("id") == "StructMat", "The package id is not StructMat." + context);
        Assert.True(Metadata("version") == version, $"The nuspec version is not StructMatVersion {version}." + context);
        Assert.True(!string.IsNullOrWhiteSpace(Metadata("description")), "The nuspec has no description." + context);
        Assert.True(!string.IsNullOrWhiteSpace(Metadata("authors")), "The nuspec has no authors." + context);

        var readme = Metadata("readme");
        Assert.True(!string.IsNullOrEmpty(readme) && entries.Contains(readme!), $"The nuspec's readme '{readme}' is not in the package. {listing}{context}");

        var license = nuspec.Descendants().FirstOrDefault(e => e.Name.LocalName == "license");
        Assert.True(license != null && (string?)license.Attribute("type") == "expression" && license.Value.Trim() == "MIT",
            "The nuspec has no <license type=\"expression\">MIT</license>." + context);

        // The repository URL comes from the one property; none is invented while it is empty.
        var repositoryUrl = (string?)nuspec.Descendants().FirstOrDefault(e => e.Name.LocalName == "repository")?.Attribute("url") ?? "";
        Assert.True(repositoryUrl == BuildProps.StructMatRepositoryUrl,
            $"The nuspec's repository URL '{repositoryUrl}' is not StructMatRepositoryUrl '{BuildProps.StructMatRepositoryUrl}'." + context);

        // The dependencies are the runtime's own PackageReferences, whatever they are; the generator's are inside.
        var dependencies = nuspec.Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => (string)e.Attribute("id")!).ToList();
        Assert.True(dependencies.Contains("ILGPU"), "The nuspec does not depend on ILGPU." + context);
        foreach (var reference in RuntimePackageReferences())
        {
            Assert.True(dependencies.Contains(reference), $"The runtime references {reference}, the package does not depend on it." + context);
        }
        foreach (var bundled in new[] { "Antlr4.Runtime.Standard", "Microsoft.CodeAnalysis.CSharp" })
        {
            Assert.False(dependencies.Contains(bundled), $"The package depends on {bundled}, which only the analyzer uses." + context);
        }
        Assert.False(dependencies.Any(d => d.StartsWith("StructMat", StringComparison.OrdinalIgnoreCase)),
            "The package depends on another StructMat package: the generator and compiler belong inside it." + context);

        // Symbols: a .snupkg beside it with the runtime's pdb.
        var symbols = Path.Combine(feed, $"StructMat.{version}.snupkg");
        Assert.True(File.Exists(symbols), $"No symbol package {symbols}.");
        using var symbolZip = ZipFile.OpenRead(symbols);
        Assert.Contains("lib/net10.0/StructMat.Runtime.pdb", symbolZip.Entries.Select(e => e.FullName.Replace('\\', '/')));
    }

    [Fact]
    public void Fresh_consumer_of_only_the_package_builds_smx_and_runs_the_layer()
    {
        using var temp = new TempFolder("package-consumer");
        var feed = temp.Combine("feed");
        // A version no other run has used: restore cannot pick up a stale StructMat from any cache.
        var packageVersion = "0.0.0-buildtest." + DateTime.UtcNow.ToString("yyyyMMddHHmmss") + "." + Guid.NewGuid().ToString("N").Substring(0, 6);

        var pack = Dotnet.Run(Repo.Root, "pack", PackageProject, "-c", "Release", "-o", feed, "-p:PackageVersion=" + packageVersion);
        Assert.True(pack.Succeeded, pack.Describe("dotnet pack failed."));

        var consumer = temp.Combine("consumer");
        Directory.CreateDirectory(consumer);
        temp.Write("consumer/nuget.config", NuGetConfig(feed, consumer));

        // Private packages folder: the test package never lands in the machine's global cache.
        // The global cache is a read-only fallback, so the runtime's dependencies (ILGPU, …) need no download.
        // No ProjectReference and no AdditionalFiles: only the package.
        var packages = temp.Combine("packages");
        var fallback = GlobalPackagesFolder(temp.Path);
        temp.Write("consumer/Consumer.csproj", $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>disable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <RestorePackagesPath>{packages}</RestorePackagesPath>
                <RestoreFallbackFolders>{fallback}</RestoreFallbackFolders>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="StructMat" Version="{packageVersion}" />
                <!-- What a user runs the exported model with; StructMat itself does not depend on it. -->
                <PackageReference Include="Microsoft.ML.OnnxRuntime" Version="{OnnxRuntimeVersion}" />
              </ItemGroup>
            </Project>
            """);

        // Monarch, 4 blocks of 4 x 4 in each of two factors, plus a bias of 16.
        const int features = 16, blocks = 4;
        const int expectedParameters = 2 * blocks * (features / blocks) * (features / blocks) + features;
        temp.Write("consumer/Layers/layers.smx", $"""
            namespace Demo;

            /// A small Monarch layer for the package test.
            layer Mix : {features} -> {features} = monarch(blocks: {blocks}) + bias;
            """);
        temp.Write("consumer/Program.cs", ConsumerProgram);

        var run = Dotnet.Run(consumer, "run", "-c", "Release");
        Assert.True(run.Succeeded, run.Describe("dotnet run of the package consumer failed."));
        var values = run.Output.Split('\n').Select(l => l.Trim()).Where(l => l.Contains('='))
            .Select(l => l.Split('=', 2)).GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.Last()[1]);
        string Value(string key)
        {
            Assert.True(values.ContainsKey(key), run.Describe($"The consumer printed no '{key}=' line."));
            return values[key];
        }

        Assert.True(Value("ParameterCount") == expectedParameters.ToString(CultureInfo.InvariantCulture),
            run.Describe($"Expected ParameterCount={expectedParameters}."));
        Assert.True(Value("AllFinite") == "True", run.Describe("The layer's output has a NaN or an infinity."));
        var error = double.Parse(Value("MaxRelativeError"), CultureInfo.InvariantCulture);
        Assert.True(error < 1e-5, run.Describe($"Forward differs from ToDenseDouble()·x + bias by {error:G3} (relative), above 1e-5."));

        // Trained with the package's Adam, exported with SaveOnnx, run by ONNX Runtime: the same outputs.
        Assert.True(Value("LossDecreased") == "True", run.Describe("Twenty Adam steps did not lower the regression loss."));
        var onnxError = double.Parse(Value("OnnxMaxRelativeError"), CultureInfo.InvariantCulture);
        Assert.True(onnxError < 1e-5, run.Describe($"ONNX Runtime's output of the exported layer differs from Forward by {onnxError:G3} (relative), above 1e-5."));

        // SmxCompiler.Version, as the analyzer in the package stamped it, is the one StructMat version.
        Assert.True(Value("GeneratedBy") == "StructMat " + BuildProps.StructMatVersion,
            run.Describe($"Expected GeneratedBy=StructMat {BuildProps.StructMatVersion} (StructMatVersion of Directory.Build.props)."));

        // The runtime the program loaded is the package's, restored into the private folder.
        var expectedLib = Path.Combine(packages, "structmat", packageVersion, "lib", "net10.0");
        Assert.True(Directory.Exists(expectedLib), run.Describe($"The test package was not restored into {expectedLib}."));
        var loadedRuntime = Value("RuntimeFrom");
        var packagedRuntime = Path.Combine(expectedLib, "StructMat.Runtime.dll");
        Assert.True(File.Exists(loadedRuntime) && File.Exists(packagedRuntime) && File.ReadAllBytes(loadedRuntime).SequenceEqual(File.ReadAllBytes(packagedRuntime)),
            run.Describe($"The runtime the program loaded ({loadedRuntime}) is not the package's {packagedRuntime}."));

        // The analyzer's assemblies are not references: nothing of them is copied next to the program.
        var bin = Path.GetDirectoryName(loadedRuntime)!;
        foreach (var analyzerOnly in new[] { "StructMat.Generator.dll", "StructMat.Compiler.dll", "Antlr4.Runtime.Standard.dll" })
        {
            Assert.False(File.Exists(Path.Combine(bin, analyzerOnly)), run.Describe($"{analyzerOnly} was copied to the consumer's output {bin}: it became a reference."));
        }
    }

    /// <summary>
    /// Runs the generated layer on a small batch and compares it in float64 with its own dense weight
    /// (ToDenseDouble builds it from the structure's definition, not from the kernels) times x, plus the bias.
    /// </summary>
    private const string ConsumerProgram = """
        using System;
        using System.CodeDom.Compiler;
        using System.Globalization;
        using System.Reflection;

        public static class Program
        {
            public static void Main()
            {
                var layer = new Demo.Mix(seed: 7);
                // A bias that is not zero, so the comparison covers it.
                for (var o = 0; o < layer.OutFeatures; o++)
                {
                    layer.Bias.Data[o] = 0.05f * (o + 1);
                }

                const int batch = 3;
                int n = layer.InFeatures, m = layer.OutFeatures;
                var random = new Random(11);
                var x = new float[batch * n];
                for (var i = 0; i < x.Length; i++)
                {
                    x[i] = (float)(2 * random.NextDouble() - 1);
                }
                var y = new float[batch * m];
                layer.Forward(x, y, batch);

                var dense = layer.ToDenseDouble();
                double maxDifference = 0, maxReference = 0;
                var allFinite = true;
                for (var b = 0; b < batch; b++)
                {
                    for (var o = 0; o < m; o++)
                    {
                        double reference = layer.Bias.Data[o];
                        for (var i = 0; i < n; i++)
                        {
                            reference += dense[o * n + i] * x[b * n + i];
                        }
                        var value = y[b * m + o];
                        allFinite &= float.IsFinite(value);
                        maxDifference = Math.Max(maxDifference, Math.Abs(value - reference));
                        maxReference = Math.Max(maxReference, Math.Abs(reference));
                    }
                }

                // Train: twenty Adam steps of ½‖y − t‖² towards a fixed random target, then export and run with ONNX Runtime.
                var target = new float[batch * m];
                for (var i = 0; i < target.Length; i++)
                {
                    target[i] = (float)(2 * random.NextDouble() - 1);
                }
                var adam = new StructMat.Runtime.Training.Adam(learningRate: 0.01f);
                var dy = new float[batch * m];
                var dx = new float[batch * n];
                double firstLoss = 0, loss = 0;
                for (var step = 0; step < 20; step++)
                {
                    layer.Forward(x, y, batch);
                    loss = 0;
                    for (var i = 0; i < y.Length; i++)
                    {
                        dy[i] = y[i] - target[i];
                        loss += 0.5 * dy[i] * dy[i];
                    }
                    if (step == 0)
                    {
                        firstLoss = loss;
                    }
                    layer.ZeroGrad();
                    layer.Backward(x, dy, dx, batch);
                    adam.Step(layer.Parameters);
                }
                layer.Forward(x, y, batch);
                StructMat.Runtime.IO.OnnxExport.SaveOnnx(layer, "mix.onnx");
                using var session = new Microsoft.ML.OnnxRuntime.InferenceSession("mix.onnx");
                var input = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(x, new[] { batch, n });
                using var results = session.Run(new[] { Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor("x", input) });
                double onnxDifference = 0, largest = 0;
                var index = 0;
                foreach (var value in System.Linq.Enumerable.First(results).AsEnumerable<float>())
                {
                    onnxDifference = Math.Max(onnxDifference, Math.Abs(value - y[index]));
                    largest = Math.Max(largest, Math.Abs(y[index]));
                    index++;
                }
                Console.WriteLine("LossDecreased=" + (index == y.Length && loss < 0.5 * firstLoss));
                Console.WriteLine("OnnxMaxRelativeError=" + (onnxDifference / largest).ToString("R", CultureInfo.InvariantCulture));

                var generated = typeof(Demo.Mix).GetCustomAttribute<GeneratedCodeAttribute>();
                Console.WriteLine("ParameterCount=" + layer.ParameterCount.ToString(CultureInfo.InvariantCulture));
                Console.WriteLine("AllFinite=" + allFinite);
                Console.WriteLine("MaxRelativeError=" + (maxDifference / maxReference).ToString("R", CultureInfo.InvariantCulture));
                Console.WriteLine("GeneratedBy=" + generated?.Tool + " " + generated?.Version);
                Console.WriteLine("RuntimeFrom=" + typeof(StructMat.Runtime.IStructuredLayer).Assembly.Location);
            }
        }
        """;

    /// <summary>The runtime's PackageReferences that flow to its consumers (those not marked PrivateAssets="all").</summary>
    private static IEnumerable<string> RuntimePackageReferences()
    {
        var project = XDocument.Load(Path.Combine(PackageProject, "StructMat.Runtime.csproj"));
        var references = project.Descendants()
            .Where(e => e.Name.LocalName == "PackageReference")
            .Where(e => !string.Equals((string?)e.Attribute("PrivateAssets"), "all", StringComparison.OrdinalIgnoreCase))
            .Select(e => (string)e.Attribute("Include")!)
            .ToList();
        Assert.True(references.Count > 0, "src/StructMat.Runtime/StructMat.Runtime.csproj has no PackageReference.");
        return references;
    }

    private static string ReadEntry(ZipArchive zip, string name)
    {
        var entry = zip.Entries.Single(e => e.FullName.Replace('\\', '/') == name);
        using var reader = new StreamReader(entry.Open());
        return reader.ReadToEnd();
    }

    /// <summary>The local feed first, then the sources this machine's own NuGet configuration enables.</summary>
    private static string NuGetConfig(string feed, string consumer)
    {
        var list = Dotnet.Run(consumer, "nuget", "list", "source", "--format", "short");
        Assert.True(list.Succeeded, list.Describe("dotnet nuget list source failed."));
        var sources = list.Output.Split('\n')
            .Select(l => l.Trim())
            .Where(l => l.StartsWith("E ", StringComparison.Ordinal))
            .Select(l => l.Substring(2).Trim())
            .Where(s => s.Length > 0 && !string.Equals(Path.GetFullPath(s, consumer), feed, StringComparison.Ordinal))
            .ToList();
        Assert.True(sources.Count > 0, list.Describe("This machine's NuGet configuration enables no package source."));

        var config = new System.Text.StringBuilder();
        config.Append("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        config.Append("<configuration>\n  <packageSources>\n    <clear />\n");
        config.Append($"    <add key=\"structmat-test-feed\" value=\"{System.Security.SecurityElement.Escape(feed)}\" />\n");
        for (var i = 0; i < sources.Count; i++)
        {
            config.Append($"    <add key=\"machine-source-{i}\" value=\"{System.Security.SecurityElement.Escape(sources[i])}\" />\n");
        }
        config.Append("  </packageSources>\n</configuration>\n");
        return config.ToString();
    }

    /// <summary>The machine's global packages folder, as NuGet reports it.</summary>
    private static string GlobalPackagesFolder(string workingDirectory)
    {
        var locals = Dotnet.Run(workingDirectory, "nuget", "locals", "global-packages", "--list");
        Assert.True(locals.Succeeded, locals.Describe("dotnet nuget locals global-packages --list failed."));
        const string prefix = "global-packages:";
        var line = locals.Output.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        Assert.True(line != null, locals.Describe("No global-packages line."));
        return line!.Substring(prefix.Length).Trim();
    }
}
