using System;
using System.Collections.Generic;
using System.Linq;
using StructMat.Runtime;
using Xunit;

namespace StructMat.Layers.Tests;

/// <summary>
/// The generated <c>Project(dense)</c>: projecting a matrix that already has the structure recovers it.
/// (Optimality on arbitrary matrices is tested against brute force in the runtime's projection tests.)
/// </summary>
public class ProjectionTests
{
    public static IEnumerable<object[]> Projectable =>
        LayerCatalog.Types.Where(t => typeof(IProjectable).IsAssignableFrom(t)).Select(t => new object[] { t.Name });

    [Fact]
    public void The_projectable_structures_have_Project()
    {
        Assert.Equal(
            new[]
            {
                "Blocks", "DenseBias", "FlyMonarch", "KronRectangular", "LowRank", "MonarchDown", "MonarchSquare", "MonarchTwoBlocks", "MonarchUp",
                "OneBlocks", "OneDense", "OneLowRank", "OneMonarch",
            },
            Projectable.Select(row => (string)row[0]).OrderBy(n => n, StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Projectable))]
    public void Projecting_a_structured_matrix_recovers_it(string name)
    {
        var source = LayerCatalog.CreateRandomized(name, seed: 5);
        var target = LayerCatalog.Create(name, seed: 9);
        var dense = source.ToDense();

        var error = ((IProjectable)target).Project(dense);

        var scale = Math.Sqrt(dense.Sum(v => (double)v * v));
        Assert.True(error < 1e-5 * scale, $"{name}: projection error {error:E2} for ‖W‖ = {scale:F3}");
        var recovered = target.ToDenseDouble();
        Assert.True(Oracle.RelativeError(dense, recovered) < 1e-5, $"{name}: {Oracle.RelativeError(dense, recovered):E2}");
    }

    [Fact]
    public void Project_rejects_a_matrix_of_the_wrong_size()
    {
        var layer = new StructMat.Tests.Cases.LowRank();
        var error = Assert.Throws<ArgumentException>(() => layer.Project(new float[7]));
        Assert.Equal("dense", error.ParamName);
    }
}
