package dev.ptk.backend.cpu;

import static dev.ptk.nativelib.Native.check;

import dev.ptk.nativelib.global.ptk;
import org.bytedeco.javacpp.FloatPointer;

/**
 * The activations and outputs of the matmul in progress, shared by every matmul of a backend (one
 * forward at a time): native x, its prepared form and y for {@link NativeMatMul}, split x for
 * {@link VectorMatMul}. Grown to the largest call, never shrunk.
 */
final class MatMulScratch implements AutoCloseable {
  private float[] split = new float[0];
  private FloatPointer x;
  private FloatPointer y;
  private ptk.ptk_cpu_x prepared;

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

  /** x (native, [rows, k]) prepared once, as {@code precision} says, for every slice of the weights the workers take. */
  ptk.ptk_cpu_x prepare(FloatPointer x, int rows, int k, ActivationPrecision precision) {
    if (prepared == null) {
      prepared = new ptk.ptk_cpu_x();
      check(ptk.ptk_cpu_x_create(prepared));
    }
    int p = precision == ActivationPrecision.BF16 ? ptk.PTK_CPU_X_BF16 : ptk.PTK_CPU_X_F32;
    check(ptk.ptk_cpu_x_prepare_as(prepared, x, rows, k, p));
    return prepared;
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
    if (prepared != null) ptk.ptk_cpu_x_destroy(prepared);
    x = y = null;
    prepared = null;
  }
}
