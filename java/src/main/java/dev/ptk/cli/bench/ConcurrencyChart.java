package dev.ptk.cli.bench;

import dev.ptk.eval.Charts;
import java.awt.Color;
import java.nio.file.Path;
import java.util.List;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** Aggregate tokens/s (top) and mean request latency (bottom) against concurrency. */
public final class ConcurrencyChart {
  private ConcurrencyChart() {}

  public static void write(Path png, List<ConcurrencySweep.Level> levels, String title) {
    XYSeries rate = new XYSeries("aggregate tokens/s");
    XYSeries ideal = new XYSeries("one request's rate x concurrency");
    XYSeries latency = new XYSeries("mean latency");
    double one = levels.get(0).tokensPerSecond() / levels.get(0).concurrency();
    for (ConcurrencySweep.Level l : levels) {
      rate.add(l.concurrency(), l.tokensPerSecond());
      ideal.add(l.concurrency(), one * l.concurrency());
      latency.add(l.concurrency(), l.meanLatencyMs() / 1000);
    }
    LogAxis x = new LogAxis("concurrent requests");
    x.setBase(2);
    x.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
    CombinedDomainXYPlot plot = new CombinedDomainXYPlot(x);
    XYSeriesCollection rates = new XYSeriesCollection(rate);
    rates.addSeries(ideal);
    plot.add(Charts.panel(rates, new NumberAxis("tokens/s"), lines()), 1);
    plot.add(Charts.panel(new XYSeriesCollection(latency), new NumberAxis("mean latency (s)"), lines()), 1);
    Charts.writePng(new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true), png, 800, 700);
  }

  private static XYLineAndShapeRenderer lines() {
    XYLineAndShapeRenderer lines = new XYLineAndShapeRenderer(true, true);
    lines.setSeriesPaint(0, new Color(0x1F77B4));
    lines.setSeriesPaint(1, Color.GRAY);
    return lines;
  }
}
