package dev.ptk.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Hand-computed cases of vLLM's sampling order: temperature, top-k, top-p, then the draw. */
class SamplerTest {
  static final float[] PROBS = {0.1f, 0.2f, 0.3f, 0.4f};

  static float[] logLogits(float[] probs) {
    float[] l = new float[probs.length];
    for (int i = 0; i < l.length; i++) l[i] = (float) Math.log(probs[i]);
    return l;
  }

  /** Ids left finite by top-k/top-p. */
  static int[] survivors(double topP, int topK, float[] logits) {
    float[] l = logits.clone();
    new Sampler(new SamplingParams(1, topP, topK, 0)).truncate(l);
    return java.util.stream.IntStream.range(0, l.length).filter(i -> l[i] != Float.NEGATIVE_INFINITY).toArray();
  }

  @Test
  void greedyTakesTheLowestIdAmongTies() {
    Sampler s = new Sampler(SamplingParams.greedy());
    assertEquals(1, s.sample(new float[] {1, 3, 3, 2}));
    assertEquals(0, s.sample(new float[] {-1, -1}));
    Sampler nearZero = new Sampler(new SamplingParams(0.9e-5, 1, 0, 7));
    for (int i = 0; i < 100; i++) assertEquals(3, nearZero.sample(logLogits(PROBS)), "T < 1e-5 is greedy");
  }

  @Test
  void topKKeepsTheKLargestAndTiesAtTheThreshold() {
    assertArrayEquals(new int[] {3, 4}, survivors(1, 2, new float[] {1, 2, 3, 4, 5}));
    assertArrayEquals(new int[] {1, 2}, survivors(1, 1, new float[] {1, 3, 3, 2}));
    assertArrayEquals(new int[] {0, 1, 2, 3}, survivors(1, 9, new float[] {1, 3, 3, 2}), "k past the vocabulary keeps all");
  }

  @Test
  void topPDropsTheLowMassTailAndKeepsTheTop() {
    float[] l = logLogits(PROBS); // ascending cumulative 0.1, 0.3, 0.6, 1.0
    assertArrayEquals(new int[] {1, 2, 3}, survivors(0.75, 0, l)); // drop cumulative <= 0.25
    assertArrayEquals(new int[] {2, 3}, survivors(0.55, 0, l)); // drop cumulative <= 0.45
    assertArrayEquals(new int[] {3}, survivors(0.35, 0, l)); // drop cumulative <= 0.65
    assertArrayEquals(new int[] {3}, survivors(1e-9, 0, l), "the most likely token always survives");
  }

  @Test
  void topPAppliesToTheTopKRenormalizedDistribution() {
    // After top-k 3: 0.2/0.9, 0.3/0.9, 0.4/0.9 -> cumulative 0.222, 0.556, 1; p = 0.75 drops 0.222 only.
    // (On the original distribution p = 0.75 would keep ids 1, 2, 3.)
    assertArrayEquals(new int[] {2, 3}, survivors(0.75, 3, logLogits(PROBS)));
  }

  @Test
  void theSameSeedReplaysTheSameTokens() {
    float[] l = {0, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f};
    int[] a = draws(new Sampler(new SamplingParams(1, 1, 0, 42)), l, 200);
    int[] b = draws(new Sampler(new SamplingParams(1, 1, 0, 42)), l, 200);
    int[] c = draws(new Sampler(new SamplingParams(1, 1, 0, 43)), l, 200);
    assertArrayEquals(a, b);
    assertNotEquals(Arrays.toString(a), Arrays.toString(c));
  }

  @Test
  void frequenciesMatchTheProbabilities() {
    // T = 1: the probabilities themselves; T = 0.5: p^2 / sum p^2 = 1/30, 4/30, 9/30, 16/30;
    // top-k 3 + top-p 0.75: ids 2, 3 with 3/7, 4/7.
    assertFrequencies(new SamplingParams(1, 1, 0, 1), new double[] {0.1, 0.2, 0.3, 0.4});
    assertFrequencies(new SamplingParams(0.5, 1, 0, 2), new double[] {1 / 30.0, 4 / 30.0, 9 / 30.0, 16 / 30.0});
    assertFrequencies(new SamplingParams(1, 0.75, 3, 3), new double[] {0, 0, 3 / 7.0, 4 / 7.0});
  }

  static void assertFrequencies(SamplingParams params, double[] expected) {
    int n = 40000;
    int[] counts = new int[expected.length];
    for (int t : draws(new Sampler(params), logLogits(PROBS), n)) counts[t]++;
    for (int i = 0; i < expected.length; i++) {
      // 0.012 is at least 4.8 standard deviations of a frequency over 40000 draws.
      assertEquals(expected[i], counts[i] / (double) n, 0.012, "token " + i + " with " + params);
    }
  }

  static int[] draws(Sampler s, float[] logits, int n) {
    int[] out = new int[n];
    for (int i = 0; i < n; i++) out[i] = s.sample(logits);
    return out;
  }
}
