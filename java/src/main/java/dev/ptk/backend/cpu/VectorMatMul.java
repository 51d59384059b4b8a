package dev.ptk.backend.cpu;

import dev.ptk.model.Tensor;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The matmul in Java (Vector API), for when the native one cannot run (see {@link MatMul#of}):
 * {@code out[t, r] = x[t] · W[r] + b[r]} for a {@code [T, in]} activation and stacked weight rows.
 * Each weight row is read from memory once and serves all T activation rows (so P paths cost
 * one weight read per step); output rows are split across the workers, four at a time.
 */
final class VectorMatMul implements MatMul, WorkerPool.RangeTask {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  private static final int ROWS = 4;
  /** Element pairs per piece of a row: 4 row pieces (16 KiB) and 8 activation pieces (32 KiB) about fill L1. */
  private static final int PAIRS = 512;

  private final WorkerPool pool;
  private final WeightRows weights;
  private final MatMulScratch scratch;
  private final ActivationPrecision precision;
  private final WeightRows.Reader[] readers;
  private final float[][][] rowScratch;
  private float[][] sums = new float[0][0];
  private float[][] tails = new float[0][0];

  // the call in progress (set by apply, read by the workers)
  private float[] x;
  private int tokens;
  private float[] out;
  private int outStride;

  VectorMatMul(WorkerPool pool, WeightRows weights, MatMulScratch scratch, ActivationPrecision precision) {
    this.pool = pool;
    this.weights = weights;
    this.scratch = scratch;
    this.precision = precision;
    readers = new WeightRows.Reader[pool.size()];
    rowScratch = new float[pool.size()][ROWS][2 * PAIRS];
    for (int i = 0; i < readers.length; i++) readers[i] = weights.reader(ROWS);
  }

  @Override
  public WeightRows weights() {
    return weights;
  }

  @Override
  public String path() {
    return "java vector" + (precision == ActivationPrecision.BF16 ? ", x in bf16" : "");
  }

  /** Puts x in split order ({@link WeightRows#split}) first, in the shared scratch, rounded to bf16 if so asked. */
  @Override
  public void apply(float[] x, int tokens, float[] out, int outStride) {
    float[] xSplit = scratch.split(tokens * weights.in());
    WeightRows.split(x, tokens, weights.in(), xSplit);
    if (precision == ActivationPrecision.BF16) {
      for (int i = 0; i < tokens * weights.in(); i++) xSplit[i] = Tensor.bf16ToFloat(Tensor.floatToBf16(xSplit[i]));
    }
    this.x = xSplit;
    this.tokens = tokens;
    this.out = out;
    this.outStride = outStride;
    if (sums.length == 0 || tails[0].length < tokens * ROWS) {
      sums = new float[pool.size()][tokens * ROWS * F.length()];
      tails = new float[pool.size()][tokens * ROWS];
    }
    int blocks = (weights.rows() + ROWS - 1) / ROWS;
    pool.run(blocks, this);
    this.x = null;
    this.out = null;
  }

  @Override
  public void run(int worker, int fromBlock, int toBlock) {
    WeightRows.Reader reader = readers[worker];
    float[][] w = rowScratch[worker];
    float[] acc = sums[worker];
    float[] tail = tails[worker];
    int in = weights.in();
    int half = in / 2;
    int rows = weights.rows();
    int block = ROWS * F.length();
    for (int b = fromBlock; b < toBlock; b++) {
      int r0 = b * ROWS;
      int k = Math.min(ROWS, rows - r0);
      reader.load(r0, k);
      if (tokens == 1 && singleRow(reader, r0, k)) continue;
      Arrays.fill(acc, 0, tokens * block, 0f);
      Arrays.fill(tail, 0, tokens * ROWS, 0f);
      // piece by piece, so that the rows' pieces and the activations' pieces stay in L1
      for (int c = 0; c < half; c += PAIRS) {
        int pairs = Math.min(PAIRS, half - c);
        for (int j = 0; j < ROWS; j++) {
          if (j < k) reader.piece(j, c, pairs, w[j]);
          else Arrays.fill(w[j], 0f); // the last block may be short
        }
        int vec = F.loopBound(pairs);
        int t = 0;
        for (; t + 1 < tokens; t += 2) {
          dot4x2(w, 0, vec, x, t * in + c, in, acc, t * block);
          dot4x2(w, pairs, vec, x, t * in + half + c, in, acc, t * block);
        }
        if (t < tokens) {
          dot4(w, 0, vec, x, t * in + c, acc, t * block);
          dot4(w, pairs, vec, x, t * in + half + c, acc, t * block);
        }
        for (t = 0; t < tokens; t++) {
          for (int j = 0; j < k; j++) {
            for (int i = vec; i < pairs; i++) {
              tail[t * ROWS + j] += w[j][i] * x[t * in + c + i] + w[j][pairs + i] * x[t * in + half + c + i];
            }
          }
        }
      }
      for (int t = 0; t < tokens; t++) {
        for (int j = 0; j < k; j++) {
          float sum = FloatVector.fromArray(F, acc, t * block + j * F.length()).reduceLanes(VectorOperators.ADD);
          out[t * outStride + r0 + j] = sum + tail[t * ROWS + j] + weights.bias(r0 + j);
        }
      }
    }
  }

  /**
   * One activation row: each weight row is used once, so bf16 rows are widened in registers and
   * never stored (false, nothing done, when a row of the block is not bf16).
   */
  private boolean singleRow(WeightRows.Reader reader, int r0, int k) {
    for (int j = 0; j < k; j++) {
      if (!reader.isBf16(j)) return false;
    }
    for (int j = 0; j < k; j++) out[r0 + j] = reader.dotPacked(j, x, 0) + weights.bias(r0 + j);
    return true;
  }

  /**
   * Adds four weight rows' pieces {@code [off, off + n)} times one activation piece to the four
   * partial-sum vectors at {@code acc[at, at + 4·lanes)} (reduced once, after the last piece).
   * {@code n} is a multiple of the vector length.
   */
  private static void dot4(float[][] w, int off, int n, float[] x, int xOff, float[] acc, int at) {
    float[] w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3];
    int lanes = F.length();
    FloatVector a0 = FloatVector.fromArray(F, acc, at), a1 = FloatVector.fromArray(F, acc, at + lanes);
    FloatVector a2 = FloatVector.fromArray(F, acc, at + 2 * lanes), a3 = FloatVector.fromArray(F, acc, at + 3 * lanes);
    for (int i = 0; i < n; i += lanes) {
      FloatVector xv = FloatVector.fromArray(F, x, xOff + i);
      a0 = FloatVector.fromArray(F, w0, off + i).fma(xv, a0);
      a1 = FloatVector.fromArray(F, w1, off + i).fma(xv, a1);
      a2 = FloatVector.fromArray(F, w2, off + i).fma(xv, a2);
      a3 = FloatVector.fromArray(F, w3, off + i).fma(xv, a3);
    }
    a0.intoArray(acc, at);
    a1.intoArray(acc, at + lanes);
    a2.intoArray(acc, at + 2 * lanes);
    a3.intoArray(acc, at + 3 * lanes);
  }

  /** {@link #dot4} for two consecutive activation rows: each weight vector loaded serves both. */
  private static void dot4x2(float[][] w, int off, int n, float[] x, int xOff, int in, float[] acc, int at) {
    float[] w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3];
    int lanes = F.length();
    int bt = at + 4 * lanes;
    FloatVector a0 = FloatVector.fromArray(F, acc, at), a1 = FloatVector.fromArray(F, acc, at + lanes);
    FloatVector a2 = FloatVector.fromArray(F, acc, at + 2 * lanes), a3 = FloatVector.fromArray(F, acc, at + 3 * lanes);
    FloatVector b0 = FloatVector.fromArray(F, acc, bt), b1 = FloatVector.fromArray(F, acc, bt + lanes);
    FloatVector b2 = FloatVector.fromArray(F, acc, bt + 2 * lanes), b3 = FloatVector.fromArray(F, acc, bt + 3 * lanes);
    for (int i = 0; i < n; i += lanes) {
      FloatVector xa = FloatVector.fromArray(F, x, xOff + i);
      FloatVector xb = FloatVector.fromArray(F, x, xOff + in + i);
      FloatVector v0 = FloatVector.fromArray(F, w0, off + i);
      FloatVector v1 = FloatVector.fromArray(F, w1, off + i);
      FloatVector v2 = FloatVector.fromArray(F, w2, off + i);
      FloatVector v3 = FloatVector.fromArray(F, w3, off + i);
      a0 = v0.fma(xa, a0);
      a1 = v1.fma(xa, a1);
      a2 = v2.fma(xa, a2);
      a3 = v3.fma(xa, a3);
      b0 = v0.fma(xb, b0);
      b1 = v1.fma(xb, b1);
      b2 = v2.fma(xb, b2);
      b3 = v3.fma(xb, b3);
    }
    a0.intoArray(acc, at);
    a1.intoArray(acc, at + lanes);
    a2.intoArray(acc, at + 2 * lanes);
    a3.intoArray(acc, at + 3 * lanes);
    b0.intoArray(acc, bt);
    b1.intoArray(acc, bt + lanes);
    b2.intoArray(acc, bt + 2 * lanes);
    b3.intoArray(acc, bt + 3 * lanes);
  }
}
