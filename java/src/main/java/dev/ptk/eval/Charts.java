package dev.ptk.eval;

import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeriesCollection;

/** The look every ptk picture shares: white panels with light grid lines, written as PNG. */
public final class Charts {
  private Charts() {}

  public static XYPlot panel(XYSeriesCollection data, NumberAxis yAxis, XYLineAndShapeRenderer lines) {
    XYPlot panel = new XYPlot(data, null, yAxis, lines);
    panel.setBackgroundPaint(Color.WHITE);
    panel.setDomainGridlinePaint(Color.LIGHT_GRAY);
    panel.setRangeGridlinePaint(Color.LIGHT_GRAY);
    return panel;
  }

  public static void writePng(JFreeChart chart, Path png, int width, int height) {
    chart.setBackgroundPaint(Color.WHITE);
    try {
      ChartUtils.saveChartAsPNG(png.toFile(), chart, width, height);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + png + ": " + e.getMessage(), e);
    }
  }
}
