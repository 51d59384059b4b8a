package dev.ptk.cli;

import dev.ptk.engine.SummaryPosition;
import dev.ptk.engine.Termination;

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
    SummaryPosition p = SummaryPosition.parse(text);
    if (p == null) throw new UsageException("--summary-position must be engine or training, got '" + text + "'");
    return p;
  }

  /** {@code --termination}: when thinking ends. */
  static Termination termination(String text) {
    Termination t = Termination.parse(text);
    if (t == null) throw new UsageException("--termination must be first, all or ratio:R with 0 < R <= 1, got '" + text + "'");
    return t;
  }
}
