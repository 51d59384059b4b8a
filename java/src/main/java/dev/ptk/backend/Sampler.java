package dev.ptk.backend;

import java.util.Arrays;

/**
 * Draws token ids from logits by the rule both backends share ({@code ptk_sample} on the device,
 * this class on the host), vLLM's order:
 *
 * <ol>
 *   <li>temperature {@code T} below 1e-5: greedy, the largest logit, the lowest id on ties;
 *   <li>top-k: keep every logit {@code >=} the k-th largest;
 *   <li>top-p: with weights {@code w_i = exp((z_i - zmax) / T)} over what top-k kept (a NaN
 *       logit weighs 0), remove the smallest logits while the removed weight stays
 *       {@code <= (1 - p) * sum w}; the largest logit is always kept;
 *   <li>the draw: {@code argmax_i (z_i - zmax) / T - ln q_i} over the kept ids, i.e.
 *       {@code argmax w_i / q_i}, with {@code q_i} = {@link SampleNoise#exponential}(seed, path,
 *       step, i) ~ Exp(1), which picks id i with probability {@code w_i / sum w}; ties to the
 *       lowest id.
 * </ol>
 *
 * <p>Ties at a cut-off: tokens with equal logits are all kept or all removed, by top-k as by top-p
 * (where a sort would split them by position). Logits are ordered as the device orders them, by
 * their float32 bits ({@code -0} below {@code +0}). Arithmetic is float32 as on the device (1/T,
 * scaled logits, scores); only the sums of weights round differently (here in double, on the device
 * in fixed point of 2^-39), which can move a top-p cut lying within rounding of a boundary.
 */
public final class Sampler {
  private Sampler() {}

  /** One token per row: row r drawn with key (pathIds[r], steps[r]). */
  public static int[] sample(float[][] logits, SamplingRequest request) {
    if (logits.length != request.steps().length) {
      throw new IllegalArgumentException("sampling request: " + request.steps().length + " rows for " + logits.length
          + " rows of logits");
    }
    int[] tokens = new int[logits.length];
    for (int r = 0; r < tokens.length; r++) {
      tokens[r] = sample(logits[r], request.params()[r], request.pathIds()[r], request.steps()[r]);
    }
    return tokens;
  }

  public static int sample(float[] logits, SamplingParams params, int path, int step) {
    return sample(logits, 0, logits.length, params, path, step);
  }

  /** One token from the row {@code logits[offset, offset + vocab)} of a flat buffer, in one pass. */
  public static int sample(float[] logits, int offset, int vocab, SamplingParams params, int path, int step) {
    Draw draw = new Draw(logits, offset, vocab, params, path, step, 1);
    draw.slice(0);
    return draw.token();
  }

  /**
   * One row's draw with its ids split into slices that may run on different threads: construct
   * (the largest logit, what top-k and top-p keep), {@link #slice} each slice once, then
   * {@link #token}. The token does not depend on the split: each slice keeps its first id of the
   * best score, and {@link #token} combines the slices in order of id as one pass would.
   *
   * <p>A slice skips the noise of ids that cannot win: a score is {@code s (z_i - zmax) - ln q_i},
   * and {@code -ln q_i <= NOISE_MAX} for every {@code u_i < 1}, so an id whose scaled logit plus
   * {@code NOISE_MAX} is below the largest logit's score never beats it (nor ties: rounding is
   * monotone). Such an id costs its hash, not its two logarithms; the token is the same.
   */
  public static final class Draw {
    private static final int NOT_DRAWN = -2; // a slice's best id before it is drawn (-1: none)

    private final float[] logits;
    private final int offset;
    private final int vocab;
    private final SamplingParams params;
    private final int path;
    private final int step;
    private final int top;
    private final float s;
    private final float zmax;
    private final float topScore;
    private final boolean[] kept;
    private final int[] bestIds;
    private final float[] bestScores;

    public Draw(float[] logits, int offset, int vocab, SamplingParams params, int path, int step, int slices) {
      if (slices < 1) throw new IllegalArgumentException("slices must be >= 1, got " + slices);
      this.logits = logits;
      this.offset = offset;
      this.vocab = vocab;
      this.params = params;
      this.path = path;
      this.step = step;
      top = argmax(logits, offset, vocab);
      s = 1f / (float) params.temperature();
      zmax = logits[offset + top];
      boolean greedy = params.isGreedy();
      kept = !greedy && (params.topK() > 0 || (float) params.topP() < 1) ? kept(logits, offset, vocab, params) : null;
      // The largest logit's score, as the loop computes it (NaN when zmax is infinite: then nothing
      // is skipped, nor when top-k left the largest out, which NaN logits, or a -0 maximum before a
      // +0, can make it do).
      topScore = greedy || (kept != null && !kept[top]) ? Float.NaN
          : s * (zmax - zmax) - (float) StrictMath.log(SampleNoise.exponential(params.seed(), path, step, top));
      bestIds = new int[greedy ? 0 : slices];
      Arrays.fill(bestIds, NOT_DRAWN);
      bestScores = new float[bestIds.length];
    }

