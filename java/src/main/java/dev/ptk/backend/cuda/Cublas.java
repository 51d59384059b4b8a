package dev.ptk.backend.cuda;

import static org.bytedeco.cuda.global.cublas.CUBLAS_COMPUTE_32F;
import static org.bytedeco.cuda.global.cublas.CUBLAS_GEMM_DEFAULT;
import static org.bytedeco.cuda.global.cublas.CUBLAS_OP_N;
import static org.bytedeco.cuda.global.cublas.CUBLAS_OP_T;
import static org.bytedeco.cuda.global.cublas.CUBLAS_STATUS_SUCCESS;
import static org.bytedeco.cuda.global.cudart.CUDA_R_16BF;
import static org.bytedeco.cuda.global.cudart.CUDA_R_32F;

import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/** Matmuls through cuBLAS (bf16 in, f32 out, tensor cores), on the backend's stream. */
final class Cublas implements AutoCloseable {
  private final cublasContext handle = new cublasContext();
  private final FloatPointer one = new FloatPointer(1.0f);
  private final FloatPointer zero = new FloatPointer(0.0f);
  private boolean open;

  /** Bytes of the workspace cuBLAS gets from the caller: NVIDIA's recommendation for Hopper, ample elsewhere. */
  static final long WORKSPACE_BYTES = 32L << 20;

  /** A handle on {@code stream} with its own workspace, so that a captured graph never makes cuBLAS allocate. */
  Cublas(Pointer stream, Pointer workspace) {
    check(cublas.cublasCreate_v2(handle), "cublasCreate");
    open = true;
    try {
      check(cublas.cublasSetStream_v2(handle, new CUstream_st(stream)), "cublasSetStream");
      check(cublas.cublasSetWorkspace_v2(handle, workspace, WORKSPACE_BYTES), "cublasSetWorkspace");  // after SetStream, which resets it
    } catch (RuntimeException e) {
      close();  // the caller never sees this object: free the handle here
      throw e;
    }
  }

  /**
   * y[m, n] (f32) = x[m, k] (bf16) w[n, k]^T, all row-major: in cuBLAS's column-major terms
   * y^T (n x m) = w^T' x^T, with w read as the k x n matrix it is in memory, transposed.
   */
  void matmul(Pointer x, Pointer w, Pointer y, int m, int n, int k) {
    check(cublas.cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, n, m, k, one, w, CUDA_R_16BF, k, x, CUDA_R_16BF, k,
        zero, y, CUDA_R_32F, n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT), "cublasGemmEx");
  }

  private static void check(int status, String what) {
    if (status != CUBLAS_STATUS_SUCCESS) {
      throw new IllegalStateException(what + ": " + cublas.cublasGetStatusString(status).getString());
    }
  }

  @Override
  public void close() {
    if (open) cublas.cublasDestroy_v2(handle);
    open = false;
    one.close();
    zero.close();
  }
}
