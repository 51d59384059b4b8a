// Every kernel operation of the C ABI rejects each kind of bad argument on the host, before any
// launch, with PTK_ERR_INVALID_ARGUMENT and a message naming the argument; valid arguments pass
// validation (and then run, or report that there is no CUDA / no device).
#include <cmath>
#include <cstring>
#include <vector>

#include "check.h"
#include "ptk/ptk.h"
#include "ptk/runtime.h"


// Valid: OK with a GPU; without one, the status says why nothing ran (never an argument error).
#define EXPECT_VALID(expr)                                                                   \
  do {                                                                                       \
    ptk_status s_ = (expr);                                                                  \
    if (s_ != PTK_OK && s_ != PTK_ERR_NO_CUDA && s_ != PTK_ERR_NO_DEVICE && s_ != PTK_ERR_CUDA) { \
      std::fprintf(stderr, "%s:%d: %s returned %d: %s\n", __FILE__, __LINE__, #expr, (int)s_,  \
                   ptk_last_error());                                                        \
      ++ptk_test_failures();                                                                 \
    }                                                                                        \
  } while (0)

namespace {

const ptk_kv_layout kLayout = {12, 2, 128, 16, 20};
const ptk_plan_limits kLimits = {64, 8, 32, 0, 0};
// Stands in for every device pointer. Validation never dereferences it, but a valid call launches
// its kernel where there is a device (a GPU or the sim), so there it is zeroed device memory large
// enough for every valid call below.
constexpr size_t kDeviceBytes = size_t(4) << 20;
alignas(16) char host_stand_in[64];
char* dev = host_stand_in;
void* D = dev;

void layouts() {
  ptk_attention_plan* plan = nullptr;
  EXPECT_INVALID(ptk_attention_plan_create(nullptr, &kLimits, &plan), "layout");
  EXPECT_INVALID(ptk_attention_plan_create(&kLayout, &kLimits, nullptr), "plan");
  EXPECT_INVALID(ptk_attention_plan_create(&kLayout, nullptr, &plan), "limits");
  ptk_kv_layout l = kLayout;
  l.num_kv_heads = 0;
  EXPECT_INVALID(ptk_attention_plan_create(&l, &kLimits, &plan), "num_kv_heads");
  l = kLayout;
  l.num_qo_heads = 13;
  EXPECT_INVALID(ptk_attention_plan_create(&l, &kLimits, &plan), "num_qo_heads");
  l = kLayout;
  l.num_qo_heads = 18;  // group 9 > 8
  EXPECT_INVALID(ptk_attention_plan_create(&l, &kLimits, &plan), "num_qo_heads");
  l = kLayout;
  l.page_size = 0;
  EXPECT_INVALID(ptk_attention_plan_create(&l, &kLimits, &plan), "page_size");
  l = kLayout;
  l.num_pages = -1;
  EXPECT_INVALID(ptk_attention_plan_create(&l, &kLimits, &plan), "num_pages");
  l = kLayout;
  l.num_pages = 1 << 28;
  EXPECT_INVALID(ptk_attention_plan_create(&l, &kLimits, &plan), "num_pages");
  l = kLayout;
  l.head_dim = 96;
  CHECK_STATUS(ptk_attention_plan_create(&l, &kLimits, &plan), PTK_ERR_UNSUPPORTED);
  CHECK(std::strstr(ptk_last_error(), "head_dim") != nullptr);
  ptk_plan_limits lim = kLimits;
  lim.max_queries = 0;
  EXPECT_INVALID(ptk_attention_plan_create(&kLayout, &lim, &plan), "max_queries");
  lim = kLimits;
  lim.max_work_items = -1;
  EXPECT_INVALID(ptk_attention_plan_create(&kLayout, &lim, &plan), "max_work_items");
  CHECK(plan == nullptr);
}

void decode(ptk_attention_plan* plan) {
  const int32_t indptr[] = {0, 2, 3}, indices[] = {5, 19, 0}, last[] = {7, 16};
  EXPECT_VALID(ptk_attention_plan_decode(plan, 2, indptr, indices, last, nullptr));
  ptk_attention_plan_info info;
  CHECK_STATUS(ptk_attention_plan_info_get(plan, &info), PTK_OK);
  CHECK(info.num_queries == 2 && info.variant == PTK_ATTENTION_DECODE && info.num_work_items >= 2);

  EXPECT_INVALID(ptk_attention_plan_decode(nullptr, 2, indptr, indices, last, nullptr), "plan");
  EXPECT_INVALID(ptk_attention_plan_decode(plan, 9, indptr, indices, last, nullptr), "batch");
  EXPECT_INVALID(ptk_attention_plan_decode(plan, -1, indptr, indices, last, nullptr), "batch");
  EXPECT_INVALID(ptk_attention_plan_decode(plan, 2, nullptr, indices, last, nullptr), "indptr");
  EXPECT_INVALID(ptk_attention_plan_decode(plan, 2, indptr, nullptr, last, nullptr), "indices");
  EXPECT_INVALID(ptk_attention_plan_decode(plan, 2, indptr, indices, nullptr, nullptr), "last_page_len");
  const int32_t bad_start[] = {1, 2, 3};
  EXPECT_INVALID(ptk_attention_plan_decode(plan, 2, bad_start, indices, last, nullptr), "indptr[0]");
  const int32_t decreasing[] = {0, 2, 1};
  EXPECT_INVALID(ptk_attention_plan_decode(plan, 2, decreasing, indices, last, nullptr), "indptr");
  const int32_t too_many[] = {0, 2, 33};
  EXPECT_INVALID(ptk_attention_plan_decode(plan, 2, too_many, indices, last, nullptr), "max_pages");
  const int32_t past_pool[] = {5, 20, 0}, negative[] = {5, -1, 0};
  EXPECT_INVALID(ptk_attention_plan_decode(plan, 2, indptr, past_pool, last, nullptr), "indices[1]");
  EXPECT_INVALID(ptk_attention_plan_decode(plan, 2, indptr, negative, last, nullptr), "indices[1]");
  const int32_t zero_last[] = {0, 16}, long_last[] = {7, 17};
  EXPECT_INVALID(ptk_attention_plan_decode(plan, 2, indptr, indices, zero_last, nullptr), "last_page_len[0]");
  EXPECT_INVALID(ptk_attention_plan_decode(plan, 2, indptr, indices, long_last, nullptr), "last_page_len[1]");
  const int32_t empty_indptr[] = {0, 0, 1}, empty_last[] = {3, 4};
  EXPECT_INVALID(ptk_attention_plan_decode(plan, 2, empty_indptr, indices, empty_last, nullptr), "last_page_len[0]");
  // A failed plan call leaves the previous plan in place.
  CHECK_STATUS(ptk_attention_plan_info_get(plan, &info), PTK_OK);
  CHECK(info.num_queries == 2);
}

void prefill(ptk_attention_plan* plan) {
  const int32_t qo[] = {0, 2, 19, 20}, prefix[] = {1, 2}, indptr[] = {0, 1, 3, 4}, indices[] = {3, 4, 6, 7},
                last[] = {5, 1, 2};
  EXPECT_VALID(ptk_attention_plan_prefill(plan, 3, qo, prefix, 32, indptr, indices, last, nullptr));
  ptk_attention_plan_info info;
  CHECK_STATUS(ptk_attention_plan_info_get(plan, &info), PTK_OK);
  CHECK(info.num_queries == 20 && info.variant == PTK_ATTENTION_WIDE);
  EXPECT_VALID(ptk_attention_plan_prefill(plan, 3, qo, nullptr, 0, indptr, indices, last, nullptr));

  EXPECT_INVALID(ptk_attention_plan_prefill(plan, 3, nullptr, prefix, 32, indptr, indices, last, nullptr), "qo_indptr");
  const int32_t qo_down[] = {0, 2, 1, 3};
  EXPECT_INVALID(ptk_attention_plan_prefill(plan, 3, qo_down, prefix, 32, indptr, indices, last, nullptr), "qo_indptr");
  const int32_t qo_big[] = {0, 2, 19, 65};
  EXPECT_INVALID(ptk_attention_plan_prefill(plan, 3, qo_big, prefix, 32, indptr, indices, last, nullptr), "max_queries");
  EXPECT_INVALID(ptk_attention_plan_prefill(plan, 3, qo, prefix, -1, indptr, indices, last, nullptr), "prefix_len");
  EXPECT_INVALID(ptk_attention_plan_prefill(plan, 3, qo, nullptr, 32, indptr, indices, last, nullptr), "prefix_indices");
  const int32_t prefix_bad[] = {1, 20};
  EXPECT_INVALID(ptk_attention_plan_prefill(plan, 3, qo, prefix_bad, 32, indptr, indices, last, nullptr),
                 "prefix_indices[1]");
  const int32_t qo_over[] = {0, 6, 19, 20};  // request 0 has 5 tokens
  EXPECT_INVALID(ptk_attention_plan_prefill(plan, 3, qo_over, prefix, 32, indptr, indices, last, nullptr), "qo_indptr");
  EXPECT_INVALID(ptk_attention_plan_prefill(plan, 9, qo, prefix, 32, indptr, indices, last, nullptr), "batch");
  const int32_t bad_page[] = {3, 4, 6, 99};
  EXPECT_INVALID(ptk_attention_plan_prefill(plan, 3, qo, prefix, 32, indptr, bad_page, last, nullptr), "indices[3]");
}

void summary(ptk_attention_plan* plan) {
  const int32_t seg[] = {0, 2, 3, 4}, indices[] = {0, 1, 2, 3}, last[] = {16, 5, 3};
  EXPECT_VALID(ptk_attention_plan_summary(plan, 3, seg, indices, last, 1, nullptr));
  ptk_attention_plan_info info;
  CHECK_STATUS(ptk_attention_plan_info_get(plan, &info), PTK_OK);
  CHECK(info.num_queries == 1 && info.variant == PTK_ATTENTION_DECODE);
  EXPECT_VALID(ptk_attention_plan_summary(plan, 3, seg, indices, last, 3, nullptr));
  EXPECT_INVALID(ptk_attention_plan_summary(plan, 0, seg, indices, last, 1, nullptr), "num_segments");
  EXPECT_INVALID(ptk_attention_plan_summary(plan, 3, seg, indices, last, 4, nullptr), "num_queries");
  EXPECT_INVALID(ptk_attention_plan_summary(plan, 3, nullptr, indices, last, 1, nullptr), "seg_indptr");
  const int32_t bad[] = {0, 1, 2, 23};
  EXPECT_INVALID(ptk_attention_plan_summary(plan, 3, seg, bad, last, 1, nullptr), "indices[3]");
  const int32_t bad_last[] = {16, 0, 3};
  EXPECT_INVALID(ptk_attention_plan_summary(plan, 3, seg, indices, bad_last, 1, nullptr), "last_page_len[1]");
}

// Segments: 0 a prompt (20 tokens), 1 and 2 its paths, 3 another request's prompt chunk, 4 the
// first request's summary. Groups: the chunk (5 queries), 2 paths, the summary (2 queries).
void ragged(ptk_attention_plan* plan) {
  const int32_t seg[] = {0, 2, 3, 4, 6, 7}, indices[] = {0, 1, 2, 3, 4, 5, 6}, last[] = {4, 3, 16, 5, 2};
  const int32_t qo[] = {0, 5, 6, 7, 9}, gi[] = {0, 1, 3, 5, 9}, gs[] = {3, 0, 1, 0, 2, 0, 1, 2, 4};
  EXPECT_VALID(ptk_attention_plan_ragged(plan, 0, qo, gi, nullptr, 0, seg, nullptr, nullptr, nullptr));
  EXPECT_VALID(ptk_attention_plan_ragged(plan, 4, qo, gi, gs, 5, seg, indices, last, nullptr));
  ptk_attention_plan_info info;
  CHECK_STATUS(ptk_attention_plan_info_get(plan, &info), PTK_OK);
  CHECK(info.num_queries == 9 && info.variant == PTK_ATTENTION_WIDE);
  const int32_t one_each[] = {0, 1, 2, 3, 4};
  EXPECT_VALID(ptk_attention_plan_ragged(plan, 4, one_each, gi, gs, 5, seg, indices, last, nullptr));
  CHECK_STATUS(ptk_attention_plan_info_get(plan, &info), PTK_OK);
  CHECK(info.num_queries == 4 && info.variant == PTK_ATTENTION_DECODE);

  EXPECT_INVALID(ptk_attention_plan_ragged(nullptr, 4, qo, gi, gs, 5, seg, indices, last, nullptr), "plan");
  EXPECT_INVALID(ptk_attention_plan_ragged(plan, 9, qo, gi, gs, 5, seg, indices, last, nullptr), "num_groups");
  EXPECT_INVALID(ptk_attention_plan_ragged(plan, -1, qo, gi, gs, 5, seg, indices, last, nullptr), "num_groups");
  EXPECT_INVALID(ptk_attention_plan_ragged(plan, 4, qo, gi, gs, 9, seg, indices, last, nullptr), "num_segments");
  EXPECT_INVALID(ptk_attention_plan_ragged(plan, 4, nullptr, gi, gs, 5, seg, indices, last, nullptr), "qo_indptr");
  const int32_t qo_down[] = {0, 5, 4, 7, 9};
  EXPECT_INVALID(ptk_attention_plan_ragged(plan, 4, qo_down, gi, gs, 5, seg, indices, last, nullptr), "qo_indptr");
  const int32_t qo_big[] = {0, 5, 6, 7, 65};
  EXPECT_INVALID(ptk_attention_plan_ragged(plan, 4, qo_big, gi, gs, 5, seg, indices, last, nullptr), "max_queries");
  const int32_t qo_over[] = {0, 5, 6, 7, 10};  // the summary's own segment holds 2 tokens
  EXPECT_INVALID(ptk_attention_plan_ragged(plan, 4, qo_over, gi, gs, 5, seg, indices, last, nullptr),
                 "group 3 has 3 queries (qo_indptr)");
  EXPECT_INVALID(ptk_attention_plan_ragged(plan, 4, qo, nullptr, gs, 5, seg, indices, last, nullptr), "group_indptr");
  const int32_t gi_start[] = {1, 1, 3, 5, 9};
  EXPECT_INVALID(ptk_attention_plan_ragged(plan, 4, qo, gi_start, gs, 5, seg, indices, last, nullptr), "group_indptr[0]");
  const int32_t gi_empty[] = {0, 1, 1, 5, 9};  // group 1 without its own segment
  EXPECT_INVALID(ptk_attention_plan_ragged(plan, 4, qo, gi_empty, gs, 5, seg, indices, last, nullptr), "group 1 needs");
  EXPECT_INVALID(ptk_attention_plan_ragged(plan, 4, qo, gi, nullptr, 5, seg, indices, last, nullptr), "group_segments");
  const int32_t gs_past[] = {3, 0, 1, 5, 2, 0, 1, 2, 4};
  EXPECT_INVALID(ptk_attention_plan_ragged(plan, 4, qo, gi, gs_past, 5, seg, indices, last, nullptr), "group_segments[3]");
  const int32_t gs_twice[] = {3, 0, 1, 0, 2, 0, 1, 1, 4};
  EXPECT_INVALID(ptk_attention_plan_ragged(plan, 4, qo, gi, gs_twice, 5, seg, indices, last, nullptr), "group_segments[7]");
  EXPECT_INVALID(ptk_attention_plan_ragged(plan, 4, qo, gi, gs, 5, nullptr, indices, last, nullptr), "seg_indptr");
  const int32_t bad[] = {0, 1, 2, 3, 4, 5, 20};
  EXPECT_INVALID(ptk_attention_plan_ragged(plan, 4, qo, gi, gs, 5, seg, bad, last, nullptr), "indices[6]");
  const int32_t bad_last[] = {4, 17, 16, 5, 2};
  EXPECT_INVALID(ptk_attention_plan_ragged(plan, 4, qo, gi, gs, 5, seg, indices, bad_last, nullptr), "last_page_len[1]");
}

void runs(ptk_attention_plan* plan) {
  float* lse = reinterpret_cast<float*>(dev);
  EXPECT_VALID(ptk_attention_run(plan, D, D, D, 0.f, D, PTK_DTYPE_BF16, lse, nullptr));
  EXPECT_INVALID(ptk_attention_run(nullptr, D, D, D, 0.f, D, PTK_DTYPE_BF16, lse, nullptr), "plan");
  EXPECT_INVALID(ptk_attention_run(plan, nullptr, D, D, 0.f, D, PTK_DTYPE_BF16, lse, nullptr), "q");
  EXPECT_INVALID(ptk_attention_run(plan, D, nullptr, D, 0.f, D, PTK_DTYPE_BF16, lse, nullptr), "k_cache");
  EXPECT_INVALID(ptk_attention_run(plan, D, D, nullptr, 0.f, D, PTK_DTYPE_BF16, lse, nullptr), "v_cache");
  EXPECT_INVALID(ptk_attention_run(plan, D, D, D, 0.f, nullptr, PTK_DTYPE_BF16, lse, nullptr), "o");
  EXPECT_INVALID(ptk_attention_run(plan, D, D, D, 0.f, D, PTK_DTYPE_BF16, nullptr, nullptr), "lse");
  EXPECT_INVALID(ptk_attention_run(plan, dev + 2, D, D, 0.f, D, PTK_DTYPE_BF16, lse, nullptr), "q must be 16-byte");
  EXPECT_INVALID(ptk_attention_run(plan, D, dev + 8, D, 0.f, D, PTK_DTYPE_BF16, lse, nullptr), "k_cache");
  EXPECT_INVALID(ptk_attention_run(plan, D, D, D, 0.f, dev + 4, PTK_DTYPE_F32, lse, nullptr), "o must");
  EXPECT_INVALID(ptk_attention_run(plan, D, D, D, 0.f, D, (ptk_dtype)7, lse, nullptr), "o_dtype");
  EXPECT_INVALID(ptk_attention_run(plan, D, D, D, -1.f, D, PTK_DTYPE_BF16, lse, nullptr), "sm_scale");
  EXPECT_INVALID(ptk_attention_run(plan, D, D, D, NAN, D, PTK_DTYPE_BF16, lse, nullptr), "sm_scale");

  const float* f = lse;
  EXPECT_VALID(ptk_merge_states(f, f, f, f, lse, lse, 3, 128, nullptr));
  EXPECT_INVALID(ptk_merge_states(nullptr, f, f, f, lse, lse, 3, 128, nullptr), "o_a");
  EXPECT_INVALID(ptk_merge_states(f, nullptr, f, f, lse, lse, 3, 128, nullptr), "lse_a");
  EXPECT_INVALID(ptk_merge_states(f, f, f, f, nullptr, lse, 3, 128, nullptr), "o");
  EXPECT_INVALID(ptk_merge_states(f, f, f, f, lse, lse, -1, 128, nullptr), "rows");
  EXPECT_INVALID(ptk_merge_states(f, f, f, f, lse, lse, 3, 6, nullptr), "head_dim");
  EXPECT_INVALID(ptk_merge_states(f + 1, f, f, f, lse, lse, 3, 128, nullptr), "o_a must be 16-byte");
}

void rope() {
  const ptk_rope_config yarn = {10000.0, 2.0, 9280, 32.0, 1.0};
  ptk_rope_plan* plan = nullptr;
  CHECK_STATUS(ptk_rope_plan_create(&kLayout, &yarn, 32, 8, &plan), PTK_OK);
  ptk_rope_config c = yarn;
  ptk_rope_plan* other = nullptr;
  EXPECT_INVALID(ptk_rope_plan_create(&kLayout, nullptr, 32, 8, &other), "rope");
  c.theta = 0;
  EXPECT_INVALID(ptk_rope_plan_create(&kLayout, &c, 32, 8, &other), "theta");
  c = yarn;
  c.yarn_factor = 0.5;
  EXPECT_INVALID(ptk_rope_plan_create(&kLayout, &c, 32, 8, &other), "yarn_factor");
  c = yarn;
  c.beta_slow = 40;
  EXPECT_INVALID(ptk_rope_plan_create(&kLayout, &c, 32, 8, &other), "beta_fast");
  c = yarn;
  c.yarn_original_max = 0;
  EXPECT_INVALID(ptk_rope_plan_create(&kLayout, &c, 32, 8, &other), "yarn_original_max");
  EXPECT_INVALID(ptk_rope_plan_create(&kLayout, &yarn, 0, 8, &other), "max_segments");
  EXPECT_INVALID(ptk_rope_plan_create(&kLayout, &yarn, 32, 0, &other), "max_tokens");
  CHECK(other == nullptr);

  const int32_t pos[] = {0, 9279, 16000}, seg[] = {0, 8, 31}, slots[] = {-1, 0, 319};
  EXPECT_VALID(ptk_rope_plan_update(plan, 3, pos, seg, slots, nullptr));
  EXPECT_INVALID(ptk_rope_plan_update(nullptr, 3, pos, seg, slots, nullptr), "plan");
  EXPECT_INVALID(ptk_rope_plan_update(plan, 9, pos, seg, slots, nullptr), "num_tokens");
  EXPECT_INVALID(ptk_rope_plan_update(plan, 3, nullptr, seg, slots, nullptr), "positions");
  EXPECT_INVALID(ptk_rope_plan_update(plan, 3, pos, nullptr, slots, nullptr), "segment_ids");
  EXPECT_INVALID(ptk_rope_plan_update(plan, 3, pos, seg, nullptr, nullptr), "slot_mapping");
  const int32_t neg[] = {0, -5, 1}, seg_big[] = {0, 32, 1}, slot_big[] = {0, 320, 1}, slot_neg[] = {-2, 0, 1};
  EXPECT_INVALID(ptk_rope_plan_update(plan, 3, neg, seg, slots, nullptr), "positions[1]");
  EXPECT_INVALID(ptk_rope_plan_update(plan, 3, pos, seg_big, slots, nullptr), "segment_ids[1]");
  EXPECT_INVALID(ptk_rope_plan_update(plan, 3, pos, seg, slot_big, nullptr), "slot_mapping[1]");
  EXPECT_INVALID(ptk_rope_plan_update(plan, 3, pos, seg, slot_neg, nullptr), "slot_mapping[0]");

  EXPECT_VALID(ptk_rope_append(plan, D, nullptr, D, D, D, nullptr));
  EXPECT_INVALID(ptk_rope_append(nullptr, D, D, D, D, D, nullptr), "plan");
  EXPECT_INVALID(ptk_rope_append(plan, nullptr, D, D, D, D, nullptr), "qkv");
  EXPECT_INVALID(ptk_rope_append(plan, D, D, nullptr, D, D, nullptr), "q_out");
  EXPECT_INVALID(ptk_rope_append(plan, D, D, D, nullptr, D, nullptr), "k_cache");
  EXPECT_INVALID(ptk_rope_append(plan, D, D, D, D, nullptr, nullptr), "v_cache");
  EXPECT_INVALID(ptk_rope_append(plan, dev + 1, D, D, D, D, nullptr), "aligned");
  ptk_rope_plan_destroy(plan);
}

}  // namespace

int main() {
  void* device = nullptr;
  if (ptk_test_has_device()) {
    CHECK_STATUS(ptk_malloc(&device, kDeviceBytes), PTK_OK);
    CHECK_STATUS(ptk_memset_zero(device, kDeviceBytes, nullptr), PTK_OK);
    dev = static_cast<char*>(device);
    D = dev;
  }
  layouts();
  ptk_attention_plan* plan = nullptr;
  CHECK_STATUS(ptk_attention_plan_create(&kLayout, &kLimits, &plan), PTK_OK);
  ptk_attention_plan_info info;
  EXPECT_INVALID(ptk_attention_plan_info_get(plan, &info), "plan");  // nothing planned yet
  decode(plan);
  prefill(plan);
  summary(plan);
  ragged(plan);
  runs(plan);
  ptk_attention_plan_destroy(plan);
  ptk_attention_plan_destroy(nullptr);
  rope();
  if (device != nullptr) {
    CHECK_STATUS(ptk_stream_synchronize(nullptr), PTK_OK);  // every launch of a valid call completed
    CHECK_STATUS(ptk_free(device), PTK_OK);
  }
  return ptk_test_result("test_validation");
}
