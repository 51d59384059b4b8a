package dev.ptk.backend.cpu;

import java.util.Arrays;

/**
 * Partial attention results, one per (row, query head): the normalized output {@code o [rows,
 * heads, d]} and {@code lse [rows, heads]}, the natural-log sum of exp of the scaled scores. A state
 * over no keys has {@code lse = -inf} and {@code o = 0}. Two states over disjoint key sets merge
 * exactly into the state over their union.
 */
final class AttentionStates {
  final int heads;
  final int headDim;
  final float[] o;
  final float[] lse;

  AttentionStates(int rows, int heads, int headDim) {
    this(new float[rows * heads * headDim], new float[rows * heads], heads, headDim);
  }

  AttentionStates(float[] o, float[] lse, int heads, int headDim) {
    this.o = o;
    this.lse = lse;
    this.heads = heads;
    this.headDim = headDim;
  }

  /** Rows {@code [0, rows)} become states over no keys. */
  void clear(int rows) {
    Arrays.fill(o, 0, rows * heads * headDim, 0f);
    Arrays.fill(lse, 0, rows * heads, Float.NEGATIVE_INFINITY);
  }

  /** This row's states become their merge with {@code other}'s same row. */
  void merge(AttentionStates other, int row) {
    for (int h = row * heads, end = h + heads; h < end; h++) {
      double la = lse[h], lb = other.lse[h];
      double m = Math.max(la, lb);
      int off = h * headDim;
      if (m == Double.NEGATIVE_INFINITY) {
        lse[h] = Float.NEGATIVE_INFINITY;
        Arrays.fill(o, off, off + headDim, 0f);
        continue;
      }
      double ea = Math.exp(la - m), eb = Math.exp(lb - m);
      double z = ea + eb;
      float wa = (float) (ea / z), wb = (float) (eb / z);
      for (int i = off; i < off + headDim; i++) o[i] = wa * o[i] + wb * other.o[i];
      lse[h] = (float) (m + Math.log(z));
    }
  }
}
