package dev.ptk.backend.cpu;

import dev.ptk.model.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Token embedding gather: row {@code tokens[t]} of the {@code [vocab, hidden]} table, widened to float. */
final class Embedding {
  private Embedding() {}

  static void gather(Tensor table, int[] tokens, int n, float[] out) {
    int width = table.dim(1);
    ByteBuffer b = table.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
    for (int t = 0; t < n; t++) {
      long first = (long) tokens[t] * width;
      for (int i = 0; i < width; i++) {
        int at = Math.toIntExact((first + i) * table.dtype().size());
        out[t * width + i] = switch (table.dtype()) {
          case BF16 -> Tensor.bf16ToFloat(b.getShort(at));
          case F16 -> Tensor.f16ToFloat(b.getShort(at));
          case F32 -> b.getFloat(at);
          default -> throw new IllegalArgumentException(table + ": unsupported dtype " + table.dtype());
        };
      }
    }
  }
}
