package dev.ptk.backend.cpu;

import dev.ptk.model.Tensor;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Attention states of a set of queries over one paged segment, in one pass over its pages: a span
 * of pages' K/V rows of a kv head (about {@link #SPAN_KEYS} keys) is widened once and serves every
 * query (and every query head of the GQA group) that sees it, with an online softmax per (query,
 * head). Query i sees the first
 * {@code limits[i]} keys of the segment (the whole segment, or a causal prefix of it).
 * Work is split by kv head and, when there are more workers than kv heads, by query.
 *
 * <p>The cache holds a page's K transposed ({@code [d][slot]}, {@link KvCache}), so a span of one kv
 * head widens with contiguous vector loads, a query's scores against the span are a few vectors
 * of keys at once, and their exponentials are taken a vector at a time. The states
 * that see the same keys of a span (the heads of a GQA group, the paths of a shared prompt, the
 * rows of a prefill) go through it four at a time, so that each vector of K or V loaded serves
 * four of them; each state's sums are the same, in the same order, as on its own.
 */
final class SegmentAttention implements WorkerPool.RangeTask {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  /** bf16 bits, as many lanes as F: widened to F through ints. */
  private static final VectorSpecies<Short> S = ShortVector.SPECIES_PREFERRED.withShape(VectorShape.forBitSize(F.vectorBitSize() / 2));
  private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED.withShape(F.vectorShape());
  /** States per pass over a span's K and V. */
  private static final int CHUNK = 4;
  /**
   * Keys per span (whole pages, at least one): the softmax's per-state work (maximum, rescale,
   * sum) and the chunk bookkeeping come once per span; with one 16-key page a span they were a
   * third of a causal prefill's attention time. 128 keys of K and V (128 KiB as floats at d =
   * 128) stay in L2 while the queries pass. Measured (one layer, 2048-token causal prefill, 2
   * threads, Zen 4): spans of 32, 64, 128, 256 keys 120, 112, 102, 97 ms; 256 was no faster at
   * 512 tokens, where a longer span is more often cut by the causal diagonal.
   */
  private static final int SPAN_KEYS = 128;

  private final WorkerPool pool;
  private final int hq;
  private final int hkv;
  private final int d;
  private final int group;
  private final int pageSize;
  private final int spanPages;
  private final int spanKeys;
  /** Floats per row of scores: spanKeys rounded up to whole vectors. */
  private final int scoreStride;
  private final float[][] keys; // per worker: a span's K, transposed: [d][spanKeys], then a vector of slack
  private final float[][] values;
  private final float[][] scores; // per worker: CHUNK rows of scoreStride
  private final int[][] chunkQ; // per worker: the chunk's states: q offset, o offset, state index
  private final int[][] chunkO;
  private final int[][] chunkState;
  private float[][] max;
  private float[][] sum;

