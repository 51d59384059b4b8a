package dev.ptk.cli;

import dev.ptk.engine.SummaryPosition;

/** Values of the flags that several commands share. */
final class CommonFlags {
  private CommonFlags() {}

  /** {@code --kv-pages}: the KV pool's size in pages. */
  static int kvPages(String text) {
    try {
      int n = Integer.parseInt(text);
      if (n >= 1) return n;
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new UsageException("--kv-pages must be a positive integer, got '" + text + "'");
  }

  /** {@code --summary-position}: where the summary's positions start. */
  static SummaryPosition summaryPosition(String text) {
    return switch (text) {
      case "engine" -> SummaryPosition.ENGINE;
      case "training" -> SummaryPosition.TRAINING;
      default -> throw new UsageException("--summary-position must be engine or training, got '" + text + "'");
    };
  }
}
