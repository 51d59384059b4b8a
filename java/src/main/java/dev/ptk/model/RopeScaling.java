package dev.ptk.model;

import com.google.gson.JsonObject;

/**
 * Rotary-embedding scaling from config.json's {@code rope_scaling}. Only YaRN is supported (the
 * released engine's choice); {@link #NONE} is plain RoPE.
 *
 * @param factor frequency interpolation factor; 1 means plain RoPE
 * @param originalMaxPositions the context length the frequencies were trained for
 * @param betaFast, betaSlow YaRN's correction range in rotations
 * @param mscale multiplier of cos and sin: {@code 0.1 ln(factor) + 1} (1 when factor <= 1)
 */
public record RopeScaling(double factor, int originalMaxPositions, double betaFast, double betaSlow, double mscale) {
  public static final RopeScaling NONE = new RopeScaling(1.0, 0, 32, 1, 1.0);

  public static RopeScaling yarn(double factor, int originalMaxPositions) {
    return yarn(factor, originalMaxPositions, 32, 1);
  }

  public static RopeScaling yarn(double factor, int originalMaxPositions, double betaFast, double betaSlow) {
    return new RopeScaling(factor, originalMaxPositions, betaFast, betaSlow, factor <= 1 ? 1.0 : 0.1 * Math.log(factor) + 1.0);
  }

  /**
   * config.json's {@code rope_scaling}: absent or null is plain RoPE; otherwise {@code rope_type}
   * (or the older {@code type}) must be "yarn" with {@code factor} and
   * {@code original_max_position_embeddings}; {@code beta_fast}/{@code beta_slow} default to 32/1.
   * The mscale is always {@code 0.1 ln(factor) + 1}: the released engine passes
   * {@code attention_factor: 1.0}, which vLLM's YaRN does not read, so {@code attention_factor} and
   * {@code mscale} keys are ignored here too (SEMANTICS.md §7).
   */
  static RopeScaling fromConfig(JsonObject config, String file) {
    if (!Json.has(config, "rope_scaling")) return NONE;
    String where = file + " rope_scaling";
    JsonObject o = Json.object(config, "rope_scaling", file);
    String type = Json.has(o, "rope_type") ? Json.string(o, "rope_type", where) : Json.string(o, "type", where);
    if (!type.equals("yarn")) throw new ModelFormatException(where + ": rope type \"" + type + "\" is not supported (only yarn)");
    double factor = Json.real(o, "factor", where);
    if (!(factor >= 1)) throw new ModelFormatException(where + ": field \"factor\" must be >= 1, got " + factor);
    int original = Json.integer(o, "original_max_position_embeddings", where);
    if (original <= 0) throw new ModelFormatException(where + ": field \"original_max_position_embeddings\" must be positive");
    return yarn(factor, original, Json.real(o, "beta_fast", 32, where), Json.real(o, "beta_slow", 1, where));
  }

  public boolean isYarn() {
    return factor > 1.0;
  }
}
