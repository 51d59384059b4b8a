package dev.ptk.eval;

import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** {@code accuracy-latency.png}: accuracy (top) and mean latency (bottom) against P, one line per mode. */
public final class AccuracyLatencyChart {
  private AccuracyLatencyChart() {}

  /** One colour per mode, the same in both panels. */
  private static final Color[] COLOURS = {new Color(0xD62728), new Color(0x1F77B4), new Color(0x2CA02C)};

  public static void write(Path png, List<Summary.Row> rows, String title) {
    XYSeriesCollection accuracy = new XYSeriesCollection();
    XYSeriesCollection latency = new XYSeriesCollection();
    XYLineAndShapeRenderer accuracyLines = new XYLineAndShapeRenderer(true, true);
    XYLineAndShapeRenderer latencyLines = new XYLineAndShapeRenderer(true, true);
    latencyLines.setDefaultSeriesVisibleInLegend(false); // one legend for both panels
    for (Mode mode : Mode.values()) {
      XYSeries acc = new XYSeries(mode.label());
      XYSeries lat = new XYSeries(mode.label());
      for (Summary.Row r : rows) {
        if (r.mode() != mode) continue;
        acc.add(r.paths(), 100 * r.accuracy());
        lat.add(r.paths(), r.meanLatencyMs() / 1000);
      }
      if (!acc.isEmpty()) {
        accuracyLines.setSeriesPaint(accuracy.getSeriesCount(), COLOURS[mode.ordinal()]);
        latencyLines.setSeriesPaint(latency.getSeriesCount(), COLOURS[mode.ordinal()]);
        accuracy.addSeries(acc);
        latency.addSeries(lat);
      }
    }
    NumberAxis pAxis = new NumberAxis("paths P");
    pAxis.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
    pAxis.setAutoRangeIncludesZero(false);
    NumberAxis accAxis = new NumberAxis("accuracy (%)");
    accAxis.setRange(0, 100);
    CombinedDomainXYPlot plot = new CombinedDomainXYPlot(pAxis);
    plot.add(panel(accuracy, accAxis, accuracyLines), 1);
    plot.add(panel(latency, new NumberAxis("mean latency (s)"), latencyLines), 1);
    JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
    chart.setBackgroundPaint(Color.WHITE);
    try {
      ChartUtils.saveChartAsPNG(png.toFile(), chart, 800, 700);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + png + ": " + e.getMessage(), e);
    }
  }

  private static XYPlot panel(XYSeriesCollection data, NumberAxis yAxis, XYLineAndShapeRenderer lines) {
    XYPlot panel = new XYPlot(data, null, yAxis, lines);
    panel.setBackgroundPaint(Color.WHITE);
    panel.setDomainGridlinePaint(Color.LIGHT_GRAY);
    panel.setRangeGridlinePaint(Color.LIGHT_GRAY);
    return panel;
  }
}
