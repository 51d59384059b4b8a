package dev.ptk.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ptk.model.DType;
import dev.ptk.model.Tensor;
import java.nio.ByteOrder;

/** BF16 tensors of the reference vectors as the KV cache stores them (raw bits), and back. */
final class Vectors {
  private Vectors() {}

  /** BF16 tensor as raw bits (the KV cache's storage). */
  static short[] bits(Tensor t) {
    assertEquals(DType.BF16, t.dtype(), t.name());
    short[] out = new short[Math.toIntExact(t.elementCount())];
    t.data().duplicate().order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().get(0, out);
    return out;
  }

  static float[] widen(short[] bits) {
    float[] out = new float[bits.length];
    for (int i = 0; i < bits.length; i++) out[i] = Tensor.bf16ToFloat(bits[i]);
    return out;
  }
}
