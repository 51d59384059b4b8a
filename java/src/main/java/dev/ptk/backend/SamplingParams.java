package dev.ptk.backend;

/**
 * How a token is drawn from logits, in vLLM's order: temperature, top-k, top-p, then a random draw
 * (the rule is {@link Sampler}'s). Temperature and top-p are used as float32, as on the device.
 *
 * @param temperature below {@link #GREEDY_BELOW} means greedy (argmax)
 * @param topP keep the smallest high-probability set whose mass reaches {@code topP}; 1 = off
 * @param topK keep the {@code topK} largest logits (ties at the threshold survive); 0 = off
 * @param seed with each token's (path, step) the only input of the random draw: the same seed
 *     gives the same tokens
 */
public record SamplingParams(double temperature, double topP, int topK, long seed) {
  /** vLLM treats temperatures below this as greedy decoding. */
  public static final double GREEDY_BELOW = 1e-5;

  public SamplingParams {
    if (!(temperature >= 0 && temperature <= Float.MAX_VALUE)) {
      throw new IllegalArgumentException("temperature must be a finite float32 >= 0, got " + temperature);
    }
    if (!(topP <= 1 && (float) topP > 0)) {
      throw new IllegalArgumentException("topP must be in (0, 1] and positive as a float32, got " + topP);
    }
    if (topK < 0) throw new IllegalArgumentException("topK must be >= 0 (0 = off), got " + topK);
  }

  public static SamplingParams greedy() {
    return new SamplingParams(0, 1, 0, 0);
  }

  public boolean isGreedy() {
    return temperature < GREEDY_BELOW;
  }
}
