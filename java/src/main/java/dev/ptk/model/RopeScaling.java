package dev.ptk.model;

/**
 * Rotary-embedding scaling from config.json's {@code rope_scaling}. Only YaRN is supported (the
 * released engine's choice); {@link #NONE} is plain RoPE.
 *
 * @param factor frequency interpolation factor; 1 means plain RoPE
 * @param originalMaxPositions the context length the frequencies were trained for
 * @param betaFast, betaSlow YaRN's correction range in rotations
 * @param mscale multiplier of cos and sin ({@code 0.1 ln(factor) + 1} unless configured)
 */
public record RopeScaling(double factor, int originalMaxPositions, double betaFast, double betaSlow, double mscale) {
  public static final RopeScaling NONE = new RopeScaling(1.0, 0, 32, 1, 1.0);

  public static RopeScaling yarn(double factor, int originalMaxPositions) {
    return new RopeScaling(factor, originalMaxPositions, 32, 1, factor <= 1 ? 1.0 : 0.1 * Math.log(factor) + 1.0);
  }

  public boolean isYarn() {
    return factor > 1.0;
  }
}
