package dev.ptk.bench;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The P-scaling of a decode step as a picture, next to its JSON: measured time per step, the floor
 * (bytes over measured bandwidth) and what P independent one-path steps would cost.
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
    XYSeries measured = new XYSeries("measured (ms per step)");
    XYSeries floor = new XYSeries("floor: bytes / measured bandwidth");
    XYSeries independent = new XYSeries("P independent one-path steps");
    double p1 = Double.NaN;
    for (var e : result.getAsJsonArray("results")) {
      JsonObject row = e.getAsJsonObject();
      int p = row.get("paths").getAsInt();
      double ms = row.get("ms_per_step").getAsDouble();
      if (p == 1) p1 = ms;
      measured.add(p, ms);
      floor.add(p, row.get("floor_ms").getAsDouble());
    }
    for (int i = 0; i < measured.getItemCount(); i++) {
      int p = measured.getX(i).intValue();
      independent.add(p, p * p1);
    }
    XYSeriesCollection data = new XYSeriesCollection();
    data.addSeries(measured);
    data.addSeries(floor);
    data.addSeries(independent);
    JFreeChart chart = ChartFactory.createXYLineChart(result.get("benchmark").getAsString(), "paths P",
        "milliseconds per decode step", data, PlotOrientation.VERTICAL, true, false, false);
    XYPlot plot = chart.getXYPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
    XYLineAndShapeRenderer lines = new XYLineAndShapeRenderer(true, true);
    lines.setSeriesPaint(0, new Color(0xD62728));
    lines.setSeriesPaint(1, new Color(0x2CA02C));
    lines.setSeriesPaint(2, Color.GRAY);
    lines.setSeriesStroke(2, new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
    plot.setRenderer(lines);
    ((NumberAxis) plot.getDomainAxis()).setStandardTickUnits(NumberAxis.createIntegerTickUnits());
    ChartUtils.saveChartAsPNG(png.toFile(), chart, 800, 500);
  }
}
