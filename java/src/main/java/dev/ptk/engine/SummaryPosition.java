package dev.ptk.engine;

/** Where the summary's RoPE positions start (SEMANTICS.md §6), n = path output length (the longest path). */
public enum SummaryPosition {
  /** The released engine: {@code 2·Lp + n}. */
  ENGINE,
  /** The training collator: {@code Lp + n}. */
  TRAINING;

  public int base(int promptLength, int pathLength) {
    return this == ENGINE ? 2 * promptLength + pathLength : promptLength + pathLength;
  }
}
