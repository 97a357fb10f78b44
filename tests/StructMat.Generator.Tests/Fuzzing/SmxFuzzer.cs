using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;

namespace StructMat.Generator.Tests.Fuzzing;

/// <summary>One generated input: its index in the run, the strategy that made it, and the text.</summary>
internal sealed record FuzzCase(int Index, string Strategy, string Text);

/// <summary>
/// A deterministic, seeded generator of .smx inputs. Case <c>i</c> of seed <c>s</c> depends on (s, i) only, so a
/// failure is reproduced by its seed and index alone. Strategies: grammar-based random programs biased towards
/// valid layers (every structure, composition, constant arithmetic, explicit shapes), mutations of those programs
/// and of <c>tests/Cases/*.smx</c> (token edits, truncation, hostile numbers, unicode, deep nesting, long chains),
/// pure random token soup, and, at a few fixed indices, giant (~10 MB) inputs.
/// </summary>
internal sealed class SmxFuzzer
{
    private readonly int _seed;
    private readonly IReadOnlyList<string> _corpus;
    private readonly HashSet<int> _giantIndices;

    /// <param name="corpus">Seed files for mutation (tests/Cases/*.smx), in a fixed order.</param>
    /// <param name="cases">The run's size: one giant input per 50,000 cases, at least one when cases ≥ 100.</param>
    public SmxFuzzer(int seed, IReadOnlyList<string> corpus, int cases)
    {
        _seed = seed;
        _corpus = corpus;
        var random = new Random(seed ^ 0x5EED);
        var giants = cases < 100 ? 0 : Math.Max(1, cases / 50_000);
        _giantIndices = new HashSet<int>(Enumerable.Range(0, giants).Select(_ => random.Next(cases)));
    }

    public FuzzCase Generate(int index)
    {
        var random = new Random(HashCode(_seed, index));
        if (_giantIndices.Contains(index)) return new FuzzCase(index, "giant", Giant(random, index));
        var roll = random.Next(100);
        if (roll < 40) return new FuzzCase(index, "grammar", Program(random, index));
        if (roll < 65) return new FuzzCase(index, "mutated-grammar", Mutate(random, Program(random, index), index));
        if (roll < 90) return new FuzzCase(index, "mutated-corpus", Mutate(random, CorpusFile(random, index), index));
        if (roll < 95) return new FuzzCase(index, "token-soup", TokenSoup(random, index));
        return new FuzzCase(index, "stress", Stress(random, index));
    }

    private static int HashCode(int seed, int index)
    {
        unchecked
        {
            var h = (ulong)(uint)seed * 0x9E3779B97F4A7C15UL ^ (ulong)(uint)index * 0xBF58476D1CE4E5B9UL;
            h ^= h >> 31;
            h *= 0x94D049BB133111EBUL;
            h ^= h >> 29;
            return (int)(h & 0x7FFFFFFF);
        }
    }

    /// <summary>A namespace unique to the case, so generated files can share one C# compilation.</summary>
    public static string NamespaceFor(int index) => $"Fuzz.N{index}";

    // ───────────────────────────── grammar-based programs ─────────────────────────────

    private static readonly string[] LayerNames =
    {
        "Mixer", "Up", "Down", "Proj", "Chain", "Lora", "Vera", "Hra", "Kron", "Pixel", "Sparse", "Btt", "Rot", "Mlp", "Head",
        "Gate", "Q", "K", "V", "Out", "Emb", "Layer", "Dense", "Lowrank", "Monarch", "Attention", "Ffn", "A", "B", "X_1", "_Under",
        "Fuzz", "N0", "Value", "Seed", "System", "String", "Object",
    };

    private static readonly string[] HostileNames =
    {
        "class", "int", "void", "namespace", "var", "record", "async", "await", "dynamic", "nameof", "value", "partial", "file",
        "required", "scoped", "field", "global", "yield", "when", "where", "select", "mixer", "l", "x", "dense", "bias",
        "lowrank", "frozen", "layer", "const", "_", "__", "a1", "extension", "allows", "managed", "unmanaged", "notnull",
        // Names the generated code itself uses (members, runtime types): see FuzzTests.KnownBugs.
        "Parameters", "Forward", "Backward", "Workspace", "Parameter", "Math", "Span", "Random", "ILGPU", "Accelerator", "Checks",
        "Init", "Kernels", "GeneratedCode", "IStructuredLayer", "IProjectable", "Gpu", "Runtime", "StructMat", "Dispose",
        "Equals", "GetHashCode", "ToString", "InFeatures",
    };