  // the call in progress
  private float[] q;
  private int qStride;
  private int[] queries;
  private int[] limits;
  private int count;
  private int chunks;
  private KvCache cache;
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
    this.spanPages = Math.max(1, SPAN_KEYS / pageSize);
    this.spanKeys = spanPages * pageSize;
    this.scoreStride = (spanKeys + F.length() - 1) / F.length() * F.length();
    keys = new float[w][spanKeys * d + F.length()];
    values = new float[w][spanKeys * d];
    scores = new float[w][CHUNK * scoreStride];
    chunkQ = new int[w][CHUNK];
    chunkO = new int[w][CHUNK];
    chunkState = new int[w][CHUNK];
    max = new float[w][0];
    sum = new float[w][0];
  }

  /**
   * Writes the states of query rows {@code queries[0, count)} of {@code q} (row stride
   * {@code qStride}, heads at {@code [0, hq·d)}) into the same rows of {@code out}.
   */
  void run(float[] q, int qStride, int[] queries, int[] limits, int count, KvCache cache, int layer,
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
    this.cache = cache;
    this.kCache = cache.keys(layer);
    this.vCache = cache.values(layer);
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
    int[] cq = chunkQ[worker], co = chunkO[worker], cs = chunkState[worker];
    for (int p = 0; p * pageSize < seen; p += spanPages) {
      int base = p * pageSize;
      int n = Math.min(spanKeys, seen - base);
      for (int e = 0; e * pageSize < n; e++) widen(cache.block(pages[p + e], kvHead), e * pageSize, kt, vf);
      int states = 0, chunkKeys = 0; // the chunk being filled: each of its states sees chunkKeys keys
      for (int i = from; i < to; i++) {
        int visible = Math.min(Math.min(limits[i], length) - base, n);
        if (visible <= 0) continue;
        for (int g = 0; g < group; g++) {
          if (states == CHUNK || (states > 0 && visible != chunkKeys)) {
            update(states, chunkKeys, kt, vf, s, m, l, worker);
            states = 0;
          }
          int h = kvHead * group + g;
          cq[states] = queries[i] * qStride + h * d;
          co[states] = oOffset(queries[i], h);
          cs[states] = i * group + g;
          chunkKeys = visible;
          states++;
        }
      }
      if (states > 0) update(states, chunkKeys, kt, vf, s, m, l, worker);
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

  /**
   * A page's block of one kv head, K (transposed, as the cache holds it) and V, as floats at key
   * {@code at} of the span: every slot, written or not (attention reads the first n only).
   */
  private void widen(int block, int at, float[] kt, float[] vf) {
    int lanes = F.length();
    for (int i = 0; i < d; i++) {
      int from = block + i * pageSize, to = i * spanKeys + at, j = 0;
      for (; j + lanes <= pageSize; j += lanes) widen(kCache, from + j).intoArray(kt, to + j);
      for (; j < pageSize; j++) kt[to + j] = Tensor.bf16ToFloat(kCache[from + j]);
    }
    int size = pageSize * d, to = at * d, i = 0;
    for (; i + lanes <= size; i += lanes) widen(vCache, block + i).intoArray(vf, to + i);
    for (; i < size; i++) vf[to + i] = Tensor.bf16ToFloat(vCache[block + i]);
  }

  private static FloatVector widen(short[] bits, int at) {
    IntVector wide = (IntVector) ShortVector.fromArray(S, bits, at).convertShape(VectorOperators.S2I, I, 0);
    return wide.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
  }

  /**
   * Online softmax over {@code n} more keys for the chunk's first {@code states} states. A chunk
   * of fewer than four runs its missing slots as copies of its first state: they compute what
   * it computes and store the same values over it.
   */
  private void update(int states, int n, float[] kt, float[] vf, float[] s, float[] m, float[] l, int worker) {
    int[] cq = chunkQ[worker], co = chunkO[worker], cs = chunkState[worker];
    for (int c = states; c < CHUNK; c++) {
      cq[c] = cq[0];
      co[c] = co[0];
    }
    scores(cq, kt, n, s, states);
    float[] o = out.o;
    int whole = (n + F.length() - 1) / F.length() * F.length();
    for (int c = 0; c < states; c++) {
      int row = c * scoreStride, st = cs[c];
      Arrays.fill(s, row + n, row + whole, Float.NEGATIVE_INFINITY); // keys past n: weight 0
      float mNew = Math.max(m[st], max(s, row, whole));
      if (m[st] != Float.NEGATIVE_INFINITY && m[st] != mNew) {
        float alpha = (float) Math.exp(m[st] - mNew);
        l[st] *= alpha;
        for (int k = co[c]; k < co[c] + d; k++) o[k] *= alpha;
      }
      l[st] += exp(s, row, whole, mNew);
      m[st] = mNew;
    }
    for (int c = states; c < CHUNK; c++) System.arraycopy(s, 0, s, c * scoreStride, n); // the copies' weights
    weightedSum(s, vf, n, o, co, states);
  }

  /**
   * s[c][j] = scale · q_c · k_j for the span's first n keys and the four states' q offsets (the
   * states past {@code states} are copies, not computed): per vector of keys, q's d elements in
   * order. Whole vectors, no masks: lanes past n read whatever lies there (stale keys, the next
   * dim's, the slack) and land past n in the row, which {@link #update} sets to -inf. JDK 17 does
   * not compile every masked load and store to one instruction: with masks here, a 2048-token
   * causal prefill allocated about 150 MB per layer, and the whole pass was 1.3x slower.
   */
  private void scores(int[] qOff, float[] kt, int n, float[] s, int states) {
    int q0 = qOff[0], q1 = qOff[1], q2 = qOff[2], q3 = qOff[3];
    for (int j = 0; j < n; j += F.length()) {
      FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
      for (int i = 0; i < d; i++) {
        FloatVector k = FloatVector.fromArray(F, kt, i * spanKeys + j);
        a0 = k.fma(FloatVector.broadcast(F, q[q0 + i]), a0);
        a1 = k.fma(FloatVector.broadcast(F, q[q1 + i]), a1);
        a2 = k.fma(FloatVector.broadcast(F, q[q2 + i]), a2);
        a3 = k.fma(FloatVector.broadcast(F, q[q3 + i]), a3);
      }
      a0.mul(scale).intoArray(s, j);
      if (states > 1) a1.mul(scale).intoArray(s, scoreStride + j);
      if (states > 2) a2.mul(scale).intoArray(s, 2 * scoreStride + j);
      if (states > 3) a3.mul(scale).intoArray(s, 3 * scoreStride + j);
    }
  }

  /** The largest of s[row, row + whole), whole a multiple of the vector length. */
  private static float max(float[] s, int row, int whole) {
    FloatVector mx = FloatVector.fromArray(F, s, row);
    for (int j = F.length(); j < whole; j += F.length()) mx = mx.max(FloatVector.fromArray(F, s, row + j));
    return mx.reduceLanes(VectorOperators.MAX);
  }

  /**
   * s[row + j] = e^(s[row + j] - max) for j < whole (a multiple of the vector length); returns
   * their sum, summed per lane in order of j, then across the lanes.
   */
  private static float exp(float[] s, int row, int whole, float max) {
    FloatVector total = FloatVector.zero(F);
    for (int j = 0; j < whole; j += F.length()) {
      FloatVector e = FloatVector.fromArray(F, s, row + j).sub(max).lanewise(VectorOperators.EXP);
      e.intoArray(s, row + j);
      total = total.add(e);
    }
    return total.reduceLanes(VectorOperators.ADD);
  }

  /**
   * o_c += sum_j s[c][j] · v_j for the four states over the span's first n values, element by
   * element in order of j (the same sums as one key at a time), two vectors of each o in registers
   * across the keys.
   */
  private void weightedSum(float[] s, float[] vf, int n, float[] o, int[] oOff, int states) {
    int lanes = F.length(), i = 0;
    int o0 = oOff[0], o1 = oOff[1], o2 = oOff[2], o3 = oOff[3];
    int s1 = scoreStride, s2 = 2 * scoreStride, s3 = 3 * scoreStride;
    for (; i + 2 * lanes <= d; i += 2 * lanes) {
      FloatVector a0 = FloatVector.fromArray(F, o, o0 + i), b0 = FloatVector.fromArray(F, o, o0 + i + lanes);
      FloatVector a1 = FloatVector.fromArray(F, o, o1 + i), b1 = FloatVector.fromArray(F, o, o1 + i + lanes);
      FloatVector a2 = FloatVector.fromArray(F, o, o2 + i), b2 = FloatVector.fromArray(F, o, o2 + i + lanes);
      FloatVector a3 = FloatVector.fromArray(F, o, o3 + i), b3 = FloatVector.fromArray(F, o, o3 + i + lanes);
      for (int j = 0; j < n; j++) {
        FloatVector va = FloatVector.fromArray(F, vf, j * d + i), vb = FloatVector.fromArray(F, vf, j * d + i + lanes);
        FloatVector p0 = FloatVector.broadcast(F, s[j]), p1 = FloatVector.broadcast(F, s[s1 + j]);
        FloatVector p2 = FloatVector.broadcast(F, s[s2 + j]), p3 = FloatVector.broadcast(F, s[s3 + j]);
        a0 = va.fma(p0, a0);
        b0 = vb.fma(p0, b0);
        a1 = va.fma(p1, a1);
        b1 = vb.fma(p1, b1);
        a2 = va.fma(p2, a2);
        b2 = vb.fma(p2, b2);
        a3 = va.fma(p3, a3);
        b3 = vb.fma(p3, b3);
      }
      // Copies of state 0 store last-to-first, so state 0's own values are the ones left (equal anyway).
      a3.intoArray(o, o3 + i);
      b3.intoArray(o, o3 + i + lanes);
      a2.intoArray(o, o2 + i);
      b2.intoArray(o, o2 + i + lanes);
      a1.intoArray(o, o1 + i);
      b1.intoArray(o, o1 + i + lanes);
      a0.intoArray(o, o0 + i);
      b0.intoArray(o, o0 + i + lanes);
    }
    for (int c = 0; c < states; c++) { // d past the last pair of vectors: the states alone
      int off = oOff[c], row = c * scoreStride;
      for (int k = i; k + lanes <= d; k += lanes) {
        FloatVector a = FloatVector.fromArray(F, o, off + k);
        for (int j = 0; j < n; j++) a = FloatVector.fromArray(F, vf, j * d + k).fma(FloatVector.broadcast(F, s[row + j]), a);
        a.intoArray(o, off + k);
      }
      for (int k = i + (d - i) / lanes * lanes; k < d; k++) {
        float a = o[off + k];
        for (int j = 0; j < n; j++) a = Math.fma(vf[j * d + k], s[row + j], a);
        o[off + k] = a;
      }
    }
  }
}
