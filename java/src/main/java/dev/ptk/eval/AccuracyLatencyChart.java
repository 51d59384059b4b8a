package dev.ptk.eval;

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

  public static void write(Path png, List<Summary.Row> rows, String title) {
    XYSeriesCollection accuracy = new XYSeriesCollection();
    XYSeriesCollection latency = new XYSeriesCollection();
    for (Mode mode : Mode.values()) {
      XYSeries acc = new XYSeries(mode.label());
      XYSeries lat = new XYSeries(mode.label());
      for (Summary.Row r : rows) {
        if (r.mode() != mode) continue;
        acc.add(r.paths(), 100 * r.accuracy());
        lat.add(r.paths(), r.meanLatencyMs() / 1000);
      }
      if (!acc.isEmpty()) {
        accuracy.addSeries(acc);
        latency.addSeries(lat);
      }
    }
    NumberAxis pAxis = new NumberAxis("paths P");
    pAxis.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
    NumberAxis accAxis = new NumberAxis("accuracy (%)");
    accAxis.setRange(0, 100);
    CombinedDomainXYPlot plot = new CombinedDomainXYPlot(pAxis);
    plot.add(new XYPlot(accuracy, null, accAxis, new XYLineAndShapeRenderer(true, true)), 1);
    plot.add(new XYPlot(latency, null, new NumberAxis("mean latency (s)"), new XYLineAndShapeRenderer(true, true)), 1);
    JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
    try {
      ChartUtils.saveChartAsPNG(png.toFile(), chart, 800, 700);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + png + ": " + e.getMessage(), e);
    }
  }
}
