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

  /** A copy widened to float (BF16, F16, F32): for tests and small tensors, not for weights in the hot path. */
  public float[] toFloats() {
    float[] out = new float[smallCount()];
    for (int i = 0; i < out.length; i++) {
      out[i] = switch (dtype) {
        case BF16 -> bf16ToFloat(data.getShort(2 * i));
        case F16 -> f16ToFloat(data.getShort(2 * i));
        case F32 -> data.getFloat(4 * i);
        default -> throw new ModelFormatException(this + ": cannot widen " + dtype + " to float");
      };
    }
    return out;
  }

  /** A copy as int (I32, or I64 whose values fit an int). */
  public int[] toInts() {
    int[] out = new int[smallCount()];
    for (int i = 0; i < out.length; i++) {
      out[i] = switch (dtype) {
        case I32 -> data.getInt(4 * i);
        case I64 -> {
          long v = data.getLong(8 * i);
          if (v != (int) v) throw new ModelFormatException(this + ": element " + i + " = " + v + " does not fit an int");
          yield (int) v;
        }
        default -> throw new ModelFormatException(this + ": cannot read " + dtype + " as int");
      };
    }
    return out;
  }

  private int smallCount() {
    long n = elementCount();
    if (n > Integer.MAX_VALUE - 8) throw new ModelFormatException(this + ": too large to copy into one array");
    return (int) n;
  }

  /**
   * float32 to bf16 bits, rounding to nearest even on the top 16 bits as PyTorch does; NaN becomes
   * the quiet NaN 0x7FC0 (rounding could carry a NaN's payload into infinity).
   */
  public static short floatToBf16(float x) {
    if (Float.isNaN(x)) return (short) 0x7FC0;
    int b = Float.floatToRawIntBits(x);
    return (short) ((b + 0x7FFF + ((b >>> 16) & 1)) >>> 16);
  }

  /** bf16 is the top half of a float32. */
  public static float bf16ToFloat(short bits) {
    return Float.intBitsToFloat((bits & 0xFFFF) << 16);
  }

  /** IEEE half precision (1 sign, 5 exponent, 10 mantissa bits), subnormals included. */
  public static float f16ToFloat(short bits) {
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & 0x1F;
    int mant = bits & 0x3FF;
    if (exp == 0x1F) return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
    if (exp == 0) {
      float v = mant * 0x1p-24f;
      return sign != 0 ? -v : v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  @Override
  public String toString() {
    return name + " " + dtype + Arrays.toString(shape);
  }
}
