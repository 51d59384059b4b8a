package dev.ptk.backend.cpu;

/** Scalar conversions between float32 and the 16-bit formats weights and the KV cache use. */
final class FloatFormats {
  private FloatFormats() {}

  static float bf16ToFloat(short bits) {
    return Float.intBitsToFloat(bits << 16);
  }

  /** float32 to bf16 bits, round to nearest even on the top 16 bits; NaN becomes 0x7FC0. */
  static short floatToBf16(float x) {
    if (Float.isNaN(x)) return (short) 0x7FC0;
    int b = Float.floatToRawIntBits(x);
    return (short) ((b + 0x7FFF + ((b >>> 16) & 1)) >>> 16);
  }

  /** IEEE half to float32 (JDK 17 has no Float.float16ToFloat). */
  static float f16ToFloat(short bits) {
    int h = bits & 0xFFFF;
    int sign = (h & 0x8000) << 16;
    int exp = (h >>> 10) & 0x1F;
    int mant = h & 0x3FF;
    if (exp == 0x1F) return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
    if (exp != 0) return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    float sub = mant * 0x1p-24f; // subnormal: mant * 2^-24
    return sign != 0 ? -sub : sub;
  }
}
