using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Xml;

namespace StructMat.Cli.Bench;

/// <summary>
/// <c>smx bench --svg</c>: one panel per layer, time per call against batch size on log-log axes, a line each for the
/// structure and dense, forward (solid) and forward + backward (dashed). Each point is a
/// <c>&lt;circle class="point" data-layer data-batch data-pass data-series data-seconds&gt;</c>.
/// </summary>
public static class BenchSvg
{
    private const double PanelWidth = 360;
    private const double PanelHeight = 240;
    private const double Pad = 50;
    private const string Ns = "http://www.w3.org/2000/svg";

    public static void Write(string path, IReadOnlyList<BenchRow> rows, string baseline)
    {
        var layers = rows.Select(r => r.Layer).Distinct().ToList();
        var width = Pad + layers.Count * (PanelWidth + Pad);
        var height = PanelHeight + 2 * Pad + 54;
        using var writer = XmlWriter.Create(path, new XmlWriterSettings { Indent = true, Encoding = new System.Text.UTF8Encoding(false) });
        writer.WriteStartElement("svg", Ns);
        Attr(writer, "width", width);
        Attr(writer, "height", height);
        writer.WriteAttributeString("viewBox", $"0 0 {N(width)} {N(height)}");
        writer.WriteAttributeString("font-family", "sans-serif");
        Text(writer, Pad, 18, 12, "median time per call against batch size (log-log)");
        Text(writer, Pad, 34, 11, $"blue: structure, grey: {baseline}; solid: forward, dashed: forward + backward");
        for (var k = 0; k < layers.Count; k++)
        {
            Panel(writer, Pad + k * (PanelWidth + Pad), Pad + 14, rows.Where(r => r.Layer == layers[k]).ToList(), layers[k]);
        }
        writer.WriteEndElement();
    }

    private static void Panel(XmlWriter writer, double left, double top, List<BenchRow> rows, string layer)
    {
        var times = rows.SelectMany(r => new[] { r.Seconds, r.DenseSeconds }).ToList();
        var (tMin, tMax) = (Math.Log10(times.Min()), Math.Log10(times.Max()));
        var (bMin, bMax) = (Math.Log10(rows.Min(r => r.Batch)), Math.Log10(rows.Max(r => r.Batch)));
        if (tMax - tMin < 1e-9) (tMin, tMax) = (tMin - 0.5, tMax + 0.5);
        if (bMax - bMin < 1e-9) (bMin, bMax) = (bMin - 0.5, bMax + 0.5);
        double X(int batch) => left + (Math.Log10(batch) - bMin) / (bMax - bMin) * PanelWidth;
        double Y(double seconds) => top + PanelHeight - (Math.Log10(seconds) - tMin) / (tMax - tMin) * PanelHeight;

        writer.WriteStartElement("g", Ns);
        writer.WriteAttributeString("class", "panel");
        writer.WriteAttributeString("data-layer", layer);
        writer.WriteStartElement("rect", Ns);
        Attr(writer, "x", left);
        Attr(writer, "y", top);
        Attr(writer, "width", PanelWidth);
        Attr(writer, "height", PanelHeight);
        writer.WriteAttributeString("fill", "none");
        writer.WriteAttributeString("stroke", "#333");
        writer.WriteEndElement();
        Text(writer, left, top - 8, 12, layer);
        foreach (var batch in rows.Select(r => r.Batch).Distinct()) Text(writer, X(batch) - 8, top + PanelHeight + 16, 10, batch.ToString(CultureInfo.InvariantCulture));
        Text(writer, left, top + PanelHeight + 32, 10, $"batch; time axis {Seconds(Math.Pow(10, tMin))} to {Seconds(Math.Pow(10, tMax))}");

        foreach (var pass in new[] { Pass.Forward, Pass.ForwardBackward })
        {
            var series = rows.Where(r => r.Pass == pass).OrderBy(r => r.Batch).ToList();
            foreach (var (name, color, seconds) in new (string, string, Func<BenchRow, double>)[] { ("structure", "#2171b5", r => r.Seconds), ("dense", "#777777", r => r.DenseSeconds) })
            {
                writer.WriteStartElement("polyline", Ns);
                writer.WriteAttributeString("points", string.Join(" ", series.Select(r => N(X(r.Batch)) + "," + N(Y(seconds(r))))));
                writer.WriteAttributeString("fill", "none");
                writer.WriteAttributeString("stroke", color);
                if (pass == Pass.ForwardBackward) writer.WriteAttributeString("stroke-dasharray", "5,3");
                writer.WriteEndElement();
                foreach (var row in series)
                {
                    writer.WriteStartElement("circle", Ns);
                    writer.WriteAttributeString("class", "point");
                    writer.WriteAttributeString("data-layer", layer);
                    writer.WriteAttributeString("data-batch", row.Batch.ToString(CultureInfo.InvariantCulture));
                    writer.WriteAttributeString("data-pass", Commands.BenchCommand.PassName(pass));
                    writer.WriteAttributeString("data-series", name);
                    writer.WriteAttributeString("data-seconds", seconds(row).ToString("R", CultureInfo.InvariantCulture));
                    Attr(writer, "cx", X(row.Batch));
                    Attr(writer, "cy", Y(seconds(row)));
                    Attr(writer, "r", 3);
                    writer.WriteAttributeString("fill", color);
                    writer.WriteEndElement();
                }
            }
        }
        writer.WriteEndElement();
    }

    private static string Seconds(double s) => s >= 1e-3 ? N(s * 1e3) + " ms" : N(s * 1e6) + " µs";

    private static void Text(XmlWriter writer, double x, double y, double size, string text)
    {
        writer.WriteStartElement("text", Ns);
        Attr(writer, "x", x);
        Attr(writer, "y", y);
        Attr(writer, "font-size", size);
        writer.WriteString(text);
        writer.WriteEndElement();
    }

    private static void Attr(XmlWriter writer, string name, double value) => writer.WriteAttributeString(name, N(value));

    private static string N(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
