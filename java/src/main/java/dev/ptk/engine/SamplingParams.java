package dev.ptk.engine;

/**
 * How a token is drawn from logits, in vLLM's order: temperature, top-k, top-p, then a random draw.
 *
 * @param temperature below {@link #GREEDY_BELOW} means greedy (argmax)
 * @param topP keep the smallest high-probability set whose mass reaches {@code topP}; 1 = off
 * @param topK keep the {@code topK} largest logits (ties at the threshold survive); 0 = off
 * @param seed seeds the request's random stream; the same seed gives the same tokens
 */
public record SamplingParams(double temperature, double topP, int topK, long seed) {
  /** vLLM treats temperatures below this as greedy decoding. */
  public static final double GREEDY_BELOW = 1e-5;

  public SamplingParams {
    if (!(temperature >= 0) || Double.isInfinite(temperature)) {
      throw new IllegalArgumentException("temperature must be a finite number >= 0, got " + temperature);
    }
    if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
    if (topK < 0) throw new IllegalArgumentException("topK must be >= 0 (0 = off), got " + topK);
  }

  public static SamplingParams greedy() {
    return new SamplingParams(0, 1, 0, 0);
  }

  public boolean isGreedy() {
    return temperature < GREEDY_BELOW;
  }
}
