// The rope-append C ABI: a per-step plan of validated per-token arrays, run once per layer.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>
#include <vector>

#include "device_memory.h"
#include "ptk/rope.h"
#include "ptk/rope_freq.h"
#include "rope_plan.h"
#include "validate.h"
#ifdef PTK_WITH_CUDA
#include "ptk/launch.h"
#endif

namespace {
constexpr int kMaxRopeBlocks = 8192;
}

struct ptk_rope_plan {
  ptk_kv_layout layout;
  ptk::RopeParams rope;
  int max_segments;
  int max_tokens;
  int num_tokens = 0;
  bool updated = false;
  bool uploaded = false;
  ptk_status upload_status = PTK_OK;  // why the last upload failed
  ptk::StagedBuffer staged;  // count, positions, segment ids, slots
  size_t count_at, positions_at, segments_at, slots_at, device_bytes;
};

extern "C" {

ptk_status ptk_rope_plan_create(const ptk_kv_layout* layout, const ptk_rope_config* rope, int max_segments,
                                int max_tokens, ptk_rope_plan** plan) {
  return ptk::no_throw([&]() -> ptk_status {
    PTK_REQUIRE_NOT_NULL(plan);
    *plan = nullptr;
    ptk_status s = ptk::check_layout(layout);
    if (s != PTK_OK) return s;
    PTK_REQUIRE_NOT_NULL(rope);
    PTK_REQUIRE(std::isfinite(rope->theta) && rope->theta > 1.0, "rope->theta must be finite and > 1 (got %g)", rope->theta);
    PTK_REQUIRE(std::isfinite(rope->yarn_factor) && rope->yarn_factor >= 1.0,
                "rope->yarn_factor must be >= 1 (1 = plain RoPE; got %g)", rope->yarn_factor);
    if (rope->yarn_factor > 1.0) {
      PTK_REQUIRE(rope->yarn_original_max > 0, "rope->yarn_original_max must be positive for YaRN (got %d)",
                  rope->yarn_original_max);
      PTK_REQUIRE(rope->beta_fast > 0 && rope->beta_slow > 0 && rope->beta_fast > rope->beta_slow,
                  "rope->beta_fast (%g) must exceed rope->beta_slow (%g) > 0", rope->beta_fast, rope->beta_slow);
    }
    PTK_REQUIRE(max_segments > 0, "max_segments must be positive (got %d)", max_segments);
    PTK_REQUIRE(max_tokens > 0, "max_tokens must be positive (got %d)", max_tokens);
    auto* p = new ptk_rope_plan();
    p->layout = *layout;
    p->rope = ptk::RopeParams{rope->theta, rope->yarn_factor, double(rope->yarn_original_max), rope->beta_fast,
                              rope->beta_slow};
    p->max_segments = max_segments;
    p->max_tokens = max_tokens;
    ptk::Carve c;
    p->count_at = c.take(sizeof(int32_t));
    p->positions_at = c.take(size_t(max_tokens) * sizeof(int32_t));
    p->segments_at = c.take(size_t(max_tokens) * sizeof(int32_t));
    p->slots_at = c.take(size_t(max_tokens) * sizeof(int32_t));
    p->device_bytes = c.offset;
    *plan = p;
    return ptk::ok();
  });
}

void ptk_rope_plan_destroy(ptk_rope_plan* plan) { delete plan; }

ptk_status ptk_rope_plan_update(ptk_rope_plan* plan, int num_tokens, const int32_t* positions,
                                const int32_t* segment_ids, const int32_t* slot_mapping, void* stream) {
  PTK_REQUIRE_NOT_NULL(plan);
  PTK_REQUIRE(num_tokens >= 0 && num_tokens <= plan->max_tokens, "num_tokens (%d) must be in [0, max_tokens = %d]",
              num_tokens, plan->max_tokens);
  PTK_REQUIRE(num_tokens == 0 || positions != nullptr, "positions must not be null");
  PTK_REQUIRE(num_tokens == 0 || segment_ids != nullptr, "segment_ids must not be null");
  PTK_REQUIRE(num_tokens == 0 || slot_mapping != nullptr, "slot_mapping must not be null");
  const int64_t slots = int64_t(plan->layout.num_pages) * plan->layout.page_size;
  for (int t = 0; t < num_tokens; ++t) {
    PTK_REQUIRE(positions[t] >= 0, "positions[%d] = %d must not be negative", t, positions[t]);
    PTK_REQUIRE(segment_ids[t] >= 0 && segment_ids[t] < plan->max_segments,
                "segment_ids[%d] = %d is outside [0, max_segments = %d)", t, segment_ids[t], plan->max_segments);
    PTK_REQUIRE(slot_mapping[t] >= -1 && slot_mapping[t] < slots,
                "slot_mapping[%d] = %d is outside [-1, num_pages * page_size = %lld)", t, slot_mapping[t],
                (long long)slots);
  }
  plan->num_tokens = num_tokens;
  plan->updated = true;
  plan->uploaded = false;
  // One copy from the pinned mirror: the count and the three arrays, up to the last slot used.
  ptk_status s = plan->upload_status = plan->staged.allocate(plan->device_bytes, plan->device_bytes);
  if (s == PTK_OK) s = plan->upload_status = plan->staged.wait_for_mirror();
  if (s != PTK_OK) return s;
  char* h = plan->staged.host();
  const size_t bytes = size_t(num_tokens) * sizeof(int32_t);
  std::memcpy(h + plan->count_at, &num_tokens, sizeof num_tokens);
  if (num_tokens > 0) {
    std::memcpy(h + plan->positions_at, positions, bytes);
    std::memcpy(h + plan->segments_at, segment_ids, bytes);
    std::memcpy(h + plan->slots_at, slot_mapping, bytes);
  }
  if ((s = plan->staged.upload({{0, plan->slots_at + bytes}}, stream)) != PTK_OK) return plan->upload_status = s;
  plan->uploaded = true;
  return ptk::ok();
}

}  // extern "C"

