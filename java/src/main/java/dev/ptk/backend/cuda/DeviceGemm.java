package dev.ptk.backend.cuda;

import static dev.ptk.nativelib.Native.check;

import dev.ptk.nativelib.global.ptk;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Matmuls through ptk_gemm (bf16 in, f32 out), on the backend's stream: cuBLAS on tensor cores on
 * a GPU, a host GEMM on the sim device; libptk decides, so that the backend has one seam for both.
 */
final class DeviceGemm implements AutoCloseable {
  /** Bytes of the workspace cuBLAS gets from the caller: NVIDIA's recommendation for Hopper, ample elsewhere. */
  static final long WORKSPACE_BYTES = 32L << 20;

  private ptk.ptk_gemm handle = new ptk.ptk_gemm();

  /** A context on {@code stream} with its own workspace, so that a captured graph never makes cuBLAS allocate. */
  DeviceGemm(Pointer stream, Pointer workspace) {
    check(ptk.ptk_gemm_create(stream, workspace, WORKSPACE_BYTES, handle));
  }

  /** y[m, n] (f32) = x[m, k] (bf16) w[n, k]^T (bf16), all row-major. */
  void matmul(Pointer x, Pointer w, Pointer y, int m, int n, int k) {
    check(ptk.ptk_gemm_bf16(handle, x, w, new FloatPointer(y), m, n, k));
  }

  @Override
  public void close() {
    if (handle != null) ptk.ptk_gemm_destroy(handle);
    handle = null;
  }
}
