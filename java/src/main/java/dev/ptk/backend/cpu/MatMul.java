package dev.ptk.backend.cpu;

/**
 * {@code out[t, r] = x[t] · W[r] + b[r]} for a {@code [T, in]} activation and stacked weight rows,
 * output rows split across the workers.
 *
 * <p>One implementation runs: the native kernels of libptk ({@link NativeMatMul}, ptk/cpu.h), for
 * bf16 weights in direct (mmapped) buffers when libptk loads. The Java one ({@link VectorMatMul})
 * is the single fallback, kept because the CPU backend must still run where libptk cannot load
 * (a platform the bundled library is not built for, or a CUDA build of it on a machine without the
 * CUDA runtime it links) and for f16/f32 or heap-held weights (tests, converted checkpoints).
 */
interface MatMul {
  WeightRows weights();

  /** {@code x}: T rows of width in; writes {@code out[t * outStride + r]} for every weight row r. */
  void apply(float[] x, int tokens, float[] out, int outStride);

  /** Which implementation runs, for reports ("native avx2", "java vector"). */
  String path();

  /** {@code precision}: how x enters the products ({@link ActivationPrecision}). */
  static MatMul of(WorkerPool pool, WeightRows weights, MatMulScratch scratch, ActivationPrecision precision) {
    return NativeCpu.available() && NativeMatMul.accepts(weights)
        ? new NativeMatMul(pool, weights, scratch, precision)
        : new VectorMatMul(pool, weights, scratch, precision);
  }
}
