package dev.ptk.engine;

/** Where the summary's RoPE positions start (SEMANTICS.md §6), n = path output length (the longest path). */
public enum SummaryPosition {
  /** The released engine: {@code 2·Lp + n}. */
  ENGINE,
  /** The training collator: {@code Lp + n}. */
  TRAINING;

  /** {@code engine} or {@code training}; null for anything else (the caller names the field). */
  public static SummaryPosition parse(String text) {
    return switch (text) {
      case "engine" -> ENGINE;
      case "training" -> TRAINING;
      default -> null;
    };
  }

  public int base(int promptLength, int pathLength) {
    return this == ENGINE ? 2 * promptLength + pathLength : promptLength + pathLength;
  }
}
