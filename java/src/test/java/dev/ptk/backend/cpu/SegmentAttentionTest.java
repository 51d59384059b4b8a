package dev.ptk.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ptk.model.Tensor;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * SegmentAttention against attention computed in double on the host, over segments longer than
 * the shared vectors' (several spans of pages, a span's last page partly seen, page sizes that do
 * not divide a span or a vector), causal and whole; and each row's states the same to the bit
 * whether its query runs alone or among others.
 */
class SegmentAttentionTest {
  private static final WorkerPool POOL = new WorkerPool(2);

  @AfterAll
  static void close() {
    POOL.close();
  }

  /** A segment of {@code length} keys over shuffled pages, queries {@code rows} x hq heads. */
  private record Case(int hq, int hkv, int d, int pageSize, int length, int rows, int[] limits, int[] pages,
      KvCache cache, float[] q) {
    static Case of(int hq, int hkv, int d, int pageSize, int length, int rows, boolean causal, long seed) {
      Random r = new Random(seed);
      int numPages = (length + pageSize - 1) / pageSize + 3;
      KvCache cache = new KvCache(1, numPages, pageSize, hkv, d);
      short[] k = cache.keys(0), v = cache.values(0);
      for (int i = 0; i < k.length; i++) {
        k[i] = Tensor.floatToBf16((float) r.nextGaussian());
        v[i] = Tensor.floatToBf16((float) r.nextGaussian());
      }
      int[] order = new int[numPages];
      for (int i = 0; i < numPages; i++) order[i] = i;
      for (int i = numPages - 1; i > 0; i--) {
        int j = r.nextInt(i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
      int[] pages = Arrays.copyOf(order, (length + pageSize - 1) / pageSize);
      int[] limits = new int[rows];
      for (int i = 0; i < rows; i++) limits[i] = causal ? length - rows + i + 1 : length;
      float[] q = new float[rows * hq * d];
      for (int i = 0; i < q.length; i++) q[i] = (float) (2 * r.nextGaussian());
      return new Case(hq, hkv, d, pageSize, length, rows, limits, pages, cache, q);
    }

    AttentionStates run(int[] queries, int[] limits) {
      AttentionStates out = new AttentionStates(rows, hq, d);
      new SegmentAttention(POOL, hq, hkv, d, pageSize)
          .run(q, hq * d, queries, limits, queries.length, cache, 0, pages, length, scale(), out);
      return out;
    }

    float scale() {
      return (float) (1 / Math.sqrt(d));
    }
  }

  @ParameterizedTest(name = "hq {0}, hkv {1}, d {2}, page {3}, {4} keys, {5} rows, causal {6}")
  @CsvSource({
      "12, 2, 128, 16, 300, 300, true", // the 1.5B's heads: a causal prefill over 3 spans of 8 pages
      "12, 2, 128, 16, 577, 8, false", // 8 decode rows over a long prompt, its last page 1 key
      "6, 1, 40, 5, 203, 70, true", // pages of 5 (a span of 125 keys), d not a multiple of a vector
      "4, 2, 64, 200, 450, 3, false", // pages longer than a span (a span of one page)
      "2, 2, 32, 7, 9, 9, true"}) // one span, partly seen
  void matchesDoublePrecision(int hq, int hkv, int d, int pageSize, int length, int rows, boolean causal) {
    Case c = Case.of(hq, hkv, d, pageSize, length, rows, causal, 7L * length + rows);
    int[] queries = new int[rows];
    for (int i = 0; i < rows; i++) queries[i] = i;
    AttentionStates got = c.run(queries, c.limits);
    double worst = 0;
    for (int i = 0; i < rows; i++) {
      for (int h = 0; h < hq; h++) {
        double[] o = new double[d];
        double lse = reference(c, i, h, o);
        worst = Math.max(worst, Math.abs(got.lse[i * hq + h] - lse));
        for (int e = 0; e < d; e++) worst = Math.max(worst, Math.abs(got.o[(i * hq + h) * d + e] - o[e]));
      }
    }
    assertTrue(worst < 2e-4, "largest difference from double precision " + worst);
  }

  @Test
  void aRowsStatesDoNotDependOnTheOtherRows() {
    Case c = Case.of(12, 2, 128, 16, 200, 40, true, 3);
    int[] all = new int[c.rows];
    for (int i = 0; i < c.rows; i++) all[i] = i;
    AttentionStates batch = c.run(all, c.limits);
    for (int row : new int[] {0, 17, 39}) {
      AttentionStates alone = c.run(new int[] {row}, new int[] {c.limits[row]});
      int heads = c.hq * c.d;
      assertArrayEquals(Arrays.copyOfRange(batch.o, row * heads, (row + 1) * heads),
          Arrays.copyOfRange(alone.o, row * heads, (row + 1) * heads), "o of row " + row);
      assertArrayEquals(Arrays.copyOfRange(batch.lse, row * c.hq, (row + 1) * c.hq),
          Arrays.copyOfRange(alone.lse, row * c.hq, (row + 1) * c.hq), "lse of row " + row);
    }
  }

  /** Query row i, head h over its first limits[i] keys in double; o into {@code o}, returns lse. */
  private static double reference(Case c, int i, int h, double[] o) {
    int kvHead = h / (c.hq / c.hkv), n = c.limits[i];
    double[] s = new double[n];
    double max = Double.NEGATIVE_INFINITY;
    for (int t = 0; t < n; t++) {
      int slot = c.pages[t / c.pageSize] * c.pageSize + t % c.pageSize;
      double dot = 0;
      for (int e = 0; e < c.d; e++) {
        dot += (double) c.q[(i * c.hq + h) * c.d + e] * Tensor.bf16ToFloat(c.cache.keys(0)[c.cache.keyAt(slot, kvHead, e)]);
      }
      s[t] = dot * c.scale();
      max = Math.max(max, s[t]);
    }
    double sum = 0;
    for (int t = 0; t < n; t++) {
      s[t] = Math.exp(s[t] - max);
      sum += s[t];
    }
    for (int t = 0; t < n; t++) {
      int slot = c.pages[t / c.pageSize] * c.pageSize + t % c.pageSize;
      for (int e = 0; e < c.d; e++) {
        o[e] += s[t] / sum * Tensor.bf16ToFloat(c.cache.values(0)[c.cache.valueAt(slot, kvHead, e)]);
      }
    }
    return max + Math.log(sum);
  }
}
