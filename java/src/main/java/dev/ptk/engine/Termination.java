package dev.ptk.engine;

/**
 * When the thinking phase ends: once {@code finished >= ratio * P} paths have finished (SEMANTICS.md
 * §9.2 b). Paths that finish earlier leave the batch; the others keep decoding.
 */
public record Termination(String name, double ratio) {
  /** The released engine's rule (ratio 0.1): with up to 10 paths, the first path to finish ends thinking. */
  public static final Termination FIRST_FINISH = new Termination("first-finish", 0.1);
  /** Every path decodes until it finishes by itself (stop token or a length limit). */
  public static final Termination ALL = new Termination("all", 1.0);

  public Termination {
    if (!(ratio > 0 && ratio <= 1)) throw new IllegalArgumentException("termination ratio must be in (0, 1], got " + ratio);
  }

  /** {@code first}, {@code all} or {@code ratio:R}; null when {@code text} is none of them (the caller names the field). */
  public static Termination parse(String text) {
    if (text.equals("first")) return FIRST_FINISH;
    if (text.equals("all")) return ALL;
    if (text.startsWith("ratio:")) {
      try {
        double r = Double.parseDouble(text.substring(6));
        if (r > 0 && r <= 1) return ratio(r);
      } catch (NumberFormatException e) {
        return null;
      }
    }
    return null;
  }

  public static Termination ratio(double r) {
    return new Termination("ratio:" + r, r);
  }

  boolean isOver(int finished, int paths) {
    return finished >= ratio * paths;
  }
}
