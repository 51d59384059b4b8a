package dev.ptk.backend.cpu;

import dev.ptk.model.Tensor;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Attention states of a set of queries over one paged segment, in one pass over its pages: each
 * page's K/V rows of a kv head are widened once and serve every query (and every query head of the
 * GQA group) that sees them, with an online softmax per (query, head). Query i sees the first
 * {@code limits[i]} keys of the segment (the whole segment, or a causal prefix of it).
 * Work is split by kv head and, when there are more workers than kv heads, by query.
 */
final class SegmentAttention implements WorkerPool.RangeTask {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

  private final WorkerPool pool;
  private final int hq;
  private final int hkv;
  private final int d;
  private final int group;
  private final int pageSize;
  private final float[][] keys;
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
    float[] kf = keys[worker], vf = values[worker], s = scores[worker], m = max[worker], l = sum[worker];
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
      widen(pages[p], kvHead, n, kf, vf);
      for (int i = from; i < to; i++) {
        int visible = Math.min(Math.min(limits[i], length) - base, n);
        if (visible <= 0) continue;
        for (int g = 0; g < group; g++) {
          int h = kvHead * group + g;
          update(q, queries[i] * qStride + h * d, kf, vf, visible, s, m, l, i * group + g, oOffset(queries[i], h));
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

  /** K and V rows of the first {@code n} slots of a page, one kv head, as floats. */
  private void widen(int page, int kvHead, int n, float[] kf, float[] vf) {
    for (int j = 0; j < n; j++) {
      int src = ((page * pageSize + j) * hkv + kvHead) * d;
      for (int i = 0; i < d; i++) {
        kf[j * d + i] = Tensor.bf16ToFloat(kCache[src + i]);
        vf[j * d + i] = Tensor.bf16ToFloat(vCache[src + i]);
      }
    }
  }

  /** Online softmax over {@code n} more keys for one (query, head) state. */
  private void update(float[] q, int qOff, float[] kf, float[] vf, int n, float[] s, float[] m, float[] l, int st, int oOff) {
    float mx = Float.NEGATIVE_INFINITY;
    for (int j = 0; j < n; j++) {
      s[j] = scale * dot(q, qOff, kf, j * d);
      mx = Math.max(mx, s[j]);
    }
    float mNew = Math.max(m[st], mx);
    float[] o = out.o;
    if (m[st] != Float.NEGATIVE_INFINITY && m[st] != mNew) {
      float alpha = (float) Math.exp(m[st] - mNew);
      l[st] *= alpha;
      for (int k = oOff; k < oOff + d; k++) o[k] *= alpha;
    }
    float total = 0f;
    for (int j = 0; j < n; j++) {
      float pj = (float) Math.exp(s[j] - mNew);
      total += pj;
      axpy(pj, vf, j * d, o, oOff);
    }
    l[st] += total;
    m[st] = mNew;
  }

  private float dot(float[] a, int aOff, float[] b, int bOff) {
    FloatVector acc = FloatVector.zero(F);
    int i = 0;
    for (int bound = F.loopBound(d); i < bound; i += F.length()) {
      acc = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc);
    }
    float r = acc.reduceLanes(VectorOperators.ADD);
    for (; i < d; i++) r += a[aOff + i] * b[bOff + i];
    return r;
  }

  private void axpy(float a, float[] x, int xOff, float[] y, int yOff) {
    int i = 0;
    for (int bound = F.loopBound(d); i < bound; i += F.length()) {
      FloatVector.fromArray(F, x, xOff + i).fma(FloatVector.broadcast(F, a), FloatVector.fromArray(F, y, yOff + i)).intoArray(y, yOff + i);
    }
    for (; i < d; i++) y[yOff + i] += a * x[xOff + i];
  }
}
