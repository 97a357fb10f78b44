using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace StructMat.Compiler.IR;

/// <summary>
/// The IR's text form: what stage dumps and golden files show, and what pass tests are written in (it parses back).
/// A program is its parameters (<c>param</c>), values (<c>value</c>), its input and output, then one line per op as
/// the op writes it (<see cref="IrOp.Text"/>), with <c>subrows=</c> and <c>weight_offset=</c> after it where they are
/// not the default. Comments are not part of the text; parsed ops have none.
/// </summary>
public static class IrText
{
    public static string Dump(IrLayer layer, IrProgram program)
    {
        var text = new StringBuilder();
        foreach (var p in layer.Parameters)
        {
            text.Append("param ").Append(p.Name).Append(" [").Append(string.Join(", ", p.Shape)).Append(']')
                .Append(p.ElementType == ElementType.Float32 ? "" : " " + p.ElementType.ToString().ToLowerInvariant())
                .Append(p.Trainable ? "" : " frozen").Append(" init=").Append(p.Init)
                .Append(p.LearningRateMultiplier == 1f ? "" : " lr×" + p.LearningRateMultiplier.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        }
        foreach (var v in program.Values)
        {
            text.Append("value %").Append(v.Id).Append(' ').Append(v.Name).Append(" [batch, ").Append(v.Width).Append("]\n");
        }
        text.Append("input %").Append(program.Input).Append(", output %").Append(program.Output).Append('\n');
        foreach (var op in program.Ops) text.Append(Op(layer, op)).Append('\n');
        return text.ToString();
    }

    /// <summary>One op's line.</summary>
    public static string Op(IrLayer layer, IrOp op)
    {
        var line = op.Text(id => layer.Parameter(id).Name);
        if (op.SubRows != 1) line += " subrows=" + op.SubRows.ToString(CultureInfo.InvariantCulture);
        var offset = (op.WeightSlice ?? op.GradientSlice)?.Offset ?? 0;
        if (offset != 0) line += " weight_offset=" + offset.ToString(CultureInfo.InvariantCulture);
        return line;
    }

    /// <summary>
    /// Reads <see cref="Dump"/>'s text back: a layer holding the parameters and the program as its forward (fan-in and
    /// fan-out 1, no descriptions: the text does not carry them). Blank lines and lines starting with <c>#</c> are skipped.
    /// </summary>
    public static (IrLayer Layer, IrProgram Program) Parse(string text, string name = "L")
    {
        var parameters = new List<IrParameter>();
        var values = new List<IrValue>();
        var ops = new List<IrOp>();
        int? input = null, output = null;
        var lineNumber = 0;
        foreach (var raw in text.Replace("\r\n", "\n").Split('\n'))
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith("#", StringComparison.Ordinal)) continue;
            try
            {
                if (line.StartsWith("param ", StringComparison.Ordinal)) parameters.Add(ParseParameter(line, parameters.Count));
                else if (line.StartsWith("value ", StringComparison.Ordinal)) values.Add(ParseValue(line));
                else if (line.StartsWith("input ", StringComparison.Ordinal))
                {
                    var parts = line.Split(new[] { ' ', ',' }, StringSplitOptions.RemoveEmptyEntries);
                    (input, output) = (Id(parts[1]), Id(parts[3]));
                }
                else ops.Add(new OpReader(line, parameters, values).Read());
            }
            catch (Exception e) when (e is FormatException or IndexOutOfRangeException or KeyNotFoundException or InvalidOperationException)
            {
                throw new FormatException($"IR text line {lineNumber}: {e.Message}: {line}", e);
            }
        }
        if (input is null || output is null) throw new FormatException("IR text has no 'input %a, output %b' line");
        var program = new IrProgram(values.ToEquatableArray(), ops.ToEquatableArray(), input.Value, output.Value);
        var layer = new IrLayer(name, program.Value(input.Value).Width, program.Value(output.Value).Width, parameters.ToEquatableArray(), program, null);
        return (layer, program);
    }

    private static IrParameter ParseParameter(string line, int id)
    {
        // param NAME [d0, d1] [uint8|int8] [frozen] init=KIND [lr×M]
        var open = line.IndexOf('[');
        var close = line.IndexOf(']');
        var name = line.Substring("param ".Length, open - "param ".Length).Trim();
        var shape = line.Substring(open + 1, close - open - 1).Split(',').Select(d => int.Parse(d.Trim(), CultureInfo.InvariantCulture)).ToEquatableArray();
        var rest = line.Substring(close + 1).Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries);
        var init = (InitKind)Enum.Parse(typeof(InitKind), rest.Single(t => t.StartsWith("init=", StringComparison.Ordinal)).Substring(5));
        var multiplier = rest.FirstOrDefault(t => t.StartsWith("lr×", StringComparison.Ordinal)) is { } lr
            ? float.Parse(lr.Substring(3), CultureInfo.InvariantCulture)
            : 1f;
        var elementType = rest.Contains("uint8") ? ElementType.UInt8 : rest.Contains("int8") ? ElementType.Int8 : ElementType.Float32;
        return new IrParameter(id, name, shape, !rest.Contains("frozen"), init, 1, 1, "") { LearningRateMultiplier = multiplier, ElementType = elementType };
    }

    private static IrValue ParseValue(string line)
    {
        // value %ID NAME [batch, W]
        var parts = line.Split(new[] { ' ', '[', ']', ',' }, StringSplitOptions.RemoveEmptyEntries);
        return new IrValue(Id(parts[1]), int.Parse(parts[4], CultureInfo.InvariantCulture), parts[2]);
    }

    private static int Id(string token) =>
        token.StartsWith("%", StringComparison.Ordinal)
            ? int.Parse(token.Substring(1), CultureInfo.InvariantCulture)
            : throw new FormatException($"expected a value %n, found '{token}'");

    /// <summary>One op line: <c>target (= | +=) mnemonic operands attributes</c>.</summary>
    private sealed class OpReader
    {
        private readonly List<string> _words;
        private readonly Dictionary<string, string> _attributes = new(StringComparer.Ordinal);
        private readonly List<IrParameter> _parameters;
        private readonly List<IrValue> _values;
        private readonly string _target;
        private readonly bool _accumulate;
        private readonly string _mnemonic;

        public OpReader(string line, List<IrParameter> parameters, List<IrValue> values)
        {
            _parameters = parameters;
            _values = values;
            var tokens = line.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries).Select(t => t.TrimEnd(',')).ToList();
            _target = tokens[0];
            _accumulate = tokens[1] switch { "=" => false, "+=" => true, _ => throw new FormatException($"expected '=' or '+=', found '{tokens[1]}'") };
            _mnemonic = tokens[2];
            _words = new List<string>();
            foreach (var token in tokens.Skip(3))
            {
                var equals = token.IndexOf('=');
                if (equals > 0) _attributes[token.Substring(0, equals)] = token.Substring(equals + 1);
                else _words.Add(token);
            }
        }

        public IrOp Read()
        {
            var op = Build();
            return _attributes.TryGetValue("subrows", out var subRows) ? op with { SubRows = int.Parse(subRows, CultureInfo.InvariantCulture) } : op;
        }

        private IrOp Build()
        {
            switch (_mnemonic)
            {
                case "matmul":
                {
                    var (g, o, i) = Block();
                    return new MatMulOp(Value(0), TargetValue(), Parameter(1), g, o, i, Layout("in"), Layout("out"), Alpha(), _accumulate, "")
                        { WeightOffset = Int("weight_offset", 0), InGroupXor = Int("xor", 0) };
                }
                case "matmul_t":
                {
                    var (g, o, i) = Block();
                    return new MatMulTransposedOp(Value(0), TargetValue(), Parameter(1), g, o, i, Layout("in"), Layout("out"), Alpha(), _accumulate, "")
                        { WeightOffset = Int("weight_offset", 0), InGroupXor = Int("xor", 0) };
                }
                case "outer":
                {
                    var (g, o, i) = Block();
                    return new WeightGradientOp(Value(0), Value(1), TargetParameter(), g, o, i, Layout("in"), Layout("out"), Alpha(), "")
                        { WeightOffset = Int("weight_offset", 0), InGroupXor = Int("xor", 0) };
                }
                case "transpose":
                    return new PermuteOp(Value(0), TargetValue(), Int("rows"), Int("cols"), _accumulate, "");
                case "scale":
                    return new ScaleOp(Value(0), TargetValue(), Alpha(), _accumulate, "");
                case "add":
                    return new AddOp(Value(0), Value(1), TargetValue(), "");
                case "bias":
                    return new BiasOp(TargetValue(), Parameter(0), "");
                case "colsum" when _words.Count == 1:
                    return new BiasGradientOp(Value(0), TargetParameter(), "");
                case "colsum":
                    // grad(d) += colsum %dy * %x
                    return new DiagonalGradientOp(Value(0), Value(2), TargetParameter(), "");
                case "diag":
                    return new DiagonalOp(Value(0), TargetValue(), Parameter(1), _accumulate, "");
                case "gather":
                {
                    var kind = (IndexMapKind)Enum.Parse(typeof(IndexMapKind), _words[1], ignoreCase: true);
                    var subRows = Int("subrows", 1);
                    var map = new IndexMap(kind, _values.Single(v => v.Id == Value(0)).Width / subRows)
                    {
                        Seed = Int("seed", 0), Block = Int("block", 0), Distance = Int("distance", 0), Group = Int("group", 0),
                    };
                    return new GatherOp(Value(0), TargetValue(), map, _words.Contains("inverse"), _accumulate, "");
                }
                case "householder":
                case "householder_t":
                    return new HouseholderOp(Value(0), TargetValue(), Parameter(1), Int("n"), Int("r"), _mnemonic == "householder_t", _accumulate, "");
                case "householder_grad":
                    return new HouseholderGradientOp(Value(0), Value(1), TargetParameter(), Int("n"), Int("r"), "");
                case "oft":
                case "oft_t":
                    return new OrthogonalBlocksOp(Value(0), TargetValue(), Parameter(1), Int("blocks"), Int("block"), Int("neumann"), _mnemonic == "oft_t", _accumulate, "")
                        { Skew = Skew(), WeightOffset = Int("weight_offset", 0) };
                case "hadamard":
                case "hadamard_t":
                    return new HadamardLowRankOp(Value(0), TargetValue(), Parameter(1), Parameter(2), Parameter(3), Parameter(4), Int("in"), Int("out"), Int("r1"), Int("r2"),
                        _mnemonic == "hadamard_t", _accumulate, "");
                case "butterfly":
                case "butterfly_t":
                    return new ButterflyOp(Value(0), TargetValue(), Parameter(1), Int("n"), _mnemonic == "butterfly_t", _accumulate, "");
                case "butterfly_grad":
                    return new ButterflyGradientOp(Value(0), Value(1), TargetParameter(), Int("n"), "");
                case "qmatmul":
                case "qmatmul_t":
                {
                    var nf4 = _words.Contains("nf4");
                    if (!nf4 && !_words.Contains("int8")) throw new FormatException("qmatmul needs its format, nf4 or int8");
                    return new QuantMatMulOp(Value(0), TargetValue(), Parameter(1), Parameter(2), nf4 ? QuantFormat.Nf4 : QuantFormat.Int8, nf4 ? Int("group") : 0,
                        Int("out"), Int("in"), _mnemonic == "qmatmul_t", Alpha(), _accumulate, "");
                }
                case "hadamard_grad":
                    return new HadamardLowRankGradientOp(Value(0), Value(1), Parameter(2), Parameter(3), Parameter(4), Parameter(5), Int("in"), Int("out"), Int("r1"), Int("r2"),
                        Int("target"), "");
                case "rownorm":
                {
                    var low = Int("rank") > 0;
                    return new RowNormalizeOp(Value(0), TargetValue(), Parameter(1), low ? Parameter(2) : -1, low ? Parameter(3) : -1, Alpha("scale"), Int("out"), Int("in"), Int("rank"), _accumulate, "");
                }
                case "rownorm_grad":
                {
                    var low = Int("rank") > 0;
                    return new RowNormalizeGradientOp(Value(0), Value(1), Parameter(2), low ? Parameter(3) : -1, low ? Parameter(4) : -1, Alpha("scale"), Int("out"), Int("in"), Int("rank"), Int("target"), "");
                }
                case "oft_grad":
                    return new OrthogonalBlocksGradientOp(Value(0), Value(1), TargetParameter(), Int("blocks"), Int("block"), Int("neumann"), "")
                        { Skew = Skew(), WeightOffset = Int("weight_offset", 0) };
                default:
                    throw new FormatException($"unknown op '{_mnemonic}'");
            }
        }

        private int TargetValue() => Id(_target);

        private int TargetParameter() =>
            _target.StartsWith("grad(", StringComparison.Ordinal) && _target.EndsWith(")", StringComparison.Ordinal)
                ? ParameterNamed(_target.Substring(5, _target.Length - 6))
                : throw new FormatException($"expected grad(parameter), found '{_target}'");

        private int Value(int word) => Id(_words[word]);

        private int Parameter(int word) => ParameterNamed(_words[word]);

        private int ParameterNamed(string name) =>
            _parameters.FirstOrDefault(p => p.Name == name)?.Id ?? throw new FormatException($"unknown parameter '{name}'");

        private (int Groups, int BlockOut, int BlockIn) Block()
        {
            var block = _attributes["block"].Split('x');
            return (Int("groups"), int.Parse(block[0], CultureInfo.InvariantCulture), int.Parse(block[1], CultureInfo.InvariantCulture));
        }

        private Layout Layout(string key) => (Layout)Enum.Parse(typeof(Layout), _attributes[key]);

        private SkewKind Skew() => _attributes.TryGetValue("skew", out var skew) && skew == "full" ? SkewKind.Full : SkewKind.Packed;

        private float Alpha(string key = "alpha") => _attributes.TryGetValue(key, out var alpha) ? float.Parse(alpha, CultureInfo.InvariantCulture) : 1f;

        private int Int(string key, int? fallback = null) =>
            _attributes.TryGetValue(key, out var value) ? int.Parse(value, CultureInfo.InvariantCulture)
            : fallback ?? throw new FormatException($"missing '{key}='");
    }
}
