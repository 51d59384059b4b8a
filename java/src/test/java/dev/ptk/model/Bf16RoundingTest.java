package dev.ptk.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** float32 to bf16: round to nearest, ties to even, NaN kept a NaN. */
class Bf16RoundingTest {
  private static short bf16(int floatBits) {
    return Tensor.floatToBf16(Float.intBitsToFloat(floatBits));
  }

  @Test
  void roundsToNearestAndTiesToEven() {
    assertEquals((short) 0x3F80, Tensor.floatToBf16(1.0f));
    assertEquals((short) 0x3F80, bf16(0x3F807FFF));  // below half: down
    assertEquals((short) 0x3F81, bf16(0x3F808001));  // above half: up
    assertEquals((short) 0x3F80, bf16(0x3F808000));  // a tie to the even 0x3F80
    assertEquals((short) 0x3F82, bf16(0x3F818000));  // a tie to the even 0x3F82
    assertEquals((short) 0xBF80, Tensor.floatToBf16(-1.0f));
    assertEquals(1.0f, Tensor.bf16ToFloat(Tensor.floatToBf16(1.0f)));
  }

  @Test
  void largeValuesRoundToInfinityAndNanStaysNan() {
    assertEquals((short) 0x7F80, bf16(0x7F7FFFFF));  // the largest float rounds up to +inf
    assertEquals((short) 0x7F80, Tensor.floatToBf16(Float.POSITIVE_INFINITY));
    assertEquals((short) 0x7FC0, Tensor.floatToBf16(Float.NaN));
    assertEquals((short) 0x7FC0, bf16(0x7FFFFFFF));  // rounding would carry this payload past the sign
  }
}
