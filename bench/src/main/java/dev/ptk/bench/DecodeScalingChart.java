package dev.ptk.bench;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * A result as a picture, next to its JSON: on the left the P-scaling of a decode step (measured
 * time per step in each activation precision, the floor: bytes over measured bandwidth, and what P
 * independent one-path float32 steps would cost); on the right, when the result has prefill rows,
 * prefill tokens/s per prompt length in each precision, with the baseline path's and the target.
 *
 * <p>{@code DecodeScalingChart RESULT.json} redraws RESULT.png from a committed result.
 */
public final class DecodeScalingChart {
  private DecodeScalingChart() {}

  public static void main(String[] args) throws IOException {
    Path json = Path.of(args[0]);
    write(JsonParser.parseString(Files.readString(json)).getAsJsonObject(), png(json));
  }

  static Path png(Path json) {
    return json.resolveSibling(json.getFileName().toString().replaceFirst("\\.json$", ".png"));
  }

  static void write(JsonObject result, Path png) throws IOException {
    // One measured line per activation precision (results before it was a parameter: float32).
    Map<String, XYSeries> measured = new LinkedHashMap<>();
    XYSeries floor = new XYSeries("floor: bytes / measured bandwidth");
    XYSeries independent = new XYSeries("P independent one-path steps (f32)");
    for (var e : result.getAsJsonArray("results")) {
      JsonObject row = e.getAsJsonObject();
      String activations = activations(row);
      int p = row.get("paths").getAsInt();
      double ms = row.get("ms_per_step").getAsDouble();
      measured.computeIfAbsent(activations, a -> new XYSeries("measured, " + a + " activations (ms per step)")).add(p, ms);
      if (activations.equals("f32")) floor.add(p, row.get("floor_ms").getAsDouble());
    }
    XYSeries f32 = measured.get("f32");
    for (int i = 0; f32 != null && i < f32.getItemCount(); i++) {
      independent.add(f32.getX(i), f32.getY(0).doubleValue() * f32.getX(i).doubleValue());  // item 0 is P = 1
    }
    XYSeriesCollection data = new XYSeriesCollection();
    data.addSeries(floor);
    data.addSeries(independent);
    for (XYSeries m : measured.values()) data.addSeries(m);
    JFreeChart chart = ChartFactory.createXYLineChart(result.get("benchmark").getAsString(), "paths P",
        "milliseconds per decode step", data, PlotOrientation.VERTICAL, true, false, false);
    XYPlot plot = chart.getXYPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
    XYLineAndShapeRenderer lines = new XYLineAndShapeRenderer(true, true);
    lines.setSeriesPaint(0, new Color(0x2CA02C));
    lines.setSeriesPaint(1, Color.GRAY);
    lines.setSeriesPaint(2, new Color(0xD62728));
    lines.setSeriesPaint(3, new Color(0x1F77B4));
    lines.setSeriesStroke(1, new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
    plot.setRenderer(lines);
    ((NumberAxis) plot.getDomainAxis()).setStandardTickUnits(NumberAxis.createIntegerTickUnits());
    if (!result.has("prefill")) {
      ChartUtils.saveChartAsPNG(png.toFile(), chart, 800, 500);
      return;
    }
    BufferedImage image = new BufferedImage(1400, 500, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    chart.draw(g, new Rectangle2D.Double(0, 0, 800, 500));
    prefillChart(result).draw(g, new Rectangle2D.Double(800, 0, 600, 500));
    g.dispose();
    ImageIO.write(image, "png", png.toFile());
  }

  private static JFreeChart prefillChart(JsonObject result) {
    DefaultCategoryDataset data = new DefaultCategoryDataset();
    double target = result.getAsJsonObject("targets").get("prefill_tokens_per_s_min").getAsDouble();
    for (var e : result.getAsJsonArray("prefill")) {
      JsonObject row = e.getAsJsonObject();
      String prompt = row.get("tokens").getAsInt() + " tokens";
      double tps = row.get("tokens_per_s").getAsDouble();
      data.addValue(tps, activations(row) + " activations", prompt);
      if (row.has("speedup_vs_baseline") && activations(row).equals("f32")) {
        data.addValue(tps / row.get("speedup_vs_baseline").getAsDouble(), "baseline path (f32)", prompt);
      }
      data.addValue(target, "target", prompt);
    }
    JFreeChart chart = ChartFactory.createBarChart("Prefill", "prompt", "tokens per second", data,
        PlotOrientation.VERTICAL, true, false, false);
    CategoryPlot plot = chart.getCategoryPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    BarRenderer bars = (BarRenderer) plot.getRenderer();
    bars.setBarPainter(new StandardBarPainter());
    for (int i = 0; i < data.getRowCount(); i++) {
      String series = (String) data.getRowKey(i);
      bars.setSeriesPaint(i, series.startsWith("bf16") ? new Color(0x1F77B4) : series.startsWith("f32") ? new Color(0xD62728)
          : series.startsWith("target") ? new Color(0x2CA02C) : Color.GRAY);
    }
    return chart;
  }

  private static String activations(JsonObject row) {
    return row.has("activations") ? row.get("activations").getAsString() : "f32";
  }
}
