package dev.ptk.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ptk.nativelib.global.ptk;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Hand-computed cases of the sampling rule: temperature, top-k, top-p (equal logits kept or
 * removed together), then {@code argmax p / q} with the counter-based {@code q}.
 */
class SamplerTest {
  static final float[] PROBS = {0.1f, 0.2f, 0.3f, 0.4f};

  static float[] logLogits(float[] probs) {
    float[] l = new float[probs.length];
    for (int i = 0; i < l.length; i++) l[i] = (float) Math.log(probs[i]);
    return l;
  }

  /** Ids top-k/top-p keep. */
  static int[] survivors(double topP, int topK, float[] logits) {
    boolean[] kept = Sampler.kept(logits, new SamplingParams(1, topP, topK, 0));
    return IntStream.range(0, logits.length).filter(i -> kept[i]).toArray();
  }

  @Test
  void greedyTakesTheLowestIdAmongTies() {
    SamplingParams greedy = SamplingParams.greedy();
    assertEquals(1, Sampler.sample(new float[] {1, 3, 3, 2}, greedy, 1, 0));
    assertEquals(0, Sampler.sample(new float[] {-1, -1}, greedy, 1, 0));
    SamplingParams nearZero = new SamplingParams(0.9e-5, 1, 0, 7);
    for (int step = 0; step < 100; step++) assertEquals(3, Sampler.sample(logLogits(PROBS), nearZero, 1, step), "T < 1e-5 is greedy");
  }