    private sealed class ProgramBuilder
    {
        public readonly Random R;
        public readonly StringBuilder Text = new();
        public readonly List<(string Name, int Value)> IntConsts = new();
        public readonly List<(string Name, double Value)> RealConsts = new();
        public readonly HashSet<string> Used = new();
        public int Depth;

        public ProgramBuilder(Random random) => R = random;
    }

    /// <summary>A random program: namespace, constants with arithmetic, and 1–3 layers built to be mostly valid.</summary>
    public string Program(Random random, int index)
    {
        var b = new ProgramBuilder(random);
        if (random.Next(10) < 9) b.Text.Append("namespace ").Append(NamespaceFor(index)).Append(";\n");
        if (random.Next(3) == 0) b.Text.Append("// generated by the fuzzer, case ").Append(index).Append('\n');
        var consts = random.Next(4);
        for (var k = 0; k < consts; k++) AddConst(b);
        var layers = random.Next(6) == 0 ? 2 + random.Next(2) : 1;
        for (var k = 0; k < layers; k++) AddLayer(b);
        return b.Text.ToString();
    }

    private static readonly int[] Dims = { 1, 2, 3, 4, 4, 6, 8, 8, 8, 12, 16, 16, 16, 32, 64 };

    private static int Dim(Random r) => Dims[r.Next(Dims.Length)];

    private static void AddConst(ProgramBuilder b)
    {
        var r = b.R;
        var name = "c" + b.Used.Count.ToString(CultureInfo.InvariantCulture);
        b.Used.Add(name);
        if (r.Next(4) == 0)
        {
            var value = r.Next(1, 9) * 0.25;
            b.Text.Append("const ").Append(name).Append(" = ").Append(Real(value, r)).Append(";\n");
            b.RealConsts.Add((name, value));
            return;
        }
        var v = Dim(r);
        b.Text.Append("const ").Append(name).Append(" = ").Append(IntExpression(b, v, 2)).Append(";\n");
        b.IntConsts.Add((name, v));
    }

    private static string Real(double value, Random r) => r.Next(3) switch
    {
        0 => value.ToString("0.0###", CultureInfo.InvariantCulture),
        1 => (value * 10).ToString("0.0###", CultureInfo.InvariantCulture) + "e-1",
        _ => value.ToString("R", CultureInfo.InvariantCulture).Contains('.') ? value.ToString("R", CultureInfo.InvariantCulture) : value.ToString("R", CultureInfo.InvariantCulture) + ".0",
    };

    /// <summary>An integer expression equal to <paramref name="value"/>, using constants and + - * / with exact division.</summary>
    private static string IntExpression(ProgramBuilder b, int value, int depth)
    {
        var r = b.R;
        var matching = b.IntConsts.Where(c => c.Value == value).ToList();
        if (matching.Count > 0 && r.Next(2) == 0) return matching[r.Next(matching.Count)].Name;
        if (depth <= 0 || r.Next(3) == 0) return value.ToString(CultureInfo.InvariantCulture);
        switch (r.Next(5))
        {
            case 0:
                var a = r.Next(0, value + 1);
                return $"{IntExpression(b, a, depth - 1)} + {IntExpression(b, value - a, depth - 1)}";
            case 1:
                var d = new[] { 1, 2, 3, 4 }.Where(x => value % x == 0).ToArray();
                var f = d[r.Next(d.Length)];
                return $"{IntExpression(b, f, depth - 1)} * {Paren(IntExpression(b, value / f, depth - 1))}";
            case 2:
                var m = r.Next(1, 4);
                return $"{Paren(IntExpression(b, value * m, depth - 1))} / {m}";
            case 3:
                var extra = r.Next(1, 5);
                return $"{IntExpression(b, value + extra, depth - 1)} - {Paren(IntExpression(b, extra, depth - 1))}";
            default:
                return "(" + IntExpression(b, value, depth - 1) + ")";
        }
    }

