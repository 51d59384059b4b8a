// ptk_sample on the GPU against data/sampling_cases.json: rows of logits (ties common) with the
// token the sampling rule draws for each, computed by numpy from the rule's definition
// (data/make_sampling_cases.py). The Java Sampler is held to the same cases, so a seed draws the
// same tokens on both backends given the same logits. Without a device it skips (77).
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "check.h"
#include "json.h"
#include "ptk/decoder.h"
#include "ptk/ptk.h"
#include "ptk/runtime.h"

namespace {

// Draws every row of one case with ptk_sample; returns the tokens.
std::vector<int32_t> sample_on_device(const Json& c, int vocab) {
  const std::vector<Json>& rows = c["rows"].array;
  const int n = int(rows.size());
  std::vector<float> logits;
  std::vector<int32_t> keys(2 * size_t(n)), tokens(size_t(n), -1);
  for (int r = 0; r < n; ++r) {
    for (const Json& x : rows[size_t(r)]["logits"].array) logits.push_back(float(x.num()));
    keys[size_t(r)] = int32_t(rows[size_t(r)]["path"].num());
    keys[size_t(n + r)] = int32_t(rows[size_t(r)]["step"].num());
  }
  CHECK(logits.size() == size_t(n) * size_t(vocab));
  const ptk_sampling_params params = {float(c["temperature"].num()), int(c["top_k"].num()), float(c["top_p"].num()),
                                      uint64_t(int64_t(c["seed"].num()))};
  void *d_logits = nullptr, *d_keys = nullptr, *d_tokens = nullptr;
  CHECK_STATUS(ptk_malloc(&d_logits, logits.size() * sizeof(float)), PTK_OK);
  CHECK_STATUS(ptk_malloc(&d_keys, keys.size() * sizeof(int32_t)), PTK_OK);
  CHECK_STATUS(ptk_malloc(&d_tokens, tokens.size() * sizeof(int32_t)), PTK_OK);
  CHECK_STATUS(ptk_copy_to_device(d_logits, logits.data(), logits.size() * sizeof(float), nullptr), PTK_OK);
  CHECK_STATUS(ptk_copy_to_device(d_keys, keys.data(), keys.size() * sizeof(int32_t), nullptr), PTK_OK);
  const int32_t* paths = static_cast<const int32_t*>(d_keys);
  CHECK_STATUS(ptk_sample(static_cast<const float*>(d_logits), n, vocab, &params, paths, paths + n,
                          static_cast<int32_t*>(d_tokens), nullptr),
               PTK_OK);
  CHECK_STATUS(ptk_copy_to_host(tokens.data(), d_tokens, tokens.size() * sizeof(int32_t), nullptr), PTK_OK);
  CHECK_STATUS(ptk_stream_synchronize(nullptr), PTK_OK);
  ptk_free(d_logits);
  ptk_free(d_keys);
  ptk_free(d_tokens);
  return tokens;
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
  return ptk_test_result("test_sampling");
}