  @Test
  void topKKeepsTheKLargestAndEveryTieAtTheThreshold() {
    assertArrayEquals(new int[] {3, 4}, survivors(1, 2, new float[] {1, 2, 3, 4, 5}));
    assertArrayEquals(new int[] {1, 2}, survivors(1, 1, new float[] {1, 3, 3, 2}), "both 3s, though k = 1");
    assertArrayEquals(new int[] {0, 1, 2, 3}, survivors(1, 9, new float[] {1, 3, 3, 2}), "k past the vocabulary keeps all");
    assertArrayEquals(new int[] {1}, survivors(1, 1, new float[] {-0f, 0f, -1}), "ordered by bits: -0 below +0");
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
  void topPRemovesEqualLogitsTogetherOrNotAtAll() {
    float[] l = logLogits(new float[] {0.1f, 0.1f, 0.3f, 0.5f}); // the two 0.1s weigh 0.2 together
    // Limit 0.15: a sort would drop one 0.1 (cumulative 0.1); together they weigh 0.2 > 0.15, both stay.
    assertArrayEquals(new int[] {0, 1, 2, 3}, survivors(0.85, 0, l));
    // Limit 0.25: 0.2 <= 0.25 drops both; adding 0.3 would pass the limit.
    assertArrayEquals(new int[] {2, 3}, survivors(0.75, 0, l));
    // Equal top logits stay whole even at p = 1e-9, where (float) (1 - p) = 1 makes the limit the whole mass.
    assertArrayEquals(new int[] {1, 2}, survivors(1e-9, 0, new float[] {1, 3, 3, 2}));
  }

  @Test
  void topPGivesNaNLogitsNoWeight() {
    float nan = Float.NaN, negativeNaN = Float.intBitsToFloat(0xFFC00000), inf = Float.POSITIVE_INFINITY;
    float[] l = logLogits(PROBS); // ascending cumulative 0.1, 0.3, 0.6, 1.0
    float[] withNaN = {l[0], nan, l[1], l[2], negativeNaN, l[3]}; // a NaN of each sign: its bits order it
    // Limit 0.25 of a total 1: the NaN (+ above everything, - below) add nothing, the cut is as without them.
    assertArrayEquals(new int[] {1, 2, 3, 5}, survivors(0.75, 0, withNaN), "the +NaN sorts above the top: kept");
    // With +inf the top, inf - inf is NaN: no mass anywhere, so all below the top goes.
    assertArrayEquals(new int[] {1}, survivors(0.9, 0, new float[] {1, inf, 2}));
  }

  @Test
  void topPAppliesToTheTopKRenormalizedDistribution() {
    // After top-k 3: 0.2/0.9, 0.3/0.9, 0.4/0.9 -> cumulative 0.222, 0.556, 1; p = 0.75 drops 0.222 only.
    // (On the original distribution p = 0.75 would keep ids 1, 2, 3.)
    assertArrayEquals(new int[] {2, 3}, survivors(0.75, 3, logLogits(PROBS)));
  }

  @Test
  void theDrawIsTheArgmaxOfPOverQ() {
    // q = float(-ln u), u from splitmix64 over (seed 42, path 1, step s, token i), computed apart:
    // step 3: q = 3.627057, 0.446770, 1.174518, 1.446180 -> p / q = 0.0276, 0.4477, 0.2554, 0.2766
    // step 10: q = 2.931280, 0.225438, 1.339653, 1.088650 -> p / q = 0.0341, 0.8872, 0.2239, 0.3674
    // step 2: q = 0.362747, 1.314945, 0.037423, 1.651137 -> p / q = 0.2757, 0.1521, 8.0165, 0.2423
    float[] l = logLogits(PROBS);
    SamplingParams t1 = new SamplingParams(1, 1, 0, 42);
    assertEquals(1, Sampler.sample(l, t1, 1, 3));
    assertEquals(1, Sampler.sample(l, t1, 1, 10));
    assertEquals(2, Sampler.sample(l, t1, 1, 2));
    SamplingParams top2 = new SamplingParams(1, 1, 2, 42);
    assertEquals(3, Sampler.sample(l, top2, 1, 3), "top-k 2 leaves ids 2, 3: 0.2554 < 0.2766");
    assertEquals(3, Sampler.sample(l, top2, 1, 10));
  }

  @Test
  void everyDrawIsTheArgmaxOfPOverTheNativeQ() {
    // p_i / q_i in double over the kept ids (listed by hand), with ptk_sample_exponential's q.
    float[] l = logLogits(PROBS);
    checkAgainstNative(new SamplingParams(1, 1, 0, 5), l, new double[] {0.1, 0.2, 0.3, 0.4});
    checkAgainstNative(new SamplingParams(0.5, 1, 0, 6), l, new double[] {0.01, 0.04, 0.09, 0.16});
    checkAgainstNative(new SamplingParams(1, 0.75, 3, 7), l, new double[] {0, 0, 0.3, 0.4});
  }

  static void checkAgainstNative(SamplingParams params, float[] logits, double[] weights) {
    for (int path = 0; path < 4; path++) {
      for (int step = 0; step < 500; step++) {
        int expected = -1;
        double best = 0;
        for (int i = 0; i < weights.length; i++) {
          double ratio = weights[i] / ptk.ptk_sample_exponential(params.seed(), path, step, i);
          if (ratio > best) {
            best = ratio;
            expected = i;
          }
        }
        assertEquals(expected, Sampler.sample(logits, params, path, step), params + " path " + path + " step " + step);
      }
    }
  }

  /** The cases ptk_sample is held to on the GPU (native/tests/test_sampling.cpp), drawn by numpy. */
  @Test
  void drawsTheTokensOfTheSharedCases() throws IOException {
    JsonObject all = JsonParser.parseString(Files.readString(Path.of("../native/tests/data/sampling_cases.json")))
        .getAsJsonObject();
    int rows = 0;
    for (JsonElement c : all.getAsJsonArray("cases")) {
      JsonObject o = c.getAsJsonObject();
      SamplingParams params = new SamplingParams(o.get("temperature").getAsDouble(), o.get("top_p").getAsDouble(),
          o.get("top_k").getAsInt(), o.get("seed").getAsLong());
      for (JsonElement r : o.getAsJsonArray("rows")) {
        JsonObject row = r.getAsJsonObject();
        float[] logits = new float[all.get("vocab").getAsInt()];
        for (int i = 0; i < logits.length; i++) logits[i] = row.getAsJsonArray("logits").get(i).getAsFloat();
        assertEquals(row.get("token").getAsInt(), Sampler.sample(logits, params, row.get("path").getAsInt(),
            row.get("step").getAsInt()), params + " row " + rows);
        rows++;
      }
    }
    assertEquals(8 * 16, rows);
  }

  @Test
  void aDrawDependsOnItsKeyAloneNotOnTheBatch() {
    float[] l = {0, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f};
    SamplingParams p = new SamplingParams(1, 1, 0, 42);
    int[] alone = {Sampler.sample(l, p, 3, 17), Sampler.sample(l, p, 1, 5)};
    int[] batched = Sampler.sample(new float[][] {l, l, l}, SamplingRequest.of(p, new int[] {2, 1, 3}, new int[] {9, 5, 17}));
    assertEquals(alone[0], batched[2]);
    assertEquals(alone[1], batched[1]);
    int[] a = draws(p, l, 1, 200);
    assertArrayEquals(a, draws(p, l, 1, 200), "the same seed replays");
    assertNotEquals(Arrays.toString(a), Arrays.toString(draws(new SamplingParams(1, 1, 0, 43), l, 1, 200)), "seed");
    assertNotEquals(Arrays.toString(a), Arrays.toString(draws(p, l, 2, 200)), "paths draw apart");
  }

  @Test
  void eachRowDrawsWithItsOwnRequestsParameters() {
    float[] l = {0, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f};
    SamplingParams hot = new SamplingParams(1, 1, 0, 42);
    SamplingParams other = new SamplingParams(0.7, 0.9, 5, 7);
    int[] mixed = Sampler.sample(new float[][] {l, l, l},
        new SamplingRequest(new SamplingParams[] {hot, SamplingParams.greedy(), other}, new int[] {3, 1, 2}, new int[] {17, 4, 9}));
    assertEquals(Sampler.sample(l, hot, 3, 17), mixed[0]);
    assertEquals(7, mixed[1], "greedy row: the largest logit");
    assertEquals(Sampler.sample(l, other, 2, 9), mixed[2]);
  }

  /**
   * The draw skips the noise of ids too far below the largest logit to win: it must draw what the
   * rule over every id draws. Two thirds of the ids lie 40-100 below (skipped at T = 1 and 0.5),
   * a third 4-16 below, where they win some draws (when their -ln q passes the gap): a skip that
   * reaches them (a bound on -ln q of 4, a wrong sign) fails here. (No draw count can tell the
   * bound 37.5 from 20: an id 20 below wins one draw in 10^9; that rests on the bound's proof.)
   */
  @Test
  void skippingIdsThatCannotWinChangesNoDraw() {
    Random random = new Random(11);
    float[] l = new float[6000];
    for (int i = 0; i < l.length; i++) {
      l[i] = i % 3 == 0 ? -4 - 12 * random.nextFloat() : -40 - 60 * random.nextFloat();
    }
    for (int i = 0; i < 6; i++) l[1000 * i + 7] = -i * 0.5f;
    int farWins = 0;
    for (SamplingParams p : List.of(new SamplingParams(1, 1, 0, 5), new SamplingParams(0.5, 1, 0, 6),
        new SamplingParams(1, 0.999, 0, 7), new SamplingParams(1, 1, 3000, 8))) {
      for (int step = 0; step < 1500; step++) {
        int want = everyId(l, p, 2, step);
        assertEquals(want, Sampler.sample(l, p, 2, step), p + " step " + step);
        if (l[want] < -4) farWins++;
      }
    }
    assertTrue(farWins >= 5, "ids far below the top won " + farWins + " draws: the case must reach them");
  }

  /** The rule over every id, nothing skipped. */
  static int everyId(float[] l, SamplingParams p, int path, int step) {
    int top = Sampler.argmax(l);
    boolean[] kept = Sampler.kept(l, p);
    float s = 1f / (float) p.temperature();
    int best = -1;
    float bestScore = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < l.length; i++) {
      if (!kept[i]) continue;
      float score = s * (l[i] - l[top]) - (float) StrictMath.log(SampleNoise.exponential(p.seed(), path, step, i));
      if (score > bestScore || (best < 0 && score == bestScore)) {
        best = i;
        bestScore = score;
      }
    }
    return best < 0 ? top : best;
  }

