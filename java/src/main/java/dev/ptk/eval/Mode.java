package dev.ptk.eval;

import java.util.Locale;

/** How one run at P paths spends its budget of P x max-tokens. */
public enum Mode {
  /** The ParaThinker engine with P paths and a summary over all of them. */
  PARATHINKER,
  /** One path with P x max-tokens, then the summary over that path: the sequential baseline. */
  SEQUENTIAL,
  /** P independent one-path runs with different seeds; majority vote over their answers. */
  MAJORITY;

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Mode parse(String s) {
    for (Mode m : values()) {
      if (m.label().equals(s)) return m;
    }
    throw new IllegalArgumentException("unknown mode '" + s + "' (parathinker, sequential, majority)");
  }
}
