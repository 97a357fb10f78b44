using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace StructMat.Generator.Tests;

/// <summary>An in-memory .smx AdditionalFile.</summary>
internal sealed class SmxFile(string path, string text) : AdditionalText
{
    public override string Path { get; } = path;
    public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(text);
}

/// <summary>Global analyzer-config options (<c>build_property.*</c>) as MSBuild would pass them.</summary>
internal sealed class BuildProperties(IReadOnlyDictionary<string, string> values) : AnalyzerConfigOptionsProvider
{
    private sealed class Options(IReadOnlyDictionary<string, string> values) : AnalyzerConfigOptions
    {
        public override bool TryGetValue(string key, out string value) => values.TryGetValue(key, out value!);
    }

    public override AnalyzerConfigOptions GlobalOptions { get; } = new Options(values);
    public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => new Options(new Dictionary<string, string>());
    public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => new Options(new Dictionary<string, string>());
}

internal static class Gen
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    public static readonly ImmutableArray<MetadataReference> References =
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(System.IO.Path.PathSeparator)
        .Append(typeof(ILGPU.Context).Assembly.Location)
        .Append(typeof(StructMat.Runtime.Checks).Assembly.Location)
        .Distinct()
        .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
        .ToImmutableArray();

    public static GeneratorDriver Driver(IEnumerable<AdditionalText> files, IReadOnlyDictionary<string, string>? options = null) =>
        CSharpGeneratorDriver.Create(new[] { new StructMatGenerator().AsSourceGenerator() }, files, ParseOptions,
            new BuildProperties(options ?? new Dictionary<string, string>()),
            new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    public static CSharpCompilation Compilation(params string[] sources) =>
        CSharpCompilation.Create("Tests", sources.Select(s => CSharpSyntaxTree.ParseText(s, ParseOptions)), References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    /// <summary>Runs the generator once over a fresh compilation; returns the driver (for reruns) and the output compilation.</summary>
    public static (GeneratorDriver Driver, Compilation Output, ImmutableArray<Diagnostic> Diagnostics) Run(
        IEnumerable<AdditionalText> files, IReadOnlyDictionary<string, string>? options = null, CSharpCompilation? input = null)
    {
        var driver = Driver(files, options).RunGeneratorsAndUpdateCompilation(input ?? Compilation("class Empty { }"), out var output, out var diagnostics);
        return (driver, output, diagnostics);
    }

    public static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "StructMat.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("StructMat.sln not found above " + AppContext.BaseDirectory);
    }
}
