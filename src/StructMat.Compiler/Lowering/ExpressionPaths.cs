using System.Collections.Generic;
using System.Globalization;
using StructMat.Compiler.Semantics;

namespace StructMat.Compiler.Lowering;

/// <summary>
/// How parameter tensors are named: by their path in the layer expression. A sum's terms are
/// <c>terms.k</c>, a product's factors (left to right) <c>factors.k</c>, a kron's <c>kron.0</c>/<c>kron.1</c>, a
/// hadamard's operands <c>hadamard.0</c>/<c>hadamard.1</c>; scaling and <c>frozen</c> add nothing. Lowering and the dense oracle both name parameters through here.
/// </summary>
public static class ExpressionPaths
{
    public static string Join(string path, string name) => path.Length == 0 ? name : path + "." + name;

    public static string Term(string path, int index) => Join(path, "terms." + index.ToString(CultureInfo.InvariantCulture));

    public static string Factor(string path, int index) => Join(path, "factors." + index.ToString(CultureInfo.InvariantCulture));

    /// <summary>The factors of a product chain, left to right: <c>A * B * C</c> → [A, B, C].</summary>
    public static List<BoundExpression> Factors(BoundExpression expression)
    {
        if (expression is not BoundProduct product) return new List<BoundExpression> { expression };
        var factors = Factors(product.Left);
        factors.AddRange(Factors(product.Right));
        return factors;
    }
}