  @Test
  void frequenciesMatchTheProbabilities() {
    // T = 1: the probabilities themselves; T = 0.5: p^2 / sum p^2 = 1/30, 4/30, 9/30, 16/30;
    // top-k 3 + top-p 0.75: ids 2, 3 with 3/7, 4/7.
    assertFrequencies(new SamplingParams(1, 1, 0, 1), new double[] {0.1, 0.2, 0.3, 0.4});
    assertFrequencies(new SamplingParams(0.5, 1, 0, 2), new double[] {1 / 30.0, 4 / 30.0, 9 / 30.0, 16 / 30.0});
    assertFrequencies(new SamplingParams(1, 0.75, 3, 3), new double[] {0, 0, 3 / 7.0, 4 / 7.0});
  }

  @Test
  void rejectsRowsThatDoNotMatch() {
    SamplingParams p = new SamplingParams(1, 1, 0, 1);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Sampler.sample(new float[][] {{0, 1}}, SamplingRequest.of(p, new int[] {1, 2}, new int[] {0, 0})));
    assertTrue(e.getMessage().contains("2 rows for 1 rows of logits"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> SamplingRequest.of(p, new int[] {1}, new int[] {0, 1}));
    assertTrue(e.getMessage().contains("2 params, 1 pathIds and 2 steps"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> new SamplingRequest(new SamplingParams[] {p, null}, new int[] {1, 2}, new int[] {0, 0}));
    assertTrue(e.getMessage().contains("row 1: params"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> SamplingRequest.of(p, new int[] {-1}, new int[] {0}));
    assertTrue(e.getMessage().contains("row 0"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1, 1e-60, 0, 1));
    assertTrue(e.getMessage().startsWith("topP"), e.getMessage());
  }

  /**
   * A row split into slices (as the CPU backend splits one row over its workers) draws the token of
   * one pass over every id: for random rows at several temperatures, top-k and top-p, rows whose
   * best scores are ties (+inf logits leave the rest at -inf scores: without top-p, their first id
   * is the token) or NaN, and more slices than ids. Slices combined out of order, or a slice's first best id not
   * preferred on a tie, fail it.
   */
  @Test
  void aRowInSlicesDrawsWhatOnePassDraws() {
    Random random = new Random(5);
    float inf = Float.POSITIVE_INFINITY, nan = Float.NaN;
    List<float[]> rows = new java.util.ArrayList<>();
    for (int r = 0; r < 6; r++) {
      float[] l = new float[1000 + 777 * r];
      for (int i = 0; i < l.length; i++) l[i] = (float) (random.nextGaussian() * (1 + r));
      rows.add(l);
    }
    rows.add(new float[] {inf, inf, 1, 2, inf, 3, 0, inf}); // scores NaN at +inf, -inf elsewhere: id 2
    rows.add(new float[] {4, nan, nan, 3, nan, 5, nan}); // NaN logits (past the first) never drawn
    rows.add(new float[] {nan, nan, nan, nan}); // nothing drawn: the argmax, id 0
    rows.add(new float[] {-inf, 0, -inf, 0, 0}); // -inf never drawn: ids 1, 3, 4
    List<SamplingParams> params = List.of(new SamplingParams(1, 1, 0, 3), new SamplingParams(0.5, 1, 0, 4),
        new SamplingParams(1, 0.9, 0, 5), new SamplingParams(0.7, 1, 20, 6), new SamplingParams(0, 1, 0, 7));
    int[] tokenOf = {-1, -1, -1, -1, -1, -1, 2, -1, 0, -1};
    for (int r = 0; r < rows.size(); r++) {
      float[] l = rows.get(r);
      for (SamplingParams p : params) {
        for (int step = 0; step < 40; step++) {
          int want = p.isGreedy() ? Sampler.argmax(l) : everyId(l, p, 1, step);
          if (tokenOf[r] >= 0 && !p.isGreedy() && p.topP() == 1) assertEquals(tokenOf[r], want, "row " + r + ": the case");
          if (r == 7) assertFalse(Float.isNaN(l[want]), "row 7: a NaN logit drawn");
          for (int slices : new int[] {1, 2, 3, 7, 64}) {
            Sampler.Draw draw = new Sampler.Draw(l, 0, l.length, p, 1, step, slices);
            for (int j = slices - 1; j >= 0; j--) draw.slice(j); // any order of slices
            assertEquals(want, draw.token(), "row " + r + ", " + p + ", step " + step + ", " + slices + " slices");
          }
          if (!p.isGreedy() && l.length > 1) {
            Sampler.Draw half = new Sampler.Draw(l, 0, l.length, p, 1, step, 2);
            half.slice(0);
            assertThrows(IllegalStateException.class, half::token, "a slice left undrawn");
          }
        }
      }
    }
  }

  static void assertFrequencies(SamplingParams params, double[] expected) {
    int n = 40000;
    int[] counts = new int[expected.length];
    for (int t : draws(params, logLogits(PROBS), 1, n)) counts[t]++;
    for (int i = 0; i < expected.length; i++) {
      // 0.012 is at least 4.8 standard deviations of a frequency over 40000 draws.
      assertEquals(expected[i], counts[i] / (double) n, 0.012, "token " + i + " with " + params);
    }
  }

  /** Path {@code path}'s draws at steps 0..n-1. */
  static int[] draws(SamplingParams params, float[] logits, int path, int n) {
    int[] out = new int[n];
    for (int step = 0; step < n; step++) out[step] = Sampler.sample(logits, params, path, step);
    return out;
  }
}
