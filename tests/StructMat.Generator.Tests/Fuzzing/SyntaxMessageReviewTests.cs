using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using StructMat.Compiler;
using Xunit;

namespace StructMat.Generator.Tests.Fuzzing;

/// <summary>
/// The syntax errors the fuzzer's inputs get (CI's seed and case count), as a person reads them. The review list,
/// tests/fuzz-regressions/syntax-messages.md, holds each message form once (names, numbers and positions replaced
/// by placeholders) with a count and the shortest input that got it; set STRUCTMAT_WRITE_SYNTAX_REVIEW=1 to write
/// it again. What is checked every run: no message speaks ANTLR's language, and none is the catch-all form that
/// says only "Unexpected …" without what was expected.
/// </summary>
public sealed class SyntaxMessageReviewTests
{
    private static readonly string[] ParserJargon = { "mismatched input", "extraneous input", "no viable alternative", "expecting {", "missing '", "token recognition error", "<EOF>" };

    private static readonly Regex CatchAll = new("^Unexpected (?!character)");

    [Fact]
    public void Fuzzed_syntax_errors_say_what_to_write()
    {
        var fuzzer = new SmxFuzzer(FuzzTests.DefaultSeed, FuzzTests.Corpus(), FuzzTests.DefaultCases);
        var forms = new Dictionary<string, (int Count, string Example, string Message)>(StringComparer.Ordinal);
        var bad = new List<string>();
        for (var i = 0; i < FuzzTests.DefaultCases; i++)
        {
            var input = fuzzer.Generate(i).Text;
            var result = SmxCompiler.Compile(input, "fuzz.smx");
            foreach (var d in result.Diagnostics.Where(d => d.Id is "SMX0001" or "SMX0002"))
            {
                if (ParserJargon.Any(j => d.Message.Contains(j, StringComparison.Ordinal)) || CatchAll.IsMatch(d.Message))
                {
                    bad.Add($"case {i}: {d.Format("fuzz.smx")}");
                }
                var form = Form(d.Message);
                forms[form] = forms.TryGetValue(form, out var seen)
                    ? (seen.Count + 1, input.Length < seen.Example.Length ? input : seen.Example, input.Length < seen.Example.Length ? d.Message : seen.Message)
                    : (1, input, d.Message);
            }
        }
        Assert.True(bad.Count == 0, string.Join("\n", bad.Take(20)));
        Assert.True(forms.Count > 0, "the fuzzer's inputs got no syntax error at all");

        if (Environment.GetEnvironmentVariable("STRUCTMAT_WRITE_SYNTAX_REVIEW") == "1")
        {
            var text = new StringBuilder();
            text.Append("# Syntax errors of fuzzed inputs, for review\n\n");
            text.Append($"Seed {FuzzTests.DefaultSeed}, {FuzzTests.DefaultCases} cases; written by `SyntaxMessageReviewTests` with ");
            text.Append("`STRUCTMAT_WRITE_SYNTAX_REVIEW=1`. Each message form once (`<name>`, `<n>`, `<at>` stand for names, numbers, ");
            text.Append("positions), its count, and the shortest input that got it.\n\n");
            text.Append(Review);
            foreach (var (form, (count, example, message)) in forms.OrderByDescending(f => f.Value.Count).ThenBy(f => f.Key, StringComparer.Ordinal))
            {
                var shown = example.Length > 300 ? example.Substring(0, 300) + " …" : example;
                text.Append($"## {count} × {Printable(form)}\n\n{Printable(message)}\n\n```smx\n{Printable(shown.TrimEnd())}\n```\n\n");
            }
            File.WriteAllText(Path.Combine(Gen.RepoRoot(), "tests", "fuzz-regressions", "syntax-messages.md"), text.ToString());
        }
    }

    /// <summary>What the review of this list found and what changed for it (kept when the list is written again).</summary>
    private const string Review = """
        Reviewed 2026-12-03. Found and fixed: a declaration without its name fell through to a catch-all "Unexpected
        '-' in layer '-'" (now "Expected the layer's name after 'layer' …"), and the found token was taken for the
        name; a keyword in a namespace said it "cannot name anything"; invisible characters (formatting characters,
        non-ASCII spaces, lone combining marks, non-characters) were shown quoted, so the message showed nothing — now
        U+XXXX and what the character is. Left as they are, as a person can act on them: the forms below name what the
        construct needed and what was found; fuzzed inputs put tokens where no person would, so some pairs read oddly
        ("Expected an operand after '*', but found '*'") but still point at the right place. A second pass (after
        a code review) fixed what the first list hid: an error inside a call inside kron(…) was described from the
        outer call's decision ("Expected the input size of layer 'A' after ':'"), and recovery added a second or third
        message to a declaration — now the innermost open '(' is found from the tokens, and each declaration gets one
        syntax error.


        """;

    /// <summary>Text a Markdown file can hold: lone surrogates and control characters (tabs and line ends kept) as \\uXXXX.</summary>
    private static string Printable(string text)
    {
        var result = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) result.Append(c).Append(text[++i]);
            else if (char.IsSurrogate(c) || char.IsControl(c) && c is not ('\n' or '\t')) result.Append($"\\u{(int)c:X4}");
            else result.Append(c);
        }
        return result.ToString();
    }

    /// <summary>A message with its particulars replaced, so messages that differ only in them are one form.</summary>
    private static string Form(string message)
    {
        var form = Regex.Replace(message, @"\d+:\d+", "<at>");
        form = Regex.Replace(form, "the name '[^']*'", "the name '<name>'");
        form = Regex.Replace(form, "(layer|constant) '[^']*'", "$1 '<name>'");
        form = Regex.Replace(form, @"the number [0-9.eE+-]+", "the number <n>");
        form = Regex.Replace(form, @"'\p{L}[\p{L}\p{Nd}_]*'", "'<name>'");
        form = Regex.Replace(form, @"\b[\p{L}_][\p{L}\p{Nd}_]*\(…\)", "<name>(…)");
        return form;
    }
}
