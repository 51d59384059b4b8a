package dev.ptk.backend.cpu;

import dev.ptk.model.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Element reads of small tensors (norm weights, biases, thought tables, one embedding row). */
final class TensorFloats {
  private TensorFloats() {}

  /** Every element, widened to float (for vectors of a few thousand elements at most). */
  static float[] all(Tensor t) {
    float[] out = new float[Math.toIntExact(t.elementCount())];
    read(t, 0, out, 0, out.length);
    return out;
  }

  /** Row {@code row} of a 2-D tensor into {@code dst[off, off + width)}. */
  static void row(Tensor t, int row, float[] dst, int off) {
    int width = t.dim(1);
    read(t, (long) row * width, dst, off, width);
  }

  private static void read(Tensor t, long first, float[] dst, int off, int n) {
    ByteBuffer b = t.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
    b.clear();
    int size = t.dtype().size();
    for (int i = 0; i < n; i++) {
      int at = Math.toIntExact((first + i) * size);
      dst[off + i] = switch (t.dtype()) {
        case BF16 -> FloatFormats.bf16ToFloat(b.getShort(at));
        case F16 -> FloatFormats.f16ToFloat(b.getShort(at));
        case F32 -> b.getFloat(at);
        default -> throw new IllegalArgumentException(t + ": unsupported dtype " + t.dtype());
      };
    }
  }
}
