package dev.ptk.engine;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Draws token ids from logits the way vLLM's sampler does: logits as float32, divided by the
 * temperature (below 1e-5: greedy), top-k then top-p on one ascending sort (top-p drops the tokens
 * whose cumulative probability is {@code <= 1 - p}, always keeping the most likely one), softmax,
 * and the draw {@code argmax(prob / q)} with {@code q ~ Exp(1)} per token, which picks token i with
 * probability prob[i].
 *
 * <p>Randomness: one {@link SplittableRandom} seeded with {@link SamplingParams#seed()} per
 * request; every non-greedy draw consumes exactly one double per vocabulary entry, in id order
 * ({@code q = -ln(1 - u)}), so a request replays exactly from its seed. Ties (greedy or in the
 * draw) go to the lowest id; equal logits are sorted by id.
 */
public final class Sampler {
  private final SamplingParams params;
  private final SplittableRandom random;

  public Sampler(SamplingParams params) {
    this.params = params;
    this.random = new SplittableRandom(params.seed());
  }

  public SamplingParams params() {
    return params;
  }

  public int sample(float[] logits) {
    if (params.isGreedy()) return argmax(logits);
    float t = (float) params.temperature();
    float[] scaled = new float[logits.length];
    for (int i = 0; i < logits.length; i++) scaled[i] = logits[i] / t;
    if (params.topK() > 0 || params.topP() < 1) truncate(scaled);
    float[] probs = softmax(scaled);
    int best = 0;
    double bestScore = -1;
    for (int i = 0; i < probs.length; i++) {
      double q = -Math.log(1 - random.nextDouble());
      double score = probs[i] / q;
      if (score > bestScore) {
        bestScore = score;
        best = i;
      }
    }
    return best;
  }

  /** The lowest id among the largest logits. */
  public static int argmax(float[] logits) {
    int best = 0;
    for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
    return best;
  }

  /** Sets the logits that top-k and top-p drop to -inf (vLLM {@code _apply_top_k_top_p}). */
  void truncate(float[] logits) {
    int v = logits.length;
    long[] keys = new long[v];
    for (int i = 0; i < v; i++) keys[i] = ((long) sortable(logits[i]) << 32) | i;
    Arrays.sort(keys);
    float[] sorted = new float[v];
    for (int i = 0; i < v; i++) sorted[i] = logits[(int) keys[i]];
    if (params.topK() > 0 && params.topK() < v) {
      float threshold = sorted[v - params.topK()];
      for (int i = 0; i < v; i++) if (sorted[i] < threshold) sorted[i] = Float.NEGATIVE_INFINITY;
    }
    if (params.topP() < 1) {
      float[] probs = softmax(sorted);
      float limit = (float) (1 - params.topP());
      float cumulative = 0;
      for (int i = 0; i < v - 1; i++) {
        cumulative += probs[i];
        if (cumulative <= limit) sorted[i] = Float.NEGATIVE_INFINITY;
      }
    }
    for (int i = 0; i < v; i++) logits[(int) keys[i]] = sorted[i];
  }

  /** An int that orders like the float (sorting by it and then by id sorts ascending, ties by id). */
  private static int sortable(float x) {
    int bits = Float.floatToIntBits(x);
    return bits ^ ((bits >> 31) & 0x7fffffff);
  }

  /** Float32 softmax; -inf entries get probability 0. */
  static float[] softmax(float[] logits) {
    float max = Float.NEGATIVE_INFINITY;
    for (float x : logits) max = Math.max(max, x);
    float[] p = new float[logits.length];
    float sum = 0;
    for (int i = 0; i < p.length; i++) {
      p[i] = (float) Math.exp(logits[i] - max);
      sum += p[i];
    }
    for (int i = 0; i < p.length; i++) p[i] /= sum;
    return p;
  }
}
