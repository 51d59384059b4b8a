package dev.ptk.backend.cpu;

import org.bytedeco.javacpp.FloatPointer;

/**
 * The activations and outputs of the matmul in progress, shared by every matmul of a backend (one
 * forward at a time): native x and y for {@link NativeMatMul}, split x for {@link VectorMatMul}.
 * Grown to the largest call, never shrunk.
 */
final class MatMulScratch implements AutoCloseable {
  private float[] split = new float[0];
  private FloatPointer x;
  private FloatPointer y;

  float[] split(int floats) {
    if (split.length < floats) split = new float[floats];
    return split;
  }

  FloatPointer x(long floats) {
    return x = grow(x, floats);
  }

  FloatPointer y(long floats) {
    return y = grow(y, floats);
  }

  private static FloatPointer grow(FloatPointer p, long floats) {
    if (p != null && p.capacity() >= floats) return p;
    if (p != null) p.close();
    FloatPointer q = new FloatPointer(floats);
    if (q.isNull()) throw new OutOfMemoryError("native matmul scratch of " + floats + " floats");
    return q;
  }

  @Override
  public void close() {
    if (x != null) x.close();
    if (y != null) y.close();
    x = y = null;
  }
}
