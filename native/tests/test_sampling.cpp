// ptk_sample on the GPU against data/sampling_cases.json: rows of logits (ties common) with the
// token the sampling rule draws for each, computed by numpy from the rule's definition
// (data/make_sampling_cases.py). The Java Sampler is held to the same cases, so a seed draws the
// same tokens on both backends given the same logits. Those rows are 64 logits, one block each;
// rows of the real vocabulary, which ptk_sample spreads over up to 64 blocks, are held to the rule
// computed here on the host (greedy, temperature, top-k, top-p; ties at the top placed in different
// blocks, ties at the thresholds, NaN and -inf), and drawn in a batch and alone (other splits) to
// the same tokens. Without a device it
// skips (77).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "check.h"
#include "json.h"
#include "ptk/decoder.h"
#include "ptk/sampling_math.h"
#include "ptk/ptk.h"
#include "ptk/runtime.h"

namespace {

// Draws rows of logits [n, vocab] with ptk_sample; keys are [path ids | steps].
std::vector<int32_t> draw_on_device(const std::vector<float>& logits, const std::vector<int32_t>& keys, int n,
                                    int vocab, const ptk_sampling_params& params) {
  std::vector<int32_t> tokens(size_t(n), -1);
  void *d_logits = nullptr, *d_keys = nullptr, *d_tokens = nullptr, *d_work = nullptr;
  const size_t work_bytes = ptk_sample_workspace_bytes(n);
  CHECK_STATUS(ptk_malloc(&d_work, work_bytes), PTK_OK);
  CHECK_STATUS(ptk_malloc(&d_logits, logits.size() * sizeof(float)), PTK_OK);
  CHECK_STATUS(ptk_malloc(&d_keys, keys.size() * sizeof(int32_t)), PTK_OK);
  CHECK_STATUS(ptk_malloc(&d_tokens, tokens.size() * sizeof(int32_t)), PTK_OK);
  CHECK_STATUS(ptk_copy_to_device(d_logits, logits.data(), logits.size() * sizeof(float), nullptr), PTK_OK);
  CHECK_STATUS(ptk_copy_to_device(d_keys, keys.data(), keys.size() * sizeof(int32_t), nullptr), PTK_OK);
  const int32_t* paths = static_cast<const int32_t*>(d_keys);
  CHECK_STATUS(ptk_sample(static_cast<const float*>(d_logits), n, vocab, &params, paths, paths + n,
                          static_cast<int32_t*>(d_tokens), d_work, work_bytes, nullptr),
               PTK_OK);
  CHECK_STATUS(ptk_copy_to_host(tokens.data(), d_tokens, tokens.size() * sizeof(int32_t), nullptr), PTK_OK);
  CHECK_STATUS(ptk_stream_synchronize(nullptr), PTK_OK);
  ptk_free(d_logits);
  ptk_free(d_keys);
  ptk_free(d_tokens);
  ptk_free(d_work);
  return tokens;
}

// Draws every row of one case with ptk_sample; returns the tokens.
std::vector<int32_t> sample_on_device(const Json& c, int vocab) {
  const std::vector<Json>& rows = c["rows"].array;
  const int n = int(rows.size());
  std::vector<float> logits;
  std::vector<int32_t> keys(2 * size_t(n));
  for (int r = 0; r < n; ++r) {
    for (const Json& x : rows[size_t(r)]["logits"].array) logits.push_back(float(x.num()));
    keys[size_t(r)] = int32_t(rows[size_t(r)]["path"].num());
    keys[size_t(n + r)] = int32_t(rows[size_t(r)]["step"].num());
  }
  CHECK(logits.size() == size_t(n) * size_t(vocab));
  const ptk_sampling_params params = {float(c["temperature"].num()), int(c["top_k"].num()), float(c["top_p"].num()),
                                      uint64_t(int64_t(c["seed"].num()))};
  return draw_on_device(logits, keys, n, vocab, params);
}

// What top-k and top-p keep of a row by the rule, on the host: logits ordered by float_key (NaN
// too), top-k keeps the keys >= the k-th largest, top-p removes whole groups of equal keys from the
// smallest while their mass exp(s (z - zmax)) (a NaN weighs nothing) stays <= (1 - top_p) of the
// total, never the largest. The masses are summed in double here and in fixed point on the device:
// false when a group's sum lies within 1e-5 of the total from the limit, where the two may part.
bool kept_on_host(const float* z, int vocab, const ptk_sampling_params& params, float zmax,
                  std::vector<char>* kept) {
  std::vector<uint32_t> keys(static_cast<size_t>(vocab));
  for (int i = 0; i < vocab; ++i) keys[size_t(i)] = ptk::float_key(z[i]);
  uint32_t lo = 0;
  if (ptk::top_k_on(params.top_k, vocab)) {
    std::vector<uint32_t> sorted = keys;
    std::nth_element(sorted.begin(), sorted.begin() + (params.top_k - 1), sorted.end(), std::greater<uint32_t>());
    lo = sorted[size_t(params.top_k - 1)];
  }
  kept->assign(size_t(vocab), 0);
  for (int i = 0; i < vocab; ++i) (*kept)[size_t(i)] = keys[size_t(i)] >= lo;
  if (!ptk::top_p_on(params.top_p)) return true;
  const float s = 1.0f / params.temperature;
  std::vector<std::pair<uint32_t, double>> by_key;  // (key, weight) of the kept ids, ascending
  double total = 0.0;
  for (int i = 0; i < vocab; ++i) {
    if (!(*kept)[size_t(i)]) continue;
    const double e = std::exp(double(s * (z[i] - zmax)));
    const double w = std::isnan(e) ? 0.0 : e;  // a NaN logit, or the NaN of +inf - +inf
    by_key.emplace_back(keys[size_t(i)], w);
    total += w;
  }
  std::sort(by_key.begin(), by_key.end());
  const double limit = double(1.0f - params.top_p) * total;
  const uint32_t top = ptk::float_key(zmax);
  double removed = 0.0;
  bool cut = false;
  uint32_t through = 0;  // with `cut`: the keys <= through are removed
  for (size_t j = 0; j < by_key.size() && by_key[j].first < top;) {
    const uint32_t key = by_key[j].first;
    double group = 0.0;
    for (; j < by_key.size() && by_key[j].first == key; ++j) group += by_key[j].second;
    if (std::fabs(removed + group - limit) < 1e-5 * total) return false;
    if (removed + group > limit) break;
    removed += group;
    cut = true;
    through = key;
  }
  for (int i = 0; i < vocab; ++i)
    if (cut && keys[size_t(i)] <= through) (*kept)[size_t(i)] = 0;
  return true;
}

// The rule on the host for rows of any width: the largest logit (the lowest id on ties), or argmax
// over what kept_on_host keeps of s (z - zmax) - ln q (a NaN score never wins), with the products
// and roundings the device makes (s = 1/T in f32, s (z - zmax) rounded on its own, ln q in double
// then f32). -1 when top-p's cut is too close to call, or the best two draws lie within 1e-6 (a
// GPU's double log may differ from libm's in the last bit).
int32_t draw_on_host(const float* z, int vocab, const ptk_sampling_params& params, int path, int step) {
  int best = 0;
  for (int i = 1; i < vocab; ++i)
    if (z[i] > z[best]) best = i;
  if (params.temperature == 0.0f) return best;
  const float zmax = z[best], s = 1.0f / params.temperature;
  std::vector<char> kept;
  if (!kept_on_host(z, vocab, params, zmax, &kept)) return -1;
  int drawn = -1;
  float top = -INFINITY, second = -INFINITY;
  for (int i = 0; i < vocab; ++i) {
    if (!kept[size_t(i)]) continue;
    const volatile float scaled = s * (z[i] - zmax);  // rounded on its own, never fused with the next line
    const double q = ptk::exponential(params.seed, uint32_t(path), uint32_t(step), uint32_t(i));
    const float score = scaled - float(std::log(q));
    if (std::isnan(score)) continue;
    if (drawn < 0 || score > top) {
      second = top;
      top = score;
      drawn = i;
    } else if (score > second) {
      second = score;
    }
  }
  if (drawn < 0) return best;  // nothing drawable: the device falls back to the argmax
  return top - second < 1e-6f ? -1 : drawn;
}

// A row of the real vocabulary and 40 shorter rows on the device against the host.
void wide_rows() {
  std::mt19937 rng(20261204);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  // Top-k of few and of most; top-p alone, after top-k, and cutting most of the mass.
  const ptk_sampling_params settings[] = {{0.0f, 0, 1.0f, 0},      {0.5f, 0, 1.0f, 99},
                                          {1.0f, 50, 1.0f, 0xFFFFFFFFFFFFFFF9ull}, {0.8f, 20000, 1.0f, 9},
                                          {1.0f, 0, 0.9f, 5},     {0.7f, 2000, 0.8f, 6},
                                          {1.5f, 0, 0.3f, 7}};
  const int shapes[][2] = {{151936, 2}, {20011, 40}};  // vocab, rows: 64 and 7 blocks a row
  int compared = 0, close = 0;
  for (const auto& shape : shapes) {
    const int vocab = shape[0], n = shape[1];
    std::vector<float> logits(size_t(vocab) * n);
    std::vector<int32_t> keys(2 * size_t(n));
    for (int r = 0; r < n; ++r) {
      float* z = logits.data() + size_t(r) * vocab;
      for (int i = 0; i < vocab; ++i) z[i] = std::round(normal(rng) * 64) / 64;  // ties below the top too
      const float top = *std::max_element(z, z + vocab) + 1.0f;
      if (r % 5 == 4) {  // NaN and -inf among the logits (never the first, the host's argmax start)
        for (int i = 1 + r; i < vocab; i += 4999) z[i] = NAN;  // fewer than top-k's 50, which they top
        for (int i = 2 + r; i < vocab; i += 773) z[i] = -INFINITY;
      }
      if (r % 5 == 3) z[3 + r] = INFINITY;  // top-p finds no mass: all but the +inf go
      if (r % 2 == 0) {
        for (int i : {vocab - 5, vocab / 2 + 3, vocab / 3}) z[i] = top;  // the lowest of them wins, in another block
      } else {  // the top alone, at the last logit of a block: block (r / 2) % splits
        const int splits = ptk::sample_splits(n, vocab), per = (vocab + splits - 1) / splits;
        z[std::min(vocab, ((r / 2) % splits + 1) * per) - 1] = top;
      }
      keys[size_t(r)] = r % 9;
      keys[size_t(n + r)] = 1000 + 17 * r;
    }
    for (const ptk_sampling_params& params : settings) {
      const std::vector<int32_t> got = draw_on_device(logits, keys, n, vocab, params);
      for (int r = 0; r < n; ++r) {
        const int32_t want = draw_on_host(logits.data() + size_t(r) * vocab, vocab, params, keys[size_t(r)],
                                          keys[size_t(n + r)]);
        if (want < 0) {
          ++close;
          continue;
        }
        ++compared;
        if (got[size_t(r)] == want) continue;
        std::fprintf(stderr, "vocab %d, %d rows, T %g top_k %d top_p %g: row %d drew %d, the rule draws %d\n", vocab,
                     n, double(params.temperature), params.top_k, double(params.top_p), r, got[size_t(r)], want);
        ++ptk_test_failures();
      }
    }
  }
  std::printf("ptk_sample: %d rows of 20011 and 151936 logits compared with the rule on the host (%d too close)\n",
              compared, close);
  CHECK(compared >= 250);
}

// The same rows drawn in a batch of 8 (33 blocks a row) and alone (40 blocks): the same tokens,
// with top-p and top-k on, NaN and -inf among the logits, a row all -inf and a row all NaN.
void split_invariance() {
  const int vocab = 40001, n = 8;
  std::mt19937 rng(4);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  std::vector<float> logits(size_t(vocab) * n);
  std::vector<int32_t> keys(2 * size_t(n));
  for (int r = 0; r < n; ++r) {
    float* z = logits.data() + size_t(r) * vocab;
    for (int i = 0; i < vocab; ++i) z[i] = std::round(normal(rng) * 16) / 16;
    for (int i = r; i < vocab; i += 997) z[i] = r % 2 ? -INFINITY : NAN;
    keys[size_t(r)] = r;
    keys[size_t(n + r)] = 7 * r;
  }
  std::fill(logits.begin() + 2 * size_t(vocab), logits.begin() + 3 * size_t(vocab), -INFINITY);
  std::fill(logits.begin() + 3 * size_t(vocab), logits.begin() + 4 * size_t(vocab), NAN);
  CHECK(ptk::sample_splits(n, vocab) == 33 && ptk::sample_splits(1, vocab) == 40);
  // Top-k and top-p on (the slowest draw on the sim); greedy and temperature alone are held to the
  // host at 64 and 7 blocks a row by wide_rows.
  const ptk_sampling_params settings[] = {{0.7f, 20, 0.95f, 6}};
  for (const ptk_sampling_params& params : settings) {
    const std::vector<int32_t> batch = draw_on_device(logits, keys, n, vocab, params);
    for (int r = 0; r < 4; ++r) {
      const std::vector<float> row(logits.begin() + size_t(r) * vocab, logits.begin() + size_t(r + 1) * vocab);
      const std::vector<int32_t> key{keys[size_t(r)], keys[size_t(n + r)]};
      const int32_t alone = draw_on_device(row, key, 1, vocab, params)[0];
      if (alone == batch[size_t(r)]) continue;
      std::fprintf(stderr, "T %g top_k %d top_p %g: row %d drew %d in a batch, %d alone\n", double(params.temperature),
                   params.top_k, double(params.top_p), r, batch[size_t(r)], alone);
      ++ptk_test_failures();
    }
  }
}

}  // namespace

