using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace StructMat.Compiler.Tests;

/// <summary>
/// tests/mistakes/: one newcomer's mistake per file, written from docs/language.md as a new user would. Each file says
/// in its second line what it must get — <c>// expect: SMXnnnn at 'text': phrase</c> (or <c>after 'text'</c> for a
/// missing token, reported right after that text) — and gets exactly that: one error, that id, at the first
/// occurrence of that text after the header, with the phrase in its message. The expectations are written from what a
/// person needs to read, not copied from the compiler's output.
/// </summary>
public class MistakeCorpusTests
{
    private static readonly Regex Expectation = new(@"^// expect: (SMX\d{4}) (at|after) '(.+?)': (.+)$", RegexOptions.Multiline);

    private static string Folder => Path.GetFullPath(Path.Combine(Snapshot.CasesDirectory(), "..", "mistakes"));

    public static IEnumerable<object[]> Files =>
        Directory.GetFiles(Folder, "*.smx").OrderBy(f => f, StringComparer.Ordinal).Select(f => new object[] { Path.GetFileName(f) });

    [Fact]
    public void The_corpus_has_thirty_mistakes_or_more() => Assert.True(Files.Count() >= 30, $"{Files.Count()} files in {Folder}");

    [Theory]
    [MemberData(nameof(Files))]
    public void Mistake_gets_the_message_a_person_can_act_on(string file)
    {
        var text = File.ReadAllText(Path.Combine(Folder, file)).Replace("\r\n", "\n");
        var match = Expectation.Match(text);
        Assert.True(match.Success, $"{file}: no '// expect: SMXnnnn at 'text': phrase' line");
        var (id, where, marker, phrase) = (match.Groups[1].Value, match.Groups[2].Value, match.Groups[3].Value, match.Groups[4].Value.Trim());

        var bodyStart = match.Index + match.Length;
        var found = text.IndexOf(marker, bodyStart, StringComparison.Ordinal);
        Assert.True(found >= 0, $"{file}: '{marker}' does not occur after the header");
        var expectedStart = where == "at" ? found : found + marker.Length;

        var result = SmxCompiler.Compile(text, file);
        var errors = result.Diagnostics.Where(d => d.IsError).ToList();
        var listing = string.Join("\n", result.Diagnostics.Select(d => d.Format(file)));
        Assert.True(errors.Count == 1, $"{file}: expected one error, got {errors.Count}:\n{listing}");
        var error = errors[0];
        Assert.True(error.Id == id, $"{file}: expected {id}, got:\n{listing}");
        Assert.True(error.Span.Start == expectedStart,
            $"{file}: expected the error {where} '{marker}' (offset {expectedStart}, {Position(text, expectedStart)}), got offset {error.Span.Start}:\n{listing}");
        Assert.True(error.Message.Contains(phrase, StringComparison.Ordinal), $"{file}: the message lacks \"{phrase}\":\n{listing}");
    }

    /// <summary>ANTLR's own words, which a user of StructMat should never see.</summary>
    internal static readonly string[] ParserJargon = { "mismatched input", "extraneous input", "no viable alternative", "expecting {", "missing '", "token recognition error", "<EOF>" };

    [Theory]
    [MemberData(nameof(Files))]
    public void No_message_speaks_the_parser_generator_s_language(string file)
    {
        var result = SmxCompiler.Compile(File.ReadAllText(Path.Combine(Folder, file)), file);
        foreach (var d in result.Diagnostics)
        {
            Assert.DoesNotContain(ParserJargon, j => d.Message.Contains(j, StringComparison.Ordinal));
        }
    }

    private static string Position(string text, int offset)
    {
        var line = text.Take(offset).Count(c => c == '\n') + 1;
        var column = offset - text.LastIndexOf('\n', Math.Max(0, offset - 1)) ;
        return $"{line}:{column}";
    }
}
