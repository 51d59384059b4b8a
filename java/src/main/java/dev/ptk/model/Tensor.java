package dev.ptk.model;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A named tensor whose bytes live where they were loaded from (a memory-mapped file region):
 * row-major, little-endian, read-only. No copy is made.
 */
public record Tensor(String name, DType dtype, long[] shape, ByteBuffer data) {

  public long elementCount() {
    long n = 1;
    for (long d : shape) n *= d;
    return n;
  }

  /** Size of dimension {@code i} as an int (every tensor of a supported model fits). */
  public int dim(int i) {
    return Math.toIntExact(shape[i]);
  }

  @Override
  public String toString() {
    return name + " " + dtype + Arrays.toString(shape);
  }
}