    /** Draws over slice {@code j}: ids {@code [vocab j / slices, vocab (j + 1) / slices)}. */
    public void slice(int j) {
      if (params.isGreedy()) return;
      int slices = bestIds.length;
      int from = (int) ((long) vocab * j / slices), to = (int) ((long) vocab * (j + 1) / slices);
      int best = -1;
      float bestScore = Float.NEGATIVE_INFINITY;
      for (int i = from; i < to; i++) {
        if (kept != null && !kept[i]) continue;
        float scaled = s * (logits[offset + i] - zmax);
        if (scaled + NOISE_MAX < topScore && SampleNoise.uniform(params.seed(), path, step, i) < 1) continue;
        float q = SampleNoise.exponential(params.seed(), path, step, i);
        float score = scaled - (float) StrictMath.log(q);
        if (score > bestScore || (best < 0 && score == bestScore)) {
          best = i;
          bestScore = score;
        }
      }
      bestIds[j] = best;
      bestScores[j] = bestScore;
    }

    /** The token, once every slice is drawn. */
    public int token() {
      if (params.isGreedy()) return top;
      int best = -1;
      float bestScore = Float.NEGATIVE_INFINITY;
      for (int j = 0; j < bestIds.length; j++) {
        if (bestIds[j] == NOT_DRAWN) throw new IllegalStateException("slice " + j + " of " + bestIds.length + " not drawn");
        if (bestScores[j] > bestScore || (best < 0 && bestScores[j] == bestScore)) {
          best = bestIds[j];
          bestScore = bestScores[j];
        }
      }
      return best < 0 ? top : best; // only NaN scores leave nothing: the device falls back to argmax too
    }
  }

  /**
   * Above {@code -ln q} for every noise {@code q = float(-ln u)} with {@code u < 1}: the largest
   * such u the 53-bit draw makes is 1 - 2^-52 (its + 0.5 rounds to even above 2^52), whose q is
   * 2.2e-16 and {@code -ln q} 36.0. (A u of exactly 1, which the draw can round to, gives q = 0 and
   * an infinite score; those ids are never skipped.)
   */
  static final float NOISE_MAX = 37.5f;

  /** The lowest id among the largest logits. */
  public static int argmax(float[] logits) {
    return argmax(logits, 0, logits.length);
  }

  /** The lowest id (from 0) among the largest of {@code logits[offset, offset + vocab)}. */
  static int argmax(float[] logits, int offset, int vocab) {
    int best = 0;
    for (int i = 1; i < vocab; i++) if (logits[offset + i] > logits[offset + best]) best = i;
    return best;
  }

  /** The ids top-k and top-p keep: those whose {@link #order} is above one cut. */
  static boolean[] kept(float[] logits, SamplingParams params) {
    return kept(logits, 0, logits.length, params);
  }

  private static boolean[] kept(float[] logits, int offset, int v, SamplingParams params) {
    long cut = Integer.MIN_VALUE - 1L;
    if (params.topK() > 0 && params.topK() < v) {
      int[] sorted = new int[v];
      for (int i = 0; i < v; i++) sorted[i] = order(logits[offset + i]);
      Arrays.sort(sorted);
      cut = sorted[v - params.topK()] - 1L;
    }
    if ((float) params.topP() < 1) cut = topPCut(logits, offset, v, params, cut);
    boolean[] kept = new boolean[v];
    for (int i = 0; i < v; i++) kept[i] = order(logits[offset + i]) > cut;
    return kept;
  }

  /** The cut after top-p over the ids above {@code cut}: whole groups of equal logits, never the largest. */
  private static long topPCut(float[] logits, int offset, int v, SamplingParams params, long cut) {
    float s = 1f / (float) params.temperature();
    float zmax = logits[offset + argmax(logits, offset, v)];
    long[] byOrder = new long[v]; // order in the high word, id in the low word: ascending logits
    int n = 0;
    for (int i = 0; i < v; i++) {
      if (order(logits[offset + i]) > cut) byOrder[n++] = (long) order(logits[offset + i]) << 32 | i;
    }
    Arrays.sort(byOrder, 0, n);
    float[] weight = new float[n];
    double total = 0;
    for (int j = 0; j < n; j++) {
      float w = (float) Math.exp(s * (logits[offset + (int) byOrder[j]] - zmax));
      weight[j] = Float.isNaN(w) ? 0 : w; // a NaN logit (or the NaN of +inf - +inf) weighs nothing
      total += weight[j];
    }
    double limit = (1f - (float) params.topP()) * total;
    double removed = 0;
    long t = cut;
    for (int j = 0; j < n; ) {
      int key = (int) (byOrder[j] >> 32);
      double group = 0;
      int end = j;
      for (; end < n && (int) (byOrder[end] >> 32) == key; end++) group += weight[end];
      if (removed + group > limit) break;
      removed += group;
      t = key;
      j = end;
    }
    return Math.min(t, order(zmax) - 1L);
  }

  /** An int that orders like the float's bits: the device's {@code float_key} minus 2^31. */
  static int order(float x) {
    int bits = Float.floatToRawIntBits(x);
    return bits ^ ((bits >> 31) & 0x7fffffff);
  }
}
