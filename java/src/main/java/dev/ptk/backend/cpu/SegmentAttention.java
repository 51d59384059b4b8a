package dev.ptk.backend.cpu;

import dev.ptk.model.Tensor;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Attention states of a set of queries over one paged segment, in one pass over its pages: each
 * page's K/V rows of a kv head are widened once and serve every query (and every query head of the
 * GQA group) that sees them, with an online softmax per (query, head). Query i sees the first
 * {@code limits[i]} keys of the segment (the whole segment, or a causal prefix of it).
 * Work is split by kv head and, when there are more workers than kv heads, by query.
 *
 * <p>K is widened transposed ({@code [d][page]}), so that a query's scores against a page are a
 * few vectors of keys at once, and their exponentials are taken a vector at a time.
 */
final class SegmentAttention implements WorkerPool.RangeTask {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

  private final WorkerPool pool;
  private final int hq;
  private final int hkv;
  private final int d;
  private final int group;
  private final int pageSize;
  private final float[][] keys; // per worker: a page's K, transposed: [d][pageSize]
  private final float[][] values;
  private final float[][] scores;
  private float[][] max;
  private float[][] sum;

  // the call in progress
  private float[] q;
  private int qStride;
  private int[] queries;
  private int[] limits;
  private int count;
  private int chunks;
  private short[] kCache;
  private short[] vCache;
  private int[] pages;
  private int length;
  private float scale;
  private AttentionStates out;

  SegmentAttention(WorkerPool pool, int hq, int hkv, int d, int pageSize) {
    this.pool = pool;
    this.hq = hq;
    this.hkv = hkv;
    this.d = d;
    this.group = hq / hkv;
    this.pageSize = pageSize;
    int w = pool.size();
    keys = new float[w][pageSize * d];
    values = new float[w][pageSize * d];
    scores = new float[w][pageSize];
    max = new float[w][0];
    sum = new float[w][0];
  }

  /**
   * Writes the states of query rows {@code queries[0, count)} of {@code q} (row stride
   * {@code qStride}, heads at {@code [0, hq·d)}) into the same rows of {@code out}.
   */
  void run(float[] q, int qStride, int[] queries, int[] limits, int count, short[] kCache, short[] vCache,
      int[] pages, int length, float scale, AttentionStates out) {
    if (max[0].length < count * group) {
      max = new float[pool.size()][count * group];
      sum = new float[pool.size()][count * group];
    }
    this.q = q;
    this.qStride = qStride;
    this.queries = queries;
    this.limits = limits;
    this.count = count;
    this.kCache = kCache;
    this.vCache = vCache;
    this.pages = pages;
    this.length = length;
    this.scale = scale;
    this.out = out;
    chunks = Math.max(1, Math.min(count, (pool.size() + hkv - 1) / hkv));
    pool.run(hkv * chunks, this);
    this.q = null;
    this.out = null;
  }

  @Override
  public void run(int worker, int fromItem, int toItem) {
    for (int item = fromItem; item < toItem; item++) {
      int c = item % chunks;
      attend(worker, item / chunks, count * c / chunks, count * (c + 1) / chunks);
    }
  }

  private void attend(int worker, int kvHead, int from, int to) {
    float[] kt = keys[worker], vf = values[worker], s = scores[worker], m = max[worker], l = sum[worker];
    int seen = 0;
    for (int i = from; i < to; i++) {
      seen = Math.max(seen, Math.min(limits[i], length));
      for (int g = 0; g < group; g++) {
        m[i * group + g] = Float.NEGATIVE_INFINITY;
        l[i * group + g] = 0f;
        int off = oOffset(queries[i], kvHead * group + g);
        Arrays.fill(out.o, off, off + d, 0f);
      }
    }
    for (int p = 0; p * pageSize < seen; p++) {
      int base = p * pageSize;
      int n = Math.min(pageSize, seen - base);
      widen(pages[p], kvHead, n, kt, vf);
      for (int i = from; i < to; i++) {
        int visible = Math.min(Math.min(limits[i], length) - base, n);
        if (visible <= 0) continue;
        for (int g = 0; g < group; g++) {
          int h = kvHead * group + g;
          update(q, queries[i] * qStride + h * d, kt, vf, visible, s, m, l, i * group + g, oOffset(queries[i], h));
        }
      }
    }
    for (int i = from; i < to; i++) {
      for (int g = 0; g < group; g++) {
        int h = kvHead * group + g;
        int st = i * group + g;
        int off = oOffset(queries[i], h);
        if (l[st] == 0f) {
          out.lse[queries[i] * hq + h] = Float.NEGATIVE_INFINITY;
          continue;
        }
        float inv = 1f / l[st];
        for (int k = off; k < off + d; k++) out.o[k] *= inv;
        out.lse[queries[i] * hq + h] = (float) (m[st] + Math.log(l[st]));
      }
    }
  }