    private static string Paren(string s) => s.Contains(' ') ? "(" + s + ")" : s;

    private static void AddLayer(ProgramBuilder b)
    {
        var r = b.R;
        string name;
        if (r.Next(25) == 0) name = HostileNames[r.Next(HostileNames.Length)];
        else
        {
            name = LayerNames[r.Next(LayerNames.Length)];
            if (b.Used.Contains(name)) name += b.Used.Count.ToString(CultureInfo.InvariantCulture);
        }
        b.Used.Add(name);
        if (r.Next(3) == 0) b.Text.Append("/// ").Append(DocText(r)).Append('\n');
        if (r.Next(8) == 0) b.Text.Append("/// second line of ").Append(name).Append('\n');

        var square = r.Next(2) == 0;
        var i = Dim(r);
        var o = square ? i : Dim(r);
        if (square && r.Next(2) == 0) i = o = 1 << r.Next(1, 6);
        b.Depth = 0;
        var body = Matrix(b, i, o, 2 + r.Next(2), topLevel: true);
        if (r.Next(4) == 0) body += " + bias";
        var sep = r.Next(6) == 0 ? "\n    " : " ";
        b.Text.Append("layer ").Append(name).Append(" : ").Append(IntExpression(b, i, 1)).Append(" -> ").Append(IntExpression(b, o, 1))
            .Append(" =").Append(sep).Append(body).Append(";\n");
    }

    private static string DocText(Random r) => r.Next(8) switch
    {
        0 => "A <b>bold</b> & \"quoted\" 'layer' with </summary> inside",
        1 => "Ends with a backslash \\",
        2 => "Comment terminator */ and /* opener",
        3 => "Unicode: é, ß, 漢字, \U0001F600, \u200F rtl, a\u0301",
        4 => "line separator \u2028 then more",
        5 => "{0} {1} format braces }{",
        6 => "",
        _ => "An ordinary description of the layer.",
    };

    private static bool IsPowerOfTwo(int n) => n >= 1 && (n & (n - 1)) == 0;

    private static int[] Divisors(int n) => Enumerable.Range(1, n).Where(d => n % d == 0).ToArray();

    private static T Pick<T>(Random r, IReadOnlyList<T> items) => items[r.Next(items.Count)];

    /// <summary>A matrix expression that maps i -> o (when everything goes to plan).</summary>
    private static string Matrix(ProgramBuilder b, int i, int o, int depth, bool topLevel = false)
    {
        var r = b.R;
        if (depth <= 0 || r.Next(3) == 0) return Structure(b, i, o, explicitShape: r.Next(4) == 0);
        switch (r.Next(8))
        {
            case 0:
            case 1:
                return Matrix(b, i, o, depth - 1) + " + " + Matrix(b, i, o, depth - 1);
            case 2:
                return Matrix(b, i, o, depth - 1) + " - " + Matrix(b, i, o, depth - 1);
            case 3:
                // Product: the right factor carries an explicit shape so the middle dimension is known.
                var m = Dim(r);
                return Factor(b, Matrix(b, m, o, depth - 1)) + " * " + Structure(b, i, m, explicitShape: true);
            case 4:
                return Scale(b) + " * " + Factor(b, Matrix(b, i, o, depth - 1));
            case 5:
                return r.Next(2) == 0 ? "frozen " + Factor(b, Structure(b, i, o, r.Next(3) == 0)) : "-" + Factor(b, Matrix(b, i, o, depth - 1));
            case 6:
                return Factor(b, Matrix(b, i, o, depth - 1)) + " * " + Scale(b);
            default:
                return "(" + Matrix(b, i, o, depth - 1) + ")";
        }
    }

    private static string Factor(ProgramBuilder b, string expression) =>
        expression.Contains(" + ") || expression.Contains(" - ") || expression.StartsWith("-", StringComparison.Ordinal) ? "(" + expression + ")" : expression;

