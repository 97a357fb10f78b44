using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Xml;
using StructMat.Compiler.Inspection;

namespace StructMat.Cli.Svg;

/// <summary>
/// The picture <c>smx explain --svg</c> draws: the layer's factors as blocks sized by their shapes (out high, in wide,
/// in the order the expression writes them), and a heat map of |W| of the dense [out, in] matrix, downsampled to at
/// most <see cref="MaxCells"/> cells a side (a cell shows the largest |w| it covers). Cells that are exactly zero are
/// not drawn, so the picture's empty space is the structure's zeros. Every heat-map cell is a
/// <c>&lt;rect class="nz" data-row data-col&gt;</c>, so tools and tests can read the pattern back.
/// </summary>
public static class StructureSvg
{
    public const int MaxCells = 128;
    private const double MapSize = 384;
    private const double BlockSpace = 120;
    private const double Margin = 20;

    /// <param name="dense">The dense weight [out, in], row-major.</param>
    public static void Write(string path, LayerInfo layer, float[] dense, string patternNote)
    {
        var (rows, cols) = (Math.Min(layer.Shape.Out, MaxCells), Math.Min(layer.Shape.In, MaxCells));
        var cells = Downsample(dense, layer.Shape.Out, layer.Shape.In, rows, cols);
        var largest = cells.Cast<double>().DefaultIfEmpty(0).Max();
        var cell = MapSize / Math.Max(rows, cols);

        var largestDim = layer.Factors.Select(f => Math.Max(f.Shape.In, f.Shape.Out)).DefaultIfEmpty(1).Max();
        var scale = BlockSpace / largestDim;
        var blocksWidth = layer.Factors.Sum(f => Math.Max(4, f.Shape.In * scale) + 16);
        var width = Math.Max(Margin * 2 + blocksWidth, Margin * 2 + 560);
        var mapTop = Margin + 54 + BlockSpace + 50;
        var height = mapTop + rows * cell + Margin + 20;

        var settings = new XmlWriterSettings { Indent = true, Encoding = new System.Text.UTF8Encoding(false) };
        using var writer = XmlWriter.Create(path, settings);
        const string ns = "http://www.w3.org/2000/svg";
        writer.WriteStartElement("svg", ns);
        writer.WriteAttributeString("width", Num(width));
        writer.WriteAttributeString("height", Num(height));
        writer.WriteAttributeString("viewBox", $"0 0 {Num(width)} {Num(height)}");
        writer.WriteAttributeString("font-family", "sans-serif");
        Text(writer, Margin, Margin + 8, 16, $"{layer.Name} : {layer.Shape.In} -> {layer.Shape.Out}{(layer.HasBias ? " (+ bias)" : "")}");
        Text(writer, Margin, Margin + 26, 11, $"{Count(layer.ParameterCount)} parameters ({Count(layer.DenseParameterCount)} dense), {Count(layer.FlopsPerRow)} multiply-adds per row ({Count(layer.DenseFlopsPerRow)} dense)");
        Text(writer, Margin, Margin + 40, 11, "factors as written (the rightmost applies first); block height = out, width = in");

        // The factors.
        writer.WriteStartElement("g", ns);
        writer.WriteAttributeString("id", "factors");
        var x = Margin;
        foreach (var factor in layer.Factors)
        {
            var (w, h) = (Math.Max(4, factor.Shape.In * scale), Math.Max(4, factor.Shape.Out * scale));
            var top = Margin + 54;
            writer.WriteStartElement("rect", ns);
            writer.WriteAttributeString("class", "factor");
            writer.WriteAttributeString("data-kind", factor.Kind);
            writer.WriteAttributeString("x", Num(x));
            writer.WriteAttributeString("y", Num(top));
            writer.WriteAttributeString("width", Num(w));
            writer.WriteAttributeString("height", Num(h));
            writer.WriteAttributeString("fill", factor.Frozen ? "#c8c8c8" : "#9ecae1");
            writer.WriteAttributeString("stroke", "#333");
            Title(writer, factor.Text);
            writer.WriteEndElement();
            Text(writer, x, top + h + 14, 10, factor.Kind + (factor.Frozen ? " (frozen)" : ""));
            Text(writer, x, top + h + 26, 9, factor.Shape.ToString());
            x += w + 16;
        }
        writer.WriteEndElement();

        // The dense matrix's nonzero pattern.
        Text(writer, Margin, mapTop - 10, 11, $"|W| of the dense [{layer.Shape.Out}, {layer.Shape.In}] matrix" +
            (rows < layer.Shape.Out || cols < layer.Shape.In ? $", {rows} x {cols} cells (largest |w| per cell)" : "") + $"; {patternNote}; blank = exactly zero");
        writer.WriteStartElement("g", ns);
        writer.WriteAttributeString("id", "pattern");
        writer.WriteAttributeString("fill", "#08519c");
        writer.WriteAttributeString("data-rows", rows.ToString(CultureInfo.InvariantCulture));
        writer.WriteAttributeString("data-cols", cols.ToString(CultureInfo.InvariantCulture));
        writer.WriteStartElement("rect", ns);
        writer.WriteAttributeString("x", Num(Margin));
        writer.WriteAttributeString("y", Num(mapTop));
        writer.WriteAttributeString("width", Num(cols * cell));
        writer.WriteAttributeString("height", Num(rows * cell));
        writer.WriteAttributeString("fill", "white");
        writer.WriteAttributeString("stroke", "#333");
        writer.WriteEndElement();
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < cols; c++)
            {
                if (cells[r, c] == 0) continue;
                writer.WriteStartElement("rect", ns);
                writer.WriteAttributeString("class", "nz");
                writer.WriteAttributeString("data-row", r.ToString(CultureInfo.InvariantCulture));
                writer.WriteAttributeString("data-col", c.ToString(CultureInfo.InvariantCulture));
                writer.WriteAttributeString("x", Num(Margin + c * cell));
                writer.WriteAttributeString("y", Num(mapTop + r * cell));
                writer.WriteAttributeString("width", Num(cell));
                writer.WriteAttributeString("height", Num(cell));
                // Square root: small entries stay visible next to large ones.
                writer.WriteAttributeString("fill-opacity", Num(0.15 + 0.85 * Math.Sqrt(cells[r, c] / largest)));
                writer.WriteEndElement();
            }
        }
        writer.WriteEndElement();
        writer.WriteEndElement();
    }

    private static double[,] Downsample(float[] dense, int outFeatures, int inFeatures, int rows, int cols)
    {
        var cells = new double[rows, cols];
        for (var i = 0; i < outFeatures; i++)
        {
            var r = (int)((long)i * rows / outFeatures);
            for (var j = 0; j < inFeatures; j++)
            {
                var c = (int)((long)j * cols / inFeatures);
                var v = Math.Abs((double)dense[(long)i * inFeatures + j]);
                if (double.IsNaN(v)) throw new CommandFailedException("the dense matrix has NaN entries; nothing to draw");
                if (v > cells[r, c]) cells[r, c] = v;
            }
        }
        return cells;
    }

    private static void Text(XmlWriter writer, double x, double y, double size, string text)
    {
        writer.WriteStartElement("text", "http://www.w3.org/2000/svg");
        writer.WriteAttributeString("x", Num(x));
        writer.WriteAttributeString("y", Num(y));
        writer.WriteAttributeString("font-size", Num(size));
        writer.WriteString(text);
        writer.WriteEndElement();
    }

    private static void Title(XmlWriter writer, string text)
    {
        writer.WriteStartElement("title", "http://www.w3.org/2000/svg");
        writer.WriteString(text);
        writer.WriteEndElement();
    }

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Num(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
