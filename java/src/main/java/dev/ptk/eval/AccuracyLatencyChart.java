package dev.ptk.eval;

import java.awt.Color;
import java.nio.file.Path;
import java.util.List;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
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
    plot.add(Charts.panel(accuracy, accAxis, accuracyLines), 1);
    plot.add(Charts.panel(latency, new NumberAxis("mean latency (s)"), latencyLines), 1);
    Charts.writePng(new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true), png, 800, 700);
  }
}
