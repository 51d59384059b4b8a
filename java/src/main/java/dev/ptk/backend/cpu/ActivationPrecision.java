package dev.ptk.backend.cpu;

/**
 * How the CPU backend carries activations into its matmuls.
 *
 * <p>{@link #F32}: as computed, a float32 forward (the reference's numbers; the default).
 * {@link #BF16}: each matmul's input rounded to bf16 (to nearest even) first, as a forward in bf16
 * rounds it: the CUDA backend's numerics and the released engine's. With bf16 weights every
 * product is then one bf16 x bf16 product, which on CPUs with AVX-512 BF16 is half the work of
 * {@code F32}'s (there x is carried in two bf16 halves). Sums stay float32 either way.
 */
public enum ActivationPrecision {
  F32,
  BF16;

  /** "f32" or "bf16" (any case), else an error naming the value. */
  public static ActivationPrecision parse(String name) {
    for (ActivationPrecision p : values()) {
      if (p.name().equalsIgnoreCase(name)) return p;
    }
    throw new IllegalArgumentException("activation precision must be f32 or bf16, got '" + name + "'");
  }
}
