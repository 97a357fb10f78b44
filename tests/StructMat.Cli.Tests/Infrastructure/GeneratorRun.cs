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
using StructMat.Generator;

namespace StructMat.Cli.Tests.Infrastructure;

/// <summary>
/// The real source generator over .smx files, as a build runs it: its diagnostics, rendered by Roslyn as the build
/// prints them (<c>path(line,col): error SMXnnnn: message</c>). The independent reference for <c>smx check</c>.
/// </summary>
public static class GeneratorRun
{
    private sealed class SmxText(string path, string text) : AdditionalText
    {
        public override string Path { get; } = path;

        public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(text);
    }

    private sealed class NoOptions : AnalyzerConfigOptionsProvider
    {
        private sealed class Empty : AnalyzerConfigOptions
        {
            public override bool TryGetValue(string key, out string value)
            {
                value = "";
                return false;
            }
        }

        public override AnalyzerConfigOptions GlobalOptions { get; } = new Empty();

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => GlobalOptions;

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => GlobalOptions;
    }

    public static ImmutableArray<Diagnostic> Diagnostics(IEnumerable<string> paths)
    {
        var files = paths.Select(p => (AdditionalText)new SmxText(p, File.ReadAllText(p))).ToList();
        var driver = CSharpGeneratorDriver.Create(new[] { new StructMatGenerator().AsSourceGenerator() }, files,
            new CSharpParseOptions(LanguageVersion.Latest), new NoOptions());
        var compilation = CSharpCompilation.Create("Check", new[] { CSharpSyntaxTree.ParseText("class Empty { }") },
            Array.Empty<MetadataReference>(), new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        driver.RunGeneratorsAndUpdateCompilation(compilation, out _, out var diagnostics);
        return diagnostics.Where(d => d.Id.StartsWith("SMX", StringComparison.Ordinal)).ToImmutableArray();
    }

    /// <summary>As the build prints them.</summary>
    public static IReadOnlyList<string> Lines(IEnumerable<string> paths) => Diagnostics(paths).Select(d => d.ToString()).ToList();
}
