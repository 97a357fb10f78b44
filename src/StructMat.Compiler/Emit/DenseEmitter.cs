using System.Linq;
using StructMat.Compiler.Lowering;
using StructMat.Compiler.Semantics;
using StructMat.Compiler.Structures;

namespace StructMat.Compiler.Emit;

/// <summary>
/// Emits <c>ToDenseDouble()</c>: the layer's weight built in float64 straight from the bound tree (each
/// structure's dense form, <see cref="Structure.DenseOracle"/>, from its definition; sums, products, Kronecker products and
/// scales of dense matrices), independent of the IR the fast paths run, so tests can use it as the oracle.
/// </summary>
internal static class DenseEmitter
{
    public static void Emit(SourceWriter w, LayerModel model)
    {
        w.Line($"/// <summary>The dense weight [{model.Bound.Shape.Out}, {model.Bound.Shape.In}] (bias excluded), built in float64 from the structure's definition.</summary>");
        w.Block("public double[] ToDenseDouble()", () =>
        {
            if (LargestDense(model.Bound.Body) is var largest && largest > MaxArrayLength)
            {
                // No .NET array holds it: say so instead of building a wrong one (an int size would wrap around).
                var (o, i) = (model.Bound.Shape.Out, model.Bound.Shape.In);
                w.Line($"throw new {TypeNames.NotSupportedException}(\"The dense weight of {model.ClassName} [{o}, {i}] would need a float64 array of {CSharp.Count(largest)} elements; " +
                       $".NET arrays hold at most {CSharp.Count(MaxArrayLength)}.\");");
                return;
            }
            var counter = 0;
            var result = Emit(w, model, model.Bound.Body, "", ref counter);
            w.Line($"return {result};");
        });
        w.Line();
        w.Line("/// <inheritdoc/>");
        w.Line($"public float[] ToDense() => {TypeNames.Array}.ConvertAll(ToDenseDouble(), v => (float)v);");
        w.Line();
        w.Line("/// <inheritdoc/>");
        w.Line("public float[] Merge() => ToDense();");
        ProjectionEmitter.Emit(w, model);
    }

    /// <summary>The most elements one .NET array can hold (<c>Array.MaxLength</c>).</summary>
    public const long MaxArrayLength = 0x7FFFFFC7;

    /// <summary>The largest dense matrix the oracle builds for this tree (out · in of any part, the whole included).</summary>
    public static long LargestDense(BoundExpression expression)
    {
        var own = (long)expression.Shape.In * expression.Shape.Out;
        var parts = expression switch
        {
            BoundSum sum => sum.Terms.Select(LargestDense).Max(),
            BoundProduct product => System.Math.Max(LargestDense(product.Left), LargestDense(product.Right)),
            BoundKron kron => System.Math.Max(LargestDense(kron.Left), LargestDense(kron.Right)),
            BoundHadamard hadamard => System.Math.Max(LargestDense(hadamard.Left), LargestDense(hadamard.Right)),
            BoundNormalize normalize => LargestDense(normalize.Operand),
            BoundScale scale => LargestDense(scale.Operand),
            _ => 0L,
        };
        return System.Math.Max(own, parts);
    }

    private static string Emit(SourceWriter w, LayerModel model, BoundExpression expression, string path, ref int counter)
    {
        string Param(string name) => model.PropertyOfPath(ExpressionPaths.Join(path, name)) + ".Data";
        var (i, o) = (expression.Shape.In, expression.Shape.Out);
        string code;
        switch (expression)
        {
            case BoundPrimitive primitive:
            {
                var form = primitive.Structure.DenseOracle(primitive, Param);
                w.Comment(Where(path) + form.Comment);
                code = form.Code;
                break;
            }
            case BoundSum sum:
            {
                var terms = new string[sum.Terms.Count];
                for (var k = 0; k < terms.Length; k++) terms[k] = Emit(w, model, sum.Terms[k], ExpressionPaths.Term(path, k), ref counter);
                w.Comment($"{Where(path)}sum of {terms.Length} terms");
                code = terms[0];
                for (var k = 1; k < terms.Length; k++) code = $"{TypeNames.DenseMath}.Add({code}, {terms[k]})";
                break;
            }
            case BoundProduct product:
            {
                var factors = ExpressionPaths.Factors(product);
                var names = new string[factors.Count];
                for (var k = 0; k < names.Length; k++) names[k] = Emit(w, model, factors[k], ExpressionPaths.Factor(path, k), ref counter);
                w.Comment($"{Where(path)}product of {names.Length} factors, left to right");
                code = names[0];
                var rows = factors[0].Shape.Out;
                for (var k = 1; k < names.Length; k++)
                {
                    code = $"{TypeNames.DenseMath}.MatMul({code}, {names[k]}, {rows}, {factors[k].Shape.Out}, {factors[k].Shape.In})";
                }
                break;
            }
            case BoundKron kron:
            {
                var left = Emit(w, model, kron.Left, ExpressionPaths.Join(path, "kron.0"), ref counter);
                var right = Emit(w, model, kron.Right, ExpressionPaths.Join(path, "kron.1"), ref counter);
                w.Comment($"{Where(path)}kron {i} -> {o}: torch.kron of the two factors");
                code = $"{TypeNames.DenseMath}.Kron({left}, {kron.Left.Shape.Out}, {kron.Left.Shape.In}, {right}, {kron.Right.Shape.Out}, {kron.Right.Shape.In})";
                break;
            }
            case BoundNormalize normalize:
            {
                var inner = Emit(w, model, normalize.Operand, path, ref counter);
                w.Comment($"{Where(path)}normalize {i} -> {o}: each row scaled to unit L2 norm");
                code = $"{TypeNames.DenseMath}.NormalizeRows({inner}, {o}, {i})";
                break;
            }
            case BoundHadamard hadamard:
            {
                var left = Emit(w, model, hadamard.Left, ExpressionPaths.Join(path, "hadamard.0"), ref counter);
                var right = Emit(w, model, hadamard.Right, ExpressionPaths.Join(path, "hadamard.1"), ref counter);
                w.Comment($"{Where(path)}hadamard {i} -> {o}: the elementwise product of the two");
                code = $"{TypeNames.DenseMath}.Hadamard({left}, {right})";
                break;
            }
            case BoundScale scale:
            {
                var inner = Emit(w, model, scale.Operand, path, ref counter);
                w.Comment($"{Where(path)}scaled by {CSharp.Double(scale.Factor)}");
                code = $"{TypeNames.DenseMath}.Scale({inner}, {CSharp.Double(scale.Factor)})";
                break;
            }
            default:
                throw new System.InvalidOperationException($"No dense form for {expression.GetType().Name}");
        }
        var name = "m" + counter++;
        w.Line($"var {name} = {code};");
        return name;
    }

    private static string Where(string path) => path.Length == 0 ? "" : path + ": ";
}
