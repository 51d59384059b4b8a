package dev.ptk.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code out[t, r] = x[t] · W[r] + b[r]} for a {@code [T, in]} activation and stacked weight rows.
 * Each weight row is read from memory once and serves all T activation rows (so P paths cost
 * one weight read per step); output rows are split across the workers, four at a time.
 */
final class MatMul implements WorkerPool.RangeTask {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  private static final int ROWS = 4;

  private final WorkerPool pool;
  private final WeightRows weights;
  private final WeightRows.Reader[] readers;
  private final float[][][] rowScratch;

  // the call in progress (set by apply, read by the workers)
  private float[] x;
  private int tokens;
  private float[] out;
  private int outStride;

  MatMul(WorkerPool pool, WeightRows weights) {
    this.pool = pool;
    this.weights = weights;
    readers = new WeightRows.Reader[pool.size()];
    rowScratch = new float[pool.size()][ROWS][weights.in()];
    for (int i = 0; i < readers.length; i++) readers[i] = weights.reader();
  }

  WeightRows weights() {
    return weights;
  }

  /**
   * {@code xSplit}: T rows of width in, in split order ({@link WeightRows#split}); writes
   * {@code out[t * outStride + r]} for every weight row r.
   */
  void apply(float[] xSplit, int tokens, float[] out, int outStride) {
    this.x = xSplit;
    this.tokens = tokens;
    this.out = out;
    this.outStride = outStride;
    int blocks = (weights.rows() + ROWS - 1) / ROWS;
    pool.run(blocks, this);
    this.x = null;
    this.out = null;
  }

  @Override
  public void run(int worker, int fromBlock, int toBlock) {
    WeightRows.Reader reader = readers[worker];
    float[][] w = rowScratch[worker];
    int in = weights.in();
    for (int b = fromBlock; b < toBlock; b++) {
      int r0 = b * ROWS;
      if (r0 + ROWS <= weights.rows()) {
        for (int k = 0; k < ROWS; k++) reader.read(r0 + k, w[k]);
        for (int t = 0; t < tokens; t++) dot4(w, x, t * in, in, out, t * outStride + r0);
        for (int k = 0; k < ROWS; k++) {
          float bias = weights.bias(r0 + k);
          for (int t = 0; t < tokens; t++) out[t * outStride + r0 + k] += bias;
        }
      } else {
        for (int r = r0; r < weights.rows(); r++) {
          reader.read(r, w[0]);
          for (int t = 0; t < tokens; t++) out[t * outStride + r] = dot(w[0], x, t * in, in) + weights.bias(r);
        }
      }
    }
  }

  /** Four weight rows against one activation row: each activation vector is loaded once. */
  private static void dot4(float[][] w, float[] x, int xOff, int n, float[] out, int outOff) {
    float[] w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3];
    FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
    int i = 0;
    for (int bound = F.loopBound(n); i < bound; i += F.length()) {
      FloatVector xv = FloatVector.fromArray(F, x, xOff + i);
      a0 = FloatVector.fromArray(F, w0, i).fma(xv, a0);
      a1 = FloatVector.fromArray(F, w1, i).fma(xv, a1);
      a2 = FloatVector.fromArray(F, w2, i).fma(xv, a2);
      a3 = FloatVector.fromArray(F, w3, i).fma(xv, a3);
    }
    float s0 = a0.reduceLanes(VectorOperators.ADD), s1 = a1.reduceLanes(VectorOperators.ADD);
    float s2 = a2.reduceLanes(VectorOperators.ADD), s3 = a3.reduceLanes(VectorOperators.ADD);
    for (; i < n; i++) {
      float xi = x[xOff + i];
      s0 += w0[i] * xi;
      s1 += w1[i] * xi;
      s2 += w2[i] * xi;
      s3 += w3[i] * xi;
    }
    out[outOff] = s0;
    out[outOff + 1] = s1;
    out[outOff + 2] = s2;
    out[outOff + 3] = s3;
  }

  private static float dot(float[] w, float[] x, int xOff, int n) {
    FloatVector acc = FloatVector.zero(F);
    int i = 0;
    for (int bound = F.loopBound(n); i < bound; i += F.length()) {
      acc = FloatVector.fromArray(F, w, i).fma(FloatVector.fromArray(F, x, xOff + i), acc);
    }
    float s = acc.reduceLanes(VectorOperators.ADD);
    for (; i < n; i++) s += w[i] * x[xOff + i];
    return s;
  }
}