  private int oOffset(int row, int head) {
    return (row * hq + head) * d;
  }

  /** K (transposed) and V rows of the first {@code n} slots of a page, one kv head, as floats. */
  private void widen(int page, int kvHead, int n, float[] kt, float[] vf) {
    for (int j = 0; j < n; j++) {
      int src = ((page * pageSize + j) * hkv + kvHead) * d;
      for (int i = 0; i < d; i++) {
        kt[i * pageSize + j] = Tensor.bf16ToFloat(kCache[src + i]);
        vf[j * d + i] = Tensor.bf16ToFloat(vCache[src + i]);
      }
    }
  }

  /** Online softmax over {@code n} more keys for one (query, head) state. */
  private void update(float[] q, int qOff, float[] kt, float[] vf, int n, float[] s, float[] m, float[] l, int st, int oOff) {
    scores(q, qOff, kt, n, s);
    float mx = Float.NEGATIVE_INFINITY;
    for (int j = 0; j < n; j++) mx = Math.max(mx, s[j]);
    float mNew = Math.max(m[st], mx);
    float[] o = out.o;
    if (m[st] != Float.NEGATIVE_INFINITY && m[st] != mNew) {
      float alpha = (float) Math.exp(m[st] - mNew);
      l[st] *= alpha;
      for (int k = oOff; k < oOff + d; k++) o[k] *= alpha;
    }
    exp(s, n, mNew);
    float total = 0f;
    for (int j = 0; j < n; j++) total += s[j];
    weightedSum(s, vf, n, o, oOff);
    l[st] += total;
    m[st] = mNew;
  }

  /** s[j] = scale · q · k_j for the page's first n keys: per vector of keys, q's d elements in order. */
  private void scores(float[] q, int qOff, float[] kt, int n, float[] s) {
    for (int j = 0; j < n; j += F.length()) {
      VectorMask<Float> keys = F.indexInRange(j, n);
      FloatVector acc = FloatVector.zero(F);
      for (int i = 0; i < d; i++) {
        acc = FloatVector.fromArray(F, kt, i * pageSize + j, keys).fma(FloatVector.broadcast(F, q[qOff + i]), acc);
      }
      acc.mul(scale).intoArray(s, j, keys);
    }
  }

  /** s[j] = e^(s[j] - max) for j < n. */
  private static void exp(float[] s, int n, float max) {
    for (int j = 0; j < n; j += F.length()) {
      VectorMask<Float> keys = F.indexInRange(j, n);
      FloatVector.fromArray(F, s, j, keys).sub(max).lanewise(VectorOperators.EXP).intoArray(s, j, keys);
    }
  }

  /**
   * o += sum_j s[j] · v_j over the page's first n values, element by element in order of j (the
   * same sums as one key at a time), with four vectors of o held in registers across the keys.
   */
  private void weightedSum(float[] s, float[] vf, int n, float[] o, int oOff) {
    int lanes = F.length(), i = 0;
    for (; i + 4 * lanes <= d; i += 4 * lanes) {
      FloatVector a0 = FloatVector.fromArray(F, o, oOff + i), a1 = FloatVector.fromArray(F, o, oOff + i + lanes);
      FloatVector a2 = FloatVector.fromArray(F, o, oOff + i + 2 * lanes), a3 = FloatVector.fromArray(F, o, oOff + i + 3 * lanes);
      for (int j = 0; j < n; j++) {
        FloatVector p = FloatVector.broadcast(F, s[j]);
        int v = j * d + i;
        a0 = FloatVector.fromArray(F, vf, v).fma(p, a0);
        a1 = FloatVector.fromArray(F, vf, v + lanes).fma(p, a1);
        a2 = FloatVector.fromArray(F, vf, v + 2 * lanes).fma(p, a2);
        a3 = FloatVector.fromArray(F, vf, v + 3 * lanes).fma(p, a3);
      }
      a0.intoArray(o, oOff + i);
      a1.intoArray(o, oOff + i + lanes);
      a2.intoArray(o, oOff + i + 2 * lanes);
      a3.intoArray(o, oOff + i + 3 * lanes);
    }
    for (; i + lanes <= d; i += lanes) {
      FloatVector a = FloatVector.fromArray(F, o, oOff + i);
      for (int j = 0; j < n; j++) a = FloatVector.fromArray(F, vf, j * d + i).fma(FloatVector.broadcast(F, s[j]), a);
      a.intoArray(o, oOff + i);
    }
    for (; i < d; i++) {
      float a = o[oOff + i];
      for (int j = 0; j < n; j++) a = Math.fma(vf[j * d + i], s[j], a);
      o[oOff + i] = a;
    }
  }
}
