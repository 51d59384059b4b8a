package dev.ptk.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Qwen2 RMSNorm in float32, {@code y = x / sqrt(mean(x²) + eps) * w}, row by row, the rows shared
 * among the workers; optionally after the residual add {@code x += r} in the same pass over x.
 * The sum of squares is taken in double, in order, so a row's result does not depend on the batch.
 */
final class RmsNorm implements WorkerPool.RangeTask {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

  private final WorkerPool pool;
  private final double eps;
  private float[] x, residual, weight, out; // the call in progress

  RmsNorm(WorkerPool pool, double eps) {
    this.pool = pool;
    this.eps = eps;
  }

  /** {@code out = norm(x)} for the first {@code rows} rows of width {@code weight.length}. */
  void apply(float[] x, int rows, float[] weight, float[] out) {
    addAndApply(x, null, rows, weight, out);
  }

  /** {@code x += residual} (skipped when null), then {@code out = norm(x)}. */
  void addAndApply(float[] x, float[] residual, int rows, float[] weight, float[] out) {
    this.x = x;
    this.residual = residual;
    this.weight = weight;
    this.out = out;
    pool.run(rows, this);
  }

  @Override
  public void run(int worker, int from, int to) {
    int n = weight.length, bound = F.loopBound(n);
    for (int t = from; t < to; t++) {
      int o = t * n;
      if (residual != null) {
        int i = 0;
        for (; i < bound; i += F.length()) {
          FloatVector.fromArray(F, x, o + i).add(FloatVector.fromArray(F, residual, o + i)).intoArray(x, o + i);
        }
        for (; i < n; i++) x[o + i] += residual[o + i];
      }
      double ss = 0;
      for (int i = 0; i < n; i++) ss += (double) x[o + i] * x[o + i];
      float inv = (float) (1.0 / Math.sqrt(ss / n + eps));
      int i = 0;
      for (; i < bound; i += F.length()) {
        FloatVector.fromArray(F, x, o + i).mul(inv).mul(FloatVector.fromArray(F, weight, i)).intoArray(out, o + i);
      }
      for (; i < n; i++) out[o + i] = x[o + i] * inv * weight[i];
    }
  }
}
