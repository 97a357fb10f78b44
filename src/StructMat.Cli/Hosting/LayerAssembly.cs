using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using StructMat.Compiler;
using StructMat.Runtime;

namespace StructMat.Cli.Hosting;

/// <summary>
/// A .smx file's layers compiled in this process, as a build would: SmxCompiler's C# compiled by Roslyn into an
/// in-memory assembly that references StructMat.Runtime (and what it references), loaded, its layer classes ready
/// to instantiate.
/// </summary>
public sealed class LayerAssembly
{
    private readonly Dictionary<string, Type> _types;

    private LayerAssembly(Dictionary<string, Type> types) => _types = types;

    /// <summary>The layer classes by name, in declaration order.</summary>
    public IReadOnlyList<string> LayerNames => _types.Keys.ToList();

    /// <summary>Compiles <paramref name="smxText"/>; an SMX error or a C# error is a <see cref="CommandFailedException"/>.</summary>
    public static LayerAssembly Compile(string smxText, string sourceName)
    {
        var result = SmxCompiler.Compile(smxText, sourceName);
        if (result.HasErrors)
        {
            var first = result.Diagnostics.First(d => d.IsError);
            throw new CommandFailedException($"{first.Format(sourceName)} (run 'smx check {sourceName}' for every message)");
        }
        if (result.Source is null) throw new CommandFailedException($"{sourceName}: declares no layers");

        var tree = CSharpSyntaxTree.ParseText(result.Source, new CSharpParseOptions(LanguageVersion.Latest));
        var compilation = CSharpCompilation.Create("Smx.InProcess." + Guid.NewGuid().ToString("N"), new[] { tree }, References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, optimizationLevel: OptimizationLevel.Release,
                allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable));
        using var image = new MemoryStream();
        var emitted = compilation.Emit(image);
        if (!emitted.Success)
        {
            // The generator's output must compile; if it does not, that is a StructMat bug, reported as such.
            var errors = emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(3).Select(d => d.ToString());
            throw new InvalidOperationException($"the generated C# for {sourceName} does not compile: {string.Join("; ", errors)}");
        }
        var assembly = Assembly.Load(image.ToArray());
        var types = result.Classes.ToDictionary(c => c.Name,
            c => assembly.GetType(c.Namespace + "." + c.Name) ?? throw new InvalidOperationException($"generated class {c.Namespace}.{c.Name} not found"));
        return new LayerAssembly(types);
    }

    public bool Contains(string name) => _types.ContainsKey(name);

    /// <summary>A new instance, initialised from <paramref name="seed"/> (the generated constructor's default initialisation).</summary>
    public IStructuredLayer Create(string name, int seed = 0)
    {
        if (!_types.TryGetValue(name, out var type)) throw new UsageException($"no layer '{name}'; the file declares {string.Join(", ", _types.Keys)}");
        return (IStructuredLayer)Activator.CreateInstance(type, seed)!;
    }

    /// <summary>
    /// The framework, StructMat.Runtime and everything it references: the trusted platform assemblies of this process
    /// (the tool's own dependencies are among them).
    /// </summary>
    private static readonly Lazy<MetadataReference[]> References = new(() =>
        ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append(typeof(IStructuredLayer).Assembly.Location)
            .Append(typeof(ILGPU.Context).Assembly.Location)
            .Where(File.Exists)
            .Distinct(StringComparer.Ordinal)
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToArray());
}