    private static string Scale(ProgramBuilder b)
    {
        var r = b.R;
        if (b.RealConsts.Count > 0 && r.Next(3) == 0) return Pick(r, b.RealConsts).Name;
        return r.Next(6) switch
        {
            0 => "2",
            1 => "0.5",
            2 => "1e-3",
            3 => "(1.5 + 0.5)",
            4 => "-0.25",
            _ => Real(r.Next(1, 9) * 0.5, r),
        };
    }

    /// <summary>One structure call mapping i -> o; falls back to dense when the chosen structure cannot have that shape.</summary>
    private static string Structure(ProgramBuilder b, int i, int o, bool explicitShape)
    {
        var r = b.R;
        var args = new List<string>();
        string name;
        var common = Divisors(Gcd(i, o));
        var kinds = new List<string> { "dense", "dense", "lowrank", "blockdiag", "monarch", "btt", "kron" };
        if (i == o)
        {
            kinds.AddRange(new[] { "householder", "diag", "perm" });
            if (IsPowerOfTwo(i) && i >= 2) kinds.AddRange(new[] { "butterfly", "blocksparse" });
        }
        switch (Pick(r, kinds))
        {
            case "lowrank":
                name = "lowrank";
                args.Add("rank: " + IntExpression(b, r.Next(1, Math.Min(i, o) + 1), 1));
                break;
            case "blockdiag":
            case "monarch":
                name = r.Next(2) == 0 ? "blockdiag" : "monarch";
                args.Add((r.Next(5) == 0 ? "" : "blocks: ") + IntExpression(b, Pick(r, common), 1));
                break;
            case "btt":
                name = "btt";
                args.Add("rank: " + r.Next(1, 3).ToString(CultureInfo.InvariantCulture));
                if (r.Next(3) == 0) args.Add("cores: 2");
                break;
            case "householder":
                name = "householder";
                args.Add((r.Next(5) == 0 ? "" : "reflections: ") + r.Next(1, i + 1).ToString(CultureInfo.InvariantCulture));
                break;
            case "diag":
                name = "diag";
                break;
            case "perm":
                name = "perm";
                var options = new List<string> { "reverse", "random" };
                if (IsPowerOfTwo(i)) options.Add("bitreversal");
                if (i % 2 == 0) options.Add("shuffle");
                var kind = Pick(r, options);
                args.Add(r.Next(6) == 0 ? "kind: " + kind : kind);
                if (kind == "random" && r.Next(2) == 0) args.Add("seed: " + r.Next(0, 1000).ToString(CultureInfo.InvariantCulture));
                break;
            case "butterfly":
                name = "butterfly";
                break;
            case "blocksparse":
                name = "blocksparse";
                var blocks = Divisors(i).Where(d => IsPowerOfTwo(i / d)).ToArray();
                args.Add("block: " + Pick(r, blocks).ToString(CultureInfo.InvariantCulture));
                args.Add(r.Next(5) == 0 ? "butterfly" : "pattern: butterfly");
                break;
            case "kron" when b.Depth < 2:
                name = "kron";
                var a1 = Pick(r, Divisors(i));
                var a2 = Pick(r, Divisors(o));
                b.Depth++;
                args.Add(Structure(b, a1, a2, explicitShape: true));
                args.Add(Structure(b, i / a1, o / a2, explicitShape: true));
                b.Depth--;
                break;
            default:
                name = "dense";
                if (r.Next(4) == 0) args.Add("seed: " + r.Next(0, 100).ToString(CultureInfo.InvariantCulture));
                break;
        }
        if (explicitShape) args.Insert(0, IntExpression(b, i, 1) + " -> " + IntExpression(b, o, 1));
        if (args.Count == 0 && name == "dense" && r.Next(2) == 0) return "dense";
        return name + "(" + string.Join(", ", args) + ")";
    }

