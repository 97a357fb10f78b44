using System.IO;
using System.Linq;
using StructMat.Cli.Tests.Infrastructure;
using StructMat.Compiler.Inspection;
using Xunit;

namespace StructMat.Cli.Tests;

/// <summary>The compiler's inspection API that explain and bench read, against figures worked out by hand.</summary>
public class InspectionTests
{
    [Fact]
    public void Monarch_keeps_one_intermediate_of_n_floats_between_its_factors()
    {
        // x -> first block-diagonal factor -> t (16 floats; both transposes are folded into strided indexing) -> second -> y.
        var inspection = LayerInspector.Inspect(File.ReadAllText(Path.Combine(Repo.Cases, "monarch.smx")), "monarch.smx");

        var layer = inspection.Layers.Single(l => l.Name == "MonarchSquare");
        Assert.Equal(16, layer.ForwardWorkspaceFloatsPerRow);
        Assert.Equal(128, layer.FlopsPerRow);
        Assert.Equal(256, layer.DenseFlopsPerRow);
        Assert.Equal(144, layer.ParameterCount);
        Assert.Equal(16 * 16 + 16, layer.DenseParameterCount);
        Assert.Equal(new[] { "blkdiag1", "blkdiag2", "bias" }, layer.Parameters.Select(p => p.Name));
    }

    [Fact]
    public void A_single_block_product_needs_no_intermediate()
    {
        var inspection = LayerInspector.Inspect("namespace T;\nlayer B : 12 -> 8 = blockdiag(blocks: 4);\n", "t.smx");

        var layer = Assert.Single(inspection.Layers);
        Assert.Equal(0, layer.ForwardWorkspaceFloatsPerRow);
        Assert.Equal(4 * 2 * 3, layer.FlopsPerRow);
    }

    [Fact]
    public void Layers_with_errors_are_left_out_and_their_diagnostics_kept()
    {
        var inspection = LayerInspector.Inspect("namespace T;\nlayer Good : 8 -> 8 = dense;\nlayer Bad : 8 -> 6 = lowrank(rank: 7);\n", "t.smx");

        Assert.True(inspection.HasErrors);
        Assert.Equal("SMX0104", Assert.Single(inspection.Diagnostics).Id);
        Assert.Equal("Good", Assert.Single(inspection.Layers).Name);
    }
}
