// The shared device math (kernels/ptk/*.h), run on the host against double-precision formulas.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <random>
#include <vector>

#include "check.h"
#include "ptk/common.h"
#include "ptk/page_table.h"
#include "ptk/rope_freq.h"
#include "ptk/sampling_math.h"
#include "ptk/softmax.h"

namespace {

bool close(double a, double b, double tol) { return std::fabs(a - b) <= tol * std::max(1.0, std::fabs(b)); }

void bf16_conversion() {
  CHECK(ptk::float_to_bf16(1.0f) == 0x3F80);
  CHECK(ptk::bf16_to_float(0x3F80) == 1.0f);
  CHECK(ptk::float_to_bf16(-2.0f) == 0xC000);
  CHECK(ptk::float_to_bf16(NAN) == 0x7FC0);
  CHECK(ptk::float_to_bf16(INFINITY) == 0x7F80);
  CHECK(std::isinf(ptk::bf16_to_float(0xFF80)) && ptk::bf16_to_float(0xFF80) < 0);
  // Ties go to even: 1 + 2^-8 lies halfway between 1 and 1 + 2^-7.
  CHECK(ptk::float_to_bf16(1.0f + 1.0f / 256) == 0x3F80);
  CHECK(ptk::float_to_bf16(1.0f + 3.0f / 256) == 0x3F82);
  // Every bf16 value survives a round trip; random floats round to the nearest bf16.
  for (uint32_t b = 0; b < 0x10000; ++b) {
    float f = ptk::bf16_to_float(uint16_t(b));
    if (!std::isnan(f)) CHECK(ptk::float_to_bf16(f) == b);
  }
  std::mt19937 rng(7);
  std::normal_distribution<float> n(0.f, 10.f);
  for (int i = 0; i < 10000; ++i) {
    float x = n(rng);
    float r = ptk::bf16_to_float(ptk::float_to_bf16(x));
    CHECK(std::fabs(r - x) <= std::fabs(x) * (1.0f / 256));  // half an ulp of 8 mantissa bits
  }
}

void softmax_states() {
  // Two halves of a key set merged = the whole set.
  std::mt19937 rng(11);
  std::normal_distribution<double> n(0.0, 4.0);
  for (int trial = 0; trial < 100; ++trial) {
    double s[12], v[12];
    for (int j = 0; j < 12; ++j) s[j] = n(rng), v[j] = n(rng);
    auto state = [&](int a, int b, double* o, double* lse) {
      double m = -INFINITY, d = 0, acc = 0;
      for (int j = a; j < b; ++j) m = std::max(m, s[j]);
      for (int j = a; j < b; ++j) d += std::exp(s[j] - m), acc += std::exp(s[j] - m) * v[j];
      *lse = b > a ? m + std::log(d) : -INFINITY;
      *o = b > a ? acc / d : 0.0;
    };
    double oa, la, ob, lb, ow, lw;
    int cut = trial % 13;
    state(0, cut, &oa, &la);
    state(cut, 12, &ob, &lb);
    state(0, 12, &ow, &lw);
    ptk::MergeWeights w = ptk::merge_weights(float(la), float(lb));
    CHECK(close(w.lse, lw, 1e-6));
    CHECK(close(w.w_a * oa + w.w_b * ob, ow, 1e-5));
  }
  ptk::MergeWeights empty = ptk::merge_weights(-INFINITY, -INFINITY);
  CHECK(empty.w_a == 0.f && empty.w_b == 0.f && empty.lse == -INFINITY);
  ptk::MergeWeights one = ptk::merge_weights(-INFINITY, 3.f);
  CHECK(one.w_a == 0.f && one.w_b == 1.f && one.lse == 3.f);
  ptk::MergeWeights far = ptk::merge_weights(80.f, -70.f);  // no overflow at large magnitudes
  CHECK(far.w_a == 1.f && far.w_b == 0.f && close(far.lse, 80.0, 1e-7));

  // Base-2 running state -> natural lse.
  CHECK(ptk::softmax_lse(ptk::softmax_empty()) == -INFINITY);
  CHECK(close(ptk::softmax_lse(ptk::SoftmaxState{3.f, 4.f}), (3.0 + 2.0) * std::log(2.0), 1e-6));
  CHECK(ptk::softmax_rescale(-INFINITY, -INFINITY) == 0.f);
  CHECK(ptk::softmax_rescale(-INFINITY, 1.f) == 0.f);
  CHECK(ptk::softmax_rescale(2.f, 3.f) == 0.5f);
}

void page_tables() {
  CHECK(ptk::csr_length(0, 0, 16) == 0);
  CHECK(ptk::csr_length(1, 5, 16) == 5);
  CHECK(ptk::csr_length(3, 16, 16) == 48);
  const int32_t pages[] = {7, 2, 9};
  CHECK(ptk::span_slot(pages, 16, 0) == 7 * 16);
  CHECK(ptk::span_slot(pages, 16, 17) == 2 * 16 + 1);
  CHECK(ptk::span_slot(pages, 16, 47) == 9 * 16 + 15);
  CHECK(ptk::cache_offset(35, 1, 2, 128) == (35 * 2 + 1) * 128);
}

void rope_frequencies() {
  const ptk::RopeParams plain{10000.0, 1.0, 9280.0, 32.0, 1.0};
  for (int i = 0; i < 64; ++i) CHECK(close(ptk::rope_inv_freq(i, 128, plain), std::pow(10000.0, -2.0 * i / 128), 1e-15));
  CHECK(ptk::rope_mscale(plain) == 1.0);

  // ParaThinker's YaRN: D 128, theta 1e4, f 2, L0 9280, beta 32/1 -> ramp from 26 to 51.
  const ptk::RopeParams yarn{10000.0, 2.0, 9280.0, 32.0, 1.0};
  ptk::YarnRange r = ptk::yarn_range(128, yarn);
  CHECK(r.low == 26.0);
  CHECK(r.high == 51.0);
  CHECK(close(ptk::rope_mscale(yarn), 0.1 * std::log(2.0) + 1.0, 1e-15));
  for (int i = 0; i < 64; ++i) {
    double w = std::pow(10000.0, -2.0 * i / 128);
    double ramp = std::min(1.0, std::max(0.0, (i - 26.0) / 25.0));
    CHECK(close(ptk::rope_inv_freq(i, 128, yarn), (w / 2.0) * ramp + w * (1.0 - ramp), 1e-15));
  }
  CHECK(ptk::rope_inv_freq(10, 128, yarn) == std::pow(10000.0, -20.0 / 128));       // below the ramp: unchanged
  CHECK(close(ptk::rope_inv_freq(60, 128, yarn), std::pow(10000.0, -120.0 / 128) / 2, 1e-15));  // above: / f
}

// The radix select's pieces: float_key orders as the floats do (-0 below +0), the 4 digits of
// 8 bits rebuild a key, and a select that walks them over histograms finds the k-th largest key
// that a sort finds, ties included; the fixed-point masses round down and give NaN nothing.
void radix_select_pieces() {
  const float ordered[] = {-INFINITY, -3e38f, -1.0f, -1e-45f, -0.0f, 0.0f, 1e-45f, 1.0f, 3e38f, INFINITY};
  for (size_t i = 1; i < sizeof ordered / sizeof ordered[0]; ++i)
    CHECK(ptk::float_key(ordered[i - 1]) < ptk::float_key(ordered[i]));
  std::mt19937 rng(8);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<uint32_t> keys(1 + trial * 7);
    for (uint32_t& k : keys) k = ptk::float_key(std::round(normal(rng) * 8) / 8);  // ties
    const int k = 1 + int(rng() % keys.size());
    uint32_t prefix = 0;
    uint64_t rank = keys.size() - size_t(k);  // the smallest key with more than vocab - k at or below it
    for (int level = 0; level < ptk::kSampleRadixLevels; ++level) {
      uint64_t bins[ptk::kSampleRadixBins] = {};
      for (uint32_t key : keys)
        if (ptk::radix_in_prefix(key, prefix, level)) ++bins[ptk::radix_digit(key, level)];
      int d = 0;
      for (; rank >= bins[d]; ++d) rank -= bins[d];
      prefix |= uint32_t(d) << ptk::radix_shift(level);
    }
    std::vector<uint32_t> sorted = keys;
    std::nth_element(sorted.begin(), sorted.begin() + (k - 1), sorted.end(), std::greater<uint32_t>());
    CHECK(prefix == sorted[size_t(k - 1)]);
  }
  CHECK(ptk::mass_fixed(1.0f) == 1ull << 39 && ptk::mass_fixed(0x1p-39f) == 1 && ptk::mass_fixed(0x1p-40f) == 0);
  CHECK(ptk::mass_fixed(0.75f + 0x1p-24f) == (3ull << 37) + (1ull << 15));
  CHECK(ptk::mass_fixed(NAN) == 0 && ptk::mass_fixed(-0.0f) == 0 && ptk::mass_fixed(0.0f) == 0);
  CHECK(uint64_t(ptk::kSampleMaxVocab) * ptk::mass_fixed(1.0f) == 1ull << 63);  // the largest sum, no wrap
  CHECK(ptk::top_p_removable(0.75f, 1000) == 250 && ptk::top_p_removable(0.9f, 7) == 0);
  CHECK(ptk::top_p_cut(5, 9) == 5 && ptk::top_p_cut(9, 9) == 8 && ptk::top_p_cut(0xFFFFFFFFu, 9) == 8);
}

}  // namespace

int main() {
  bf16_conversion();
  softmax_states();
  page_tables();
  rope_frequencies();
  radix_select_pieces();
  return ptk_test_result("test_math");
}