    private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);

    // ───────────────────────────── mutations ─────────────────────────────

    private string CorpusFile(Random random, int index)
    {
        var text = _corpus[random.Next(_corpus.Count)];
        // Give every copy its own namespace so generated files can share a C# compilation.
        text = Regex.Replace(text, @"namespace\s+[A-Za-z_][A-Za-z_0-9.]*\s*;", "namespace " + NamespaceFor(index) + ";");
        if (random.Next(4) == 0) return text;
        // Usually keep only one or two of its layers (with their doc comments, and every constant), so the C# that
        // valid mutants produce stays small enough to compile thousands of them.
        var statements = Regex.Matches(text, @"(?:\s*//[^\n]*\n)*[^;]*;|[\s\S]+$").Select(m => m.Value).ToList();
        var layers = statements.Select((st, k) => (st, k)).Where(x => DeclaresLayerStatement(x.st)).Select(x => x.k).ToList();
        var keep = layers.OrderBy(_ => random.Next()).Take(1 + random.Next(2)).ToHashSet();
        return string.Concat(statements.Where((st, k) => !DeclaresLayerStatement(st) || keep.Contains(k)));
    }

    private static bool DeclaresLayerStatement(string statement) =>
        Regex.IsMatch(Regex.Replace(statement, @"//[^\n]*", ""), @"(?<![A-Za-z0-9_])layer(?![A-Za-z0-9_])");

    private static readonly Regex TokenPattern = new(
        @"///[^\r\n]*|//[^\r\n]*|/\*[\s\S]*?\*/|[A-Za-z_][A-Za-z_0-9]*|[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?|\.[0-9]+|->|\s+|.",
        RegexOptions.Compiled);

    private static readonly string[] Vocabulary =
    {
        "namespace", "const", "layer", "frozen", "bias", "dense", "lowrank", "blockdiag", "monarch", "butterfly", "blocksparse",
        "kron", "householder", "btt", "diag", "perm", "reverse", "bitreversal", "shuffle", "random", "rank", "blocks", "block",
        "pattern", "reflections", "cores", "seed", "kind", ":", ";", "=", "->", "(", ")", ",", ".", "+", "-", "*", "/", "0", "1",
        "2", "8", "16", "0.5", "1e3", ".5", "2.", "X", "Fuzz", " ", "\n", "///", "//", "/*", "*/", "#", "\"", "@", "$", "'",
    };

    private static readonly string[] HostileNumbers =
    {
        "0", "-1", "-0", "00", "007", "2147483647", "2147483648", "4294967296", "4294967297", "65536", "46341", "9223372036854775807",
        "9223372036854775808", "18446744073709551616", "99999999999999999999999", "340282366920938463463374607431768211456",
        "1e400", "1e-400", "1.7976931348623157e308", "4.9e-324", "0.0", "1.5", "2.0", "1e2", "1E+1", ".5", "5.", "0e0", "1e",
        "3.14159265358979323846264338327950288", "-2147483648", "(0-1)", "(2147483647 + 1)", "(65536 * 65536)", "(1/3)", "(4/0)",
        "(1.0/0.0)", "(0.0/0.0)", new string('9', 400), "1" + new string('0', 309) + ".0",
    };

    private static readonly string[] Unicode =
    {
        "\0", "\u200F", "\u200E", "\u202E", "\u202D", "\u2066", "\u0301", "\u0300\u0301\u0302", "\uFEFF", "\u200B", "\u200D",
        "\u2028", "\u2029", "\u0085", "\r", "\r\n", "\t", "\v", "\f", "\u00A0", "\u3000", "\U0001F600", "\U0001D400", "\uD83D",
        "\uDE00", "\uDE00\uD83D", "é", "ß", "ǅ", "漢", "Ⅷ", "٣", "１", "ｄｅｎｓｅ", "ℌ", "\uFFFF", "\uFFFE", "\u0000\u0001\u001F",
        "\u00AD", "\u034F", "İ", "ı", "К", "ᏺ",
    };

    private static List<string> Tokens(string text) => TokenPattern.Matches(text).Select(m => m.Value).ToList();

    /// <summary>1–4 random mutations of <paramref name="text"/>.</summary>
    public string Mutate(Random r, string text, int index)
    {
        var count = 1 + r.Next(r.Next(4) == 0 ? 6 : 3);
        for (var k = 0; k < count; k++) text = MutateOnce(r, text);
        return text;
    }

    private static string MutateOnce(Random r, string text)
    {
        var tokens = Tokens(text);
        if (tokens.Count == 0) tokens.Add("");
        var at = r.Next(tokens.Count);
        switch (r.Next(16))
        {
            case 0: // delete a token
                tokens.RemoveAt(at);
                break;
            case 1: // duplicate a token
                tokens.Insert(at, tokens[at]);
                break;
            case 2: // swap two tokens
                var other = r.Next(tokens.Count);
                (tokens[at], tokens[other]) = (tokens[other], tokens[at]);
                break;
            case 3: // replace a token by a vocabulary token
                tokens[at] = Pick(r, Vocabulary);
                break;
            case 4: // truncate at a random character
                return text.Substring(0, r.Next(text.Length + 1));
            case 5: // replace a number by a hostile one
            case 6:
                var numbers = Enumerable.Range(0, tokens.Count).Where(t => tokens[t].Length > 0 && (char.IsDigit(tokens[t][0]) || tokens[t][0] == '.' && tokens[t].Length > 1)).ToList();
                tokens[numbers.Count > 0 ? Pick(r, numbers) : at] = Pick(r, HostileNumbers);
                break;
            case 7: // insert unicode
                return Insert(text, r.Next(text.Length + 1), Pick(r, Unicode));
            case 8: // deep nesting of parentheses around a token
                var depth = DeepCount(r);
                tokens[at] = new string('(', depth) + tokens[at] + (r.Next(4) == 0 ? "" : new string(')', depth));
                break;
            case 9: // a long run of prefix operators
                tokens[at] = string.Concat(Enumerable.Repeat(r.Next(2) == 0 ? "-" : "frozen ", DeepCount(r))) + tokens[at];
                break;
            case 10: // a long operator chain
                var op = Pick(r, new[] { " + ", " * ", " - ", " / " });
                var operand = Pick(r, new[] { "dense", "diag()", "dense(8 -> 8)", "2", "c0", "lowrank(rank: 1)", "perm(reverse)" });
                tokens[at] = tokens[at] + string.Concat(Enumerable.Repeat(op + operand, ChainCount(r)));
                break;
            case 11: // duplicate a span of tokens (a declaration twice, an argument twice)
                var len = r.Next(1, Math.Min(20, tokens.Count - at) + 1);
                tokens.InsertRange(at, tokens.GetRange(at, len));
                break;
            case 12: // delete a span
                tokens.RemoveRange(at, r.Next(0, Math.Min(12, tokens.Count - at) + 1));
                break;
            case 13: // identifier churn: case change or a keyword
                tokens[at] = r.Next(3) switch
                {
                    0 => tokens[at].ToUpperInvariant(),
                    1 => Pick(r, HostileNames),
                    _ => tokens[at] + "_" + r.Next(10).ToString(CultureInfo.InvariantCulture),
                };
                break;
            case 14: // random character
                return Insert(text, r.Next(text.Length + 1), ((char)r.Next(0, 0x3000)).ToString());
            default: // splice in a generated structure call or argument
                tokens.Insert(at, Pick(r, new[]
                {
                    "kron(dense(2 -> 2), kron(dense(2 -> 2), dense(2 -> 2)))", "btt(rank: 1, cores: 3)", "perm(random, seed: -1)",
                    "blocksparse(block: 0, pattern: dense)", "householder(reflections: 0)", "butterfly(3 -> 3)", "dense(0 -> 0)",
                    "lowrank(rank: 2.5)", "monarch(blocks: 1)", "diag(4 -> 8)", ", 4 -> 4", "bias", "frozen frozen dense", "(-dense)",
                    "perm(shuffle)", "perm(bitreversal)", "dense(seed: 2147483648)", "lowrank(rank: 1, rank: 1)", "dense(->)",
                }));
                break;
        }
        return string.Concat(tokens);
    }

    private static string Insert(string text, int at, string what) => text.Substring(0, at) + what + text.Substring(at);

    private static int DeepCount(Random r) => r.Next(4) switch
    {
        0 => r.Next(1, 20),
        1 => r.Next(195, 206),
        2 => r.Next(1, 400),
        _ => r.Next(1, 3000),
    };

    private static int ChainCount(Random r) => r.Next(4) switch
    {
        0 => r.Next(1, 30),
        1 => r.Next(995, 1006),
        2 => r.Next(1, 600),
        _ => r.Next(1, 2500),
    };

    // ───────────────────────────── token soup and stress ─────────────────────────────

    private static string TokenSoup(Random r, int index)
    {
        var text = new StringBuilder();
        if (r.Next(2) == 0) text.Append("namespace ").Append(NamespaceFor(index)).Append(";\n");
        var n = r.Next(1, 300);
        for (var k = 0; k < n; k++)
        {
            text.Append(r.Next(20) switch
            {
                0 => Pick(r, Unicode),
                1 => Pick(r, HostileNumbers),
                _ => Pick(r, Vocabulary),
            });
            if (r.Next(3) != 0) text.Append(' ');
        }
        return text.ToString();
    }

    private static string Stress(Random r, int index)
    {
        var ns = "namespace " + NamespaceFor(index) + ";\n";
        var n = r.Next(4) switch { 0 => r.Next(195, 206), 1 => r.Next(995, 1006), _ => r.Next(1, 3000) };
        // Long valid sums and products generate megabytes of C#: near the 1,000-operator limit only now and then.
        var terms = r.Next(8) == 0 ? r.Next(995, 1006) : r.Next(1, 40);
        return r.Next(9) switch
        {
            0 => ns + "layer L : 8 -> 8 = " + new string('(', n) + "dense" + new string(')', n) + ";",
            1 => ns + "layer L : 8 -> 8 = " + string.Concat(Enumerable.Repeat("-", n)) + "dense;",
            2 => ns + "layer L : 8 -> 8 = " + string.Concat(Enumerable.Repeat("frozen ", n)) + "dense;",
            3 => ns + "layer L : 8 -> 8 = dense" + string.Concat(Enumerable.Repeat(" + dense", terms)) + ";",
            4 => ns + "layer L : 8 -> 8 = dense" + string.Concat(Enumerable.Repeat(" * dense(8 -> 8)", terms)) + ";",
            5 => ns + "const c = 1" + string.Concat(Enumerable.Repeat(" * 2", Math.Min(n, 1200))) + ";\nlayer L : 8 -> 8 = c * dense;",
            6 => ns + "layer L : 8 -> 8 = " + string.Concat(Enumerable.Repeat("kron(dense(1 -> 1), ", Math.Min(terms, 250))) + "dense(8 -> 8)" + new string(')', Math.Min(terms, 250)) + ";",
            7 => ns + string.Concat(Enumerable.Range(0, Math.Min(terms, 100)).Select(k => $"layer L{k} : 2 -> 2 = diag();\n")),
            _ => ns + "layer L : 8 -> 8 = " + string.Concat(Enumerable.Repeat("2 * ", Math.Min(n, 1200))) + "dense;",
        };
    }

    /// <summary>About 10 MB of text, of a few kinds (kept cheap to compile: the C# output stays small).</summary>
    private static string Giant(Random r, int index)
    {
        const int Size = 10 * 1024 * 1024;
        var text = new StringBuilder(Size + 1024);
        text.Append("namespace ").Append(NamespaceFor(index)).Append(";\n");
        switch (r.Next(5))
        {
            case 0: // one block comment
                text.Append("/*");
                while (text.Length < Size) text.Append("comment text * / ");
                text.Append("*/\nlayer Giant : 8 -> 8 = dense;\n");
                break;
            case 1: // a 10 MB doc comment line
                text.Append("/// ");
                while (text.Length < Size) text.Append("doc <&> ");
                text.Append("\nlayer Giant : 8 -> 8 = dense;\n");
                break;
            case 2: // many constants
                for (var k = 0; text.Length < Size; k++) text.Append("const c").Append(k).Append(" = ").Append(k % 7 + 1).Append(" * 2;\n");
                text.Append("layer Giant : c0 -> c0 = dense;\n");
                break;
            case 3: // garbage: far more than 100 errors
                while (text.Length < Size) text.Append(Pick(r, Vocabulary)).Append(' ');
                break;
            default: // whitespace, then a layer
                text.Append(' ', Size).Append("layer Giant : 8 -> 8 = dense;\n");
                break;
        }
        return text.ToString();
    }
}