int main() {
  const std::string file = std::string(PTK_TEST_DATA) + "/sampling_cases.json";
  std::ifstream in(file);
  if (!in) {
    std::fprintf(stderr, "no %s\n", file.c_str());
    return 1;
  }
  std::stringstream text;
  text << in.rdbuf();
  const Json all = Json::parse(text.str());
  const int vocab = int(all["vocab"].num());
  const std::vector<Json>& cases = all["cases"].array;
  CHECK(!cases.empty());

  if (!ptk_test_has_device()) {
    if (ptk_test_failures()) return ptk_test_result("test_sampling");
    std::printf("no CUDA device: ptk_sample was NOT run on the %zu sampling cases (skipped)\n", cases.size());
    return 77;
  }
  int rows = 0, wrong = 0;
  for (const Json& c : cases) {
    const std::vector<int32_t> got = sample_on_device(c, vocab);
    for (size_t r = 0; r < got.size(); ++r, ++rows) {
      const int want = int(c["rows"].array[r]["token"].num());
      if (got[r] == want) continue;
      ++wrong;
      std::fprintf(stderr, "T %g top_k %g top_p %g seed %g, row %zu: drew %d, the rule draws %d\n",
                   c["temperature"].num(), c["top_k"].num(), c["top_p"].num(), c["seed"].num(), r, got[r], want);
    }
  }
  std::printf("ptk_sample: %d of %d rows as the rule draws them\n", rows - wrong, rows);
  CHECK(wrong == 0);
  wide_rows();
  split_invariance();
  return ptk_test_result("test_sampling");
}
