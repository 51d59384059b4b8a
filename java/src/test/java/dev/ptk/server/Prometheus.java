package dev.ptk.server;

import java.util.HashMap;
import java.util.Map;

/** Reads the Prometheus text format's samples: name (with labels) to value; comments skipped. */
final class Prometheus {
  private Prometheus() {}

  static Map<String, Double> parse(String text) {
    Map<String, Double> samples = new HashMap<>();
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) continue;
      int space = line.lastIndexOf(' ');
      samples.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
    }
    return samples;
  }
}
