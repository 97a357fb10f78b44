using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Antlr4.Runtime;
using StructMat.Compiler.Syntax.Generated;
using Xunit;

namespace StructMat.Compiler.Tests;

/// <summary>
/// The tokens the real lexer (grammar/StructMat.g4) gives every tracked .smx, kept in
/// editors/vscode/test/lexer-tokens.verified.json: the editor grammar's node tests compare its scopes with them
/// (an INT must be coloured as a number, every character between tokens must be a comment, …), so the TextMate
/// grammar is checked against the normative lexer, not against itself. This test keeps the file current:
/// a changed lexer or a new .smx fails here until the file is regenerated (STRUCTMAT_UPDATE_SNAPSHOTS=1).
/// </summary>
public class EditorLexerTokensTests
{
    private static string Root => Path.GetFullPath(Path.Combine(Snapshot.CasesDirectory(), "..", ".."));

    [Fact]
    public void Lexer_tokens_of_every_smx_are_the_committed_ones()
    {
        var files = TrackedSmxFiles();
        Assert.True(files.Count >= 100, $"git ls-files found {files.Count} .smx files");
        var json = new StringBuilder("{\n");
        for (var i = 0; i < files.Count; i++)
        {
            // Decoded without dropping a byte-order mark, so offsets are those of the text the editor tokenises.
            var text = new UTF8Encoding(false).GetString(File.ReadAllBytes(Path.Combine(Root, files[i])));
            var tokens = string.Join(",", Lex(text).Select(t => $"[{t.Start},{t.End},{JsonSerializer.Serialize(t.Type, Plain)}]"));
            json.Append($"  {JsonSerializer.Serialize(files[i], Plain)}: [{tokens}]{(i + 1 < files.Count ? "," : "")}\n");
        }
        json.Append("}\n");
        Snapshot.Verify(json.ToString(), Path.Combine(Root, "editors", "vscode", "test", "lexer-tokens.verified.json"));
    }

    /// <summary>Writes '-&gt;' and quotes as they are (the file is data for a test, never HTML).</summary>
    private static readonly JsonSerializerOptions Plain = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private sealed record LexedToken(int Start, int End, string Type);

    /// <summary>
    /// Every token on every channel ([start, end) in UTF-16 code units, the type's display name: <c>'layer'</c>,
    /// <c>IDENT</c>, <c>DOC_COMMENT</c>), and each character the lexer rejects as type <c>ERROR</c>. Skipped
    /// rules (WS, LINE_COMMENT, BLOCK_COMMENT) leave gaps.
    /// </summary>
    private static List<LexedToken> Lex(string text)
    {
        var lexer = new RecordingLexer(new AntlrInputStream(text));
        lexer.RemoveErrorListeners();
        var tokens = new List<LexedToken>();
        for (var token = lexer.NextToken(); token.Type != TokenConstants.EOF; token = lexer.NextToken())
        {
            tokens.Add(new LexedToken(token.StartIndex, token.StopIndex + 1, lexer.Vocabulary.GetDisplayName(token.Type)));
        }
        tokens.AddRange(lexer.Errors.Select(start => new LexedToken(start, start + 1, "ERROR")));
        return tokens.OrderBy(t => t.Start).ToList();
    }

    /// <summary>Records where the lexer rejected a character (it then skips that one character and goes on).</summary>
    private sealed class RecordingLexer : StructMatLexer
    {
        public RecordingLexer(ICharStream input)
            : base(input)
        {
        }

        public List<int> Errors { get; } = new();

        // ANTLR's own message would throw on a lone surrogate (see SmxLexer); only the position is needed.
        public override void NotifyListeners(LexerNoViableAltException e) => Errors.Add(TokenStartCharIndex);
    }

    private static List<string> TrackedSmxFiles()
    {
        var git = new ProcessStartInfo("git", "ls-files -z -- *.smx")
        {
            WorkingDirectory = Root,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(git)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"git ls-files failed in {Root} (exit {process.ExitCode})");
        // Sorted by UTF-16 code units, as the node test's Array.sort orders them.
        return output.Split('\0', System.StringSplitOptions.RemoveEmptyEntries).OrderBy(f => f, System.StringComparer.Ordinal).ToList();
    }
}
