package dev.ptk.backend.cuda;

import static dev.ptk.nativelib.Native.check;

import dev.ptk.nativelib.global.ptk;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * y = x w^T (+ bias) on the backend's stream, through ptk_gemv (at most {@link #MAX_GEMV_ROWS}
 * rows) or ptk_gemm (f32 out; with a bias or bf16 out, then ptk_bias_to_bf16 from an f32 scratch).
 */
final class DeviceMatmul {
  /** ptk_gemv's row limit, from the bindings. */
  static final int MAX_GEMV_ROWS = ptk.PTK_GEMV_MAX_ROWS;

  private final Pointer stream;
  private final DeviceGemm gemm;
  private final FloatPointer scratch;
  private final GemvWorkspace work;

  /** {@code scratch}: f32, room for the widest projection with bf16 out at the most rows ptk_gemm gets. */
  DeviceMatmul(Pointer stream, DeviceGemm gemm, Pointer scratch, GemvWorkspace work) {
    this.stream = stream;
    this.gemm = gemm;
    this.scratch = new FloatPointer(scratch);
    this.work = work;
  }

  void run(boolean gemv, Pointer in, Pointer w, Pointer bias, Pointer out, boolean outBf16, int m, int n, int k) {
    if (gemv) {
      check(ptk.ptk_gemv(in, w, bias, out, outBf16 ? ptk.PTK_DTYPE_BF16 : ptk.PTK_DTYPE_F32, m, n, k, work.at(),
          work.bytes(), stream));
    } else if (outBf16) {
      gemm.matmul(in, w, scratch, m, n, k);
      check(ptk.ptk_bias_to_bf16(scratch, bias, out, m, n, stream));
    } else {
      if (bias != null) throw new IllegalArgumentException("an f32 projection through ptk_gemm takes no bias");
      gemm.matmul(in, w, out, m, n, k);
    }
  }
}
