// The GEMM C ABI: cuBLAS on a GPU, the sim's host GEMM on the sim device. cuBLAS is loaded at run
// time, so libptk needs no cuBLAS to build and a process that never multiplies never loads it.
#include "device_memory.h"
#include "ptk/gemm.h"
#include "validate.h"

#if defined(PTK_WITH_CUDA)
#include <cuda_runtime_api.h>
#endif
#if defined(PTK_SIM)
#include "ptk_sim/gemm.h"
#elif defined(PTK_WITH_CUDA)
#include <dlfcn.h>
#include <library_types.h>
#endif

struct ptk_gemm {
  void* stream;
  void* handle;  // cublasHandle_t on a GPU
};

namespace {

#if defined(PTK_WITH_CUDA) && !defined(PTK_SIM)
// cuBLAS's C API, as declared in cublas_api.h (not part of every toolkit install): status 0 is
// success; CUBLAS_OP_N = 0, CUBLAS_OP_T = 1, CUBLAS_COMPUTE_32F = 68, CUBLAS_GEMM_DEFAULT = -1.
constexpr int kOpN = 0, kOpT = 1, kCompute32F = 68, kGemmDefault = -1;
struct Cublas {
  void* lib = nullptr;
  int (*create)(void** handle) = nullptr;
  int (*destroy)(void* handle) = nullptr;
  int (*set_stream)(void* handle, cudaStream_t stream) = nullptr;
  int (*set_workspace)(void* handle, void* workspace, size_t bytes) = nullptr;
  int (*gemm_ex)(void* handle, int transa, int transb, int m, int n, int k, const void* alpha, const void* a,
                 cudaDataType a_type, int lda, const void* b, cudaDataType b_type, int ldb, const void* beta, void* c,
                 cudaDataType c_type, int ldc, int compute, int algo) = nullptr;
  const char* (*status_string)(int status) = nullptr;
};

const Cublas* cublas() {
  static const Cublas loaded = [] {
    Cublas c;
    for (const char* name : {"libcublas.so.13", "libcublas.so.12", "libcublas.so"}) {
      if ((c.lib = dlopen(name, RTLD_NOW | RTLD_LOCAL)) != nullptr) break;
    }
    if (c.lib == nullptr) return c;
    c.create = reinterpret_cast<decltype(c.create)>(dlsym(c.lib, "cublasCreate_v2"));
    c.destroy = reinterpret_cast<decltype(c.destroy)>(dlsym(c.lib, "cublasDestroy_v2"));
    c.set_stream = reinterpret_cast<decltype(c.set_stream)>(dlsym(c.lib, "cublasSetStream_v2"));
    c.set_workspace = reinterpret_cast<decltype(c.set_workspace)>(dlsym(c.lib, "cublasSetWorkspace_v2"));
    c.gemm_ex = reinterpret_cast<decltype(c.gemm_ex)>(dlsym(c.lib, "cublasGemmEx"));
    c.status_string = reinterpret_cast<decltype(c.status_string)>(dlsym(c.lib, "cublasGetStatusString"));
    return c;
  }();
  const Cublas& c = loaded;
  return c.create && c.destroy && c.set_stream && c.set_workspace && c.gemm_ex ? &c : nullptr;
}

ptk_status cublas_status(int status, const char* what) {
  if (status == 0) return PTK_OK;
  const Cublas* c = cublas();
  return ptk::fail(PTK_ERR_CUDA, "%s: %s (cuBLAS status %d)", what,
                   c && c->status_string ? c->status_string(status) : "cuBLAS error", status);
}
#endif

}  // namespace

extern "C" {

ptk_status ptk_gemm_create(void* stream, void* workspace, size_t workspace_bytes, ptk_gemm** gemm) {
  return ptk::no_throw([&]() -> ptk_status {
    PTK_REQUIRE_NOT_NULL(gemm);
    *gemm = nullptr;
    PTK_REQUIRE((workspace == nullptr) == (workspace_bytes == 0), "workspace and workspace_bytes must be given together");
#if defined(PTK_SIM)
    *gemm = new ptk_gemm{stream, nullptr};
    return ptk::ok();
#elif defined(PTK_WITH_CUDA)
    const Cublas* c = cublas();
    if (c == nullptr)
      return ptk::fail(PTK_ERR_UNSUPPORTED, "cuBLAS (libcublas.so.13) could not be loaded: %s", dlerror());
    void* handle = nullptr;
    ptk_status s = cublas_status(c->create(&handle), "cublasCreate");
    if (s != PTK_OK) return s;
    if ((s = cublas_status(c->set_stream(handle, static_cast<cudaStream_t>(stream)), "cublasSetStream")) != PTK_OK ||
        (workspace != nullptr &&  // after SetStream, which resets it
         (s = cublas_status(c->set_workspace(handle, workspace, workspace_bytes), "cublasSetWorkspace")) != PTK_OK)) {
      c->destroy(handle);
      return s;
    }
    *gemm = new ptk_gemm{stream, handle};
    return ptk::ok();
#else
    (void)stream;
    return ptk::fail(PTK_ERR_NO_CUDA, "ptk_gemm_create: this ptk library was built without CUDA");
#endif
  });
}

ptk_status ptk_gemm_bf16(ptk_gemm* gemm, const void* x, const void* w, float* y, int m, int n, int k) {
  PTK_REQUIRE_NOT_NULL(gemm);
  PTK_REQUIRE_DEVICE_PTR(x);
  PTK_REQUIRE_DEVICE_PTR(w);
  PTK_REQUIRE_DEVICE_PTR(y);
  PTK_REQUIRE(m > 0 && n > 0 && k > 0, "m, n and k must be positive (got %d, %d, %d)", m, n, k);
#if defined(PTK_SIM)
  return ptk::cuda_status(ptk_sim_gemm_bf16(static_cast<cudaStream_t>(gemm->stream), x, w, y, m, n, k), "ptk_gemm_bf16");
#elif defined(PTK_WITH_CUDA)
  // Row-major y[m, n] = x[m, k] w[n, k]^T is, in cuBLAS's column-major terms, y^T (n x m) = w^T' x^T
  // with w read as the k x n matrix it is in memory, transposed.
  const float one = 1.0f, zero = 0.0f;
  return cublas_status(cublas()->gemm_ex(gemm->handle, kOpT, kOpN, n, m, k, &one, w, CUDA_R_16BF, k, x, CUDA_R_16BF, k,
                                         &zero, y, CUDA_R_32F, n, kCompute32F, kGemmDefault),
                       "cublasGemmEx");
#else
  return ptk::fail(PTK_ERR_NO_CUDA, "ptk_gemm_bf16: this ptk library was built without CUDA");
#endif
}

void ptk_gemm_destroy(ptk_gemm* gemm) {
  if (gemm == nullptr) return;
#if defined(PTK_WITH_CUDA) && !defined(PTK_SIM)
  if (gemm->handle != nullptr) cublas()->destroy(gemm->handle);
#endif
  delete gemm;
}

}  // extern "C"
