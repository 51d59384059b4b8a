package dev.ptk.model;

/** Element types of safetensors files (the names are the format's own). */
public enum DType {
  BOOL(1), U8(1), I8(1), F8_E5M2(1), F8_E4M3(1), I16(2), U16(2), F16(2), BF16(2), I32(4), U32(4),
  F32(4), F64(8), I64(8), U64(8);

  private final int size;

  DType(int size) {
    this.size = size;
  }

  /** Bytes per element. */
  public int size() {
    return size;
  }
}
