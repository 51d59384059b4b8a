package dev.ptk.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The MLP's gate: {@code out[t, i] = silu(gate[t, i]) · up[t, i]} from rows {@code [gate | up]},
 * the rows shared among the workers.
 */
final class SiluGate implements WorkerPool.RangeTask {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

  private final WorkerPool pool;
  private float[] gateUp, out; // the call in progress
  private int width;

  SiluGate(WorkerPool pool) {
    this.pool = pool;
  }

  void apply(float[] gateUp, int rows, int width, float[] out) {
    this.gateUp = gateUp;
    this.width = width;
    this.out = out;
    pool.run(rows, this);
  }

  /** silu(x) = x / (1 + e^-x), in float, a vector of lanes at a time (the tail of a row lane by lane). */
  @Override
  public void run(int worker, int from, int to) {
    int bound = F.loopBound(width);
    for (int t = from; t < to; t++) {
      int g = t * 2 * width, o = t * width;
      int i = 0;
      for (; i < bound; i += F.length()) {
        FloatVector x = FloatVector.fromArray(F, gateUp, g + i);
        FloatVector up = FloatVector.fromArray(F, gateUp, g + width + i);
        x.div(x.neg().lanewise(VectorOperators.EXP).add(1f)).mul(up).intoArray(out, o + i);
      }
      for (; i < width; i++) {
        float x = gateUp[g + i];
        out[o + i] = x / (1f + (float) Math.exp(-x)) * gateUp[g + width + i];
      }
    }
  }
}