namespace ptk {

int rope_plan_tokens(const ptk_rope_plan* plan) { return plan->updated ? plan->num_tokens : 0; }

int rope_plan_qkv_width(const ptk_rope_plan* plan) {
  return (plan->layout.num_qo_heads + 2 * plan->layout.num_kv_heads) * plan->layout.head_dim;
}

ptk_status check_append_pointers(const void* thought_table, const void* q_out, const void* k_cache,
                                 const void* v_cache) {
  PTK_REQUIRE_NOT_NULL(q_out);
  PTK_REQUIRE_NOT_NULL(k_cache);
  PTK_REQUIRE_NOT_NULL(v_cache);
  for (const auto& [ptr, name] : {std::pair{thought_table, "thought_table"}, std::pair{q_out, "q_out"},
                                  std::pair{k_cache, "k_cache"}, std::pair{v_cache, "v_cache"}}) {
    PTK_REQUIRE(reinterpret_cast<uintptr_t>(ptr) % 2 == 0, "%s must be 2-byte aligned (bf16)", name);
  }
  return ptk::ok();
}

#ifdef PTK_WITH_CUDA
ptk_status rope_append_args(const ptk_rope_plan* plan, const void* thought_table, void* q_out, void* k_cache,
                            void* v_cache, RopeAppendLaunch* a) {
  PTK_REQUIRE(plan->updated, "plan has no tokens yet (call ptk_rope_plan_update first)");
  if (!plan->uploaded)
    return ptk::fail(plan->upload_status, "plan has no device copy: its last upload failed with \"%s\"",
                     ptk_status_string(plan->upload_status));
  const char* d = plan->staged.device();
  *a = RopeAppendLaunch{};
  a->head_dim = plan->layout.head_dim;
  a->grid = std::max(1, std::min(plan->max_tokens, kMaxRopeBlocks));
  a->num_tokens = reinterpret_cast<const int32_t*>(d + plan->count_at);
  a->positions = reinterpret_cast<const int32_t*>(d + plan->positions_at);
  a->segment_ids = reinterpret_cast<const int32_t*>(d + plan->segments_at);
  a->slot_mapping = reinterpret_cast<const int32_t*>(d + plan->slots_at);
  a->thought_table = thought_table;
  a->q_out = q_out;
  a->k_cache = k_cache;
  a->v_cache = v_cache;
  a->num_q_heads = plan->layout.num_qo_heads;
  a->num_kv_heads = plan->layout.num_kv_heads;
  a->rope = plan->rope;
  return ptk::ok();
}
#endif

}  // namespace ptk

extern "C" {

ptk_status ptk_rope_append(const ptk_rope_plan* plan, const void* qkv, const void* thought_table, void* q_out,
                           void* k_cache, void* v_cache, void* stream) {
  PTK_REQUIRE_NOT_NULL(plan);
  PTK_REQUIRE_NOT_NULL(qkv);
  // bf16 elements: 2-byte alignment is all the kernel needs; the table may be null (no embedding).
  PTK_REQUIRE(reinterpret_cast<uintptr_t>(qkv) % 2 == 0, "qkv must be 2-byte aligned (bf16)");
  const ptk_status checked = ptk::check_append_pointers(thought_table, q_out, k_cache, v_cache);
  if (checked != PTK_OK) return checked;
#ifdef PTK_WITH_CUDA
  ptk::RopeAppendLaunch a;
  const ptk_status s = ptk::rope_append_args(plan, thought_table, q_out, k_cache, v_cache, &a);
  if (s != PTK_OK) return s;
  a.qkv = qkv;
  return ptk::cuda_status(ptk::rope_append_launch(a, stream), "rope_append launch");
#else
  (void)thought_table;
  (void)stream;
  return ptk::fail(PTK_ERR_NO_CUDA, "this ptk library was built without CUDA");
#endif
}

}  // extern "C"
