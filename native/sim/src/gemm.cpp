#include "ptk_sim/gemm.h"

#include <cstring>
#include <string>
#include <vector>

#include "simt.h"

namespace {

float bf16(uint16_t b) {
  const uint32_t u = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

std::string gemm(const uint16_t* x, const uint16_t* w, float* y, int m, int n, int k) {
  if (!ptk_sim::is_device_range(x, size_t(m) * k * 2) || !ptk_sim::is_device_range(w, size_t(n) * k * 2) ||
      !ptk_sim::is_device_range(y, size_t(m) * n * 4))
    return "ptk_gemm_bf16: an operand is not inside one device allocation";
  std::vector<float> xf(size_t(m) * k);
  std::vector<float> wf(static_cast<size_t>(k));
  for (size_t i = 0; i < xf.size(); ++i) xf[i] = bf16(x[i]);
  for (int j = 0; j < n; ++j) {
    for (int c = 0; c < k; ++c) wf[size_t(c)] = bf16(w[size_t(j) * k + c]);
    for (int i = 0; i < m; ++i) {
      const float* xr = xf.data() + size_t(i) * k;
      float part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      int c = 0;
      for (; c + 8 <= k; c += 8)
        for (int l = 0; l < 8; ++l) part[l] += xr[c + l] * wf[size_t(c + l)];
      for (; c < k; ++c) part[0] += xr[c] * wf[size_t(c)];
      y[size_t(i) * n + j] = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
    }
  }
  return "";
}

}  // namespace

cudaError_t ptk_sim_gemm_bf16(cudaStream_t stream, const void* x, const void* w, float* y, int m, int n, int k) {
  const auto* xb = static_cast<const uint16_t*>(x);
  const auto* wb = static_cast<const uint16_t*>(w);
  return ptk_sim::enqueue_host(stream, "ptk_gemm_bf16", [xb, wb, y, m, n, k] { return gemm(xb, wb, y, m, n, k); });
}
