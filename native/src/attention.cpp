// The attention C ABI: plans (validate host page tables, plan the work, upload it) and runs.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "device_memory.h"
#include "planner.h"
#include "ptk/attention.h"
#include "validate.h"
#ifdef PTK_WITH_CUDA
#include "ptk/launch.h"
#endif

namespace {

constexpr int kDefaultWorkItems = 1024;
constexpr int kFallbackMultiprocessors = 132;  // H100 SXM, when no device can be asked
constexpr int kMergeRowsPerBlock = 4;
constexpr int kMaxMergeBlocks = 4096;

}  // namespace

struct ptk_attention_plan {
  ptk_kv_layout layout;
  ptk_plan_limits limits;  // defaults resolved
  // The last plan, host side.
  bool planned = false;
  ptk::Variant variant = ptk::Variant::kWide;
  int num_queries = 0;
  std::vector<int32_t> pages;
  ptk::WorkPlan work;
  // Device copies: one allocation carved into the buffers below (byte offsets); the host writes
  // the plan's arrays (counts through merge_rows, first in the carve) into its pinned mirror.
  ptk::StagedBuffer staged;
  bool uploaded = false;
  ptk_status upload_status = PTK_OK;  // why the last upload failed
  size_t counts_at, items_at, pages_at, merge_indptr_at, merge_rows_at, part_lse_at, part_o_at, arrivals_at, device_bytes;
  bool arrivals_zeroed = false;  // the decode kernel leaves them zero after every launch

  int arrival_counters() const { return limits.max_queries * layout.num_kv_heads; }

  // Partial-state rows: every item holds at most a wide item's rows, per kv head.
  int max_rows() const { return limits.max_work_items * ptk::variant_shape(ptk::Variant::kWide).rows * layout.num_kv_heads; }
  int grid(ptk::Variant v) const { return limits.num_multiprocessors * ptk::variant_shape(v).blocks_per_sm; }
};

namespace {

using ptk::Span;

ptk_status upload(ptk_attention_plan* p, void* stream) {
  ptk_status s = p->staged.allocate(p->device_bytes, p->part_lse_at);
  if (s == PTK_OK) s = p->staged.wait_for_mirror();
  if (s != PTK_OK) return s;
  if (!p->arrivals_zeroed) {
    const std::vector<int32_t> zeros(size_t(p->arrival_counters()), 0);
    if ((s = ptk::copy_to_device(p->staged.device() + p->arrivals_at, zeros.data(), zeros.size() * sizeof(int32_t),
                                 stream)) != PTK_OK)
      return s;
    p->arrivals_zeroed = true;
  }
  // Each array into the mirror, then only its used part to the device: one copy per array, none
  // staged by the driver (the arrivals' one-time zeroing above aside).
  const ptk::WorkCounts counts{static_cast<int32_t>(p->work.items.size()) * p->layout.num_kv_heads, p->num_queries};
  auto put = [&](size_t at, const void* data, size_t bytes) {
    if (bytes > 0) std::memcpy(p->staged.host() + at, data, bytes);
    return ptk::StagedBuffer::Range{at, bytes};
  };
  auto put_all = [&](size_t at, const auto& v) { return put(at, v.data(), v.size() * sizeof v[0]); };
  if ((s = p->staged.upload({put(p->counts_at, &counts, sizeof counts), put_all(p->items_at, p->work.items),
                             put_all(p->pages_at, p->pages), put_all(p->merge_indptr_at, p->work.merge_indptr),
                             put_all(p->merge_rows_at, p->work.merge_rows)},
                            stream)) != PTK_OK)
    return s;
  p->uploaded = true;
  return ptk::ok();
}

// Plans spans (validated by the caller) and uploads the result; the plan changes only on success
// of the planning step.
ptk_status commit(ptk_attention_plan* p, const std::vector<Span>& spans, int num_queries, std::vector<int32_t> pages,
                  ptk::Variant variant, void* stream) {
  const ptk::VariantShape vs = ptk::variant_shape(variant);
  const int group = p->layout.num_qo_heads / p->layout.num_kv_heads;
  const bool decode = variant == ptk::Variant::kDecode;
  // On the decode variant only spans of several queries (a shared segment) have items of more
  // than one query: cascade items, up to vs.rows rows; its chunks are balanced whole pages.
  const ptk::PlanShape shape{group,
                             p->layout.num_kv_heads,
                             vs.rows,
                             vs.tile_tokens,
                             p->grid(variant),
                             p->limits.max_work_items,
                             vs.min_chunk,
                             decode ? p->layout.page_size : 0};
  ptk::WorkPlan work;
  std::string error;
  if (!ptk::plan_work(spans, num_queries, shape, &work, &error))
    return ptk::fail(PTK_ERR_INVALID_ARGUMENT, "%s", error.c_str());
  p->work = std::move(work);
  p->pages = std::move(pages);
  p->num_queries = num_queries;
  p->variant = variant;
  p->planned = true;
  p->uploaded = false;
  p->upload_status = upload(p, stream);
  return p->upload_status;
}

// Every plan call: the batch (validated by the caller) as spans, on the variant its queries choose.
ptk_status commit(ptk_attention_plan* p, ptk::RaggedBatch batch, void* stream) {
  const std::vector<Span> spans = ptk::ragged_spans(batch);
  return commit(p, spans, batch.num_queries(), std::move(batch.pages), ptk::ragged_variant(batch), stream);
}

}  // namespace

extern "C" {

ptk_status ptk_attention_plan_create(const ptk_kv_layout* layout, const ptk_plan_limits* limits,
                                     ptk_attention_plan** plan) {
  return ptk::no_throw([&]() -> ptk_status {
    PTK_REQUIRE_NOT_NULL(plan);
    *plan = nullptr;
    ptk_status s = ptk::check_layout(layout);
    if (s != PTK_OK) return s;
    PTK_REQUIRE_NOT_NULL(limits);
    PTK_REQUIRE(limits->max_queries > 0, "limits->max_queries must be positive (got %d)", limits->max_queries);
    PTK_REQUIRE(limits->max_sequences > 0, "limits->max_sequences must be positive (got %d)", limits->max_sequences);
    PTK_REQUIRE(limits->max_pages >= 0, "limits->max_pages must not be negative (got %d)", limits->max_pages);
    PTK_REQUIRE(limits->max_work_items >= 0, "limits->max_work_items must not be negative (got %d)",
                limits->max_work_items);
    PTK_REQUIRE(limits->num_multiprocessors >= 0, "limits->num_multiprocessors must not be negative (got %d)",
                limits->num_multiprocessors);
    const int items = limits->max_work_items ? limits->max_work_items : kDefaultWorkItems;
    PTK_REQUIRE(int64_t(items) * ptk::variant_shape(ptk::Variant::kWide).rows * layout->num_kv_heads < INT32_MAX,
                "limits->max_work_items (%d) is too large: partial-state rows are int32", items);
    auto* p = new ptk_attention_plan();
    p->layout = *layout;
    p->limits = *limits;
    p->limits.max_work_items = items;
    if (p->limits.num_multiprocessors == 0) p->limits.num_multiprocessors = ptk::device_multiprocessors(kFallbackMultiprocessors);
    ptk::Carve c;  // what the host writes first, in the mirror: counts through merge_rows
    p->counts_at = c.take(sizeof(ptk::WorkCounts));
    p->items_at = c.take(size_t(p->limits.max_work_items) * sizeof(ptk::WorkItem));
    p->pages_at = c.take(size_t(p->limits.max_pages) * sizeof(int32_t));
    p->merge_indptr_at = c.take((size_t(p->limits.max_queries) * layout->num_kv_heads + 1) * sizeof(int32_t));
    p->merge_rows_at = c.take(size_t(p->max_rows()) * sizeof(int32_t));
    p->part_lse_at = c.take(size_t(p->max_rows()) * sizeof(float));
    p->part_o_at = c.take(size_t(p->max_rows()) * layout->head_dim * sizeof(float));
    p->arrivals_at = c.take(size_t(p->arrival_counters()) * sizeof(int32_t));
    p->device_bytes = c.offset;
    *plan = p;
    return ptk::ok();
  });
}

void ptk_attention_plan_destroy(ptk_attention_plan* plan) { delete plan; }

ptk_status ptk_attention_plan_decode(ptk_attention_plan* plan, int batch, const int32_t* indptr,
                                     const int32_t* indices, const int32_t* last_page_len, void* stream) {
  return ptk::no_throw([&]() -> ptk_status {
    PTK_REQUIRE_NOT_NULL(plan);
    PTK_REQUIRE(batch >= 0 && batch <= plan->limits.max_sequences && batch <= plan->limits.max_queries,
                "batch (%d) must be in [0, min(max_sequences, max_queries) = %d]", batch,
                std::min(plan->limits.max_sequences, plan->limits.max_queries));
    std::vector<int32_t> lens;
    ptk_status s = ptk::check_csr("indptr", batch, indptr, indices, last_page_len, plan->layout, plan->limits.max_pages, &lens);
    if (s != PTK_OK) return s;
    return commit(plan, ptk::decode_batch(batch, indptr, indices, lens), stream);
  });
}

ptk_status ptk_attention_plan_prefill(ptk_attention_plan* plan, int batch, const int32_t* qo_indptr,
                                      const int32_t* prefix_indices, int prefix_len, const int32_t* indptr,
                                      const int32_t* indices, const int32_t* last_page_len, void* stream) {
  return ptk::no_throw([&]() -> ptk_status {
    PTK_REQUIRE_NOT_NULL(plan);
    const ptk_kv_layout& l = plan->layout;
    PTK_REQUIRE(batch >= 0 && batch <= plan->limits.max_sequences, "batch (%d) must be in [0, max_sequences = %d]", batch,
                plan->limits.max_sequences);
    PTK_REQUIRE_NOT_NULL(qo_indptr);
    PTK_REQUIRE(qo_indptr[0] == 0, "qo_indptr[0] must be 0 (got %d)", qo_indptr[0]);
    for (int b = 0; b < batch; ++b)
      PTK_REQUIRE(qo_indptr[b + 1] >= qo_indptr[b], "qo_indptr must not decrease (qo_indptr[%d] = %d < qo_indptr[%d] = %d)",
                  b + 1, qo_indptr[b + 1], b, qo_indptr[b]);
    const int num_queries = qo_indptr[batch];
    PTK_REQUIRE(num_queries <= plan->limits.max_queries, "qo_indptr[%d] = %d queries exceed the plan's max_queries (%d)",
                batch, num_queries, plan->limits.max_queries);
    PTK_REQUIRE(prefix_len >= 0, "prefix_len must not be negative (got %d)", prefix_len);
    const int prefix_pages = (prefix_len + l.page_size - 1) / l.page_size;
    PTK_REQUIRE(prefix_pages <= plan->limits.max_pages, "prefix_len (%d) needs %d pages, more than max_pages (%d)",
                prefix_len, prefix_pages, plan->limits.max_pages);
    ptk_status s = ptk::check_pages("prefix_indices", prefix_pages, prefix_indices, l);
    if (s != PTK_OK) return s;
    std::vector<int32_t> lens;
    s = ptk::check_csr("indptr", batch, indptr, indices, last_page_len, l, plan->limits.max_pages - prefix_pages, &lens);
    if (s != PTK_OK) return s;
    for (int b = 0; b < batch; ++b)
      PTK_REQUIRE(qo_indptr[b + 1] - qo_indptr[b] <= lens[b],
                  "request %d has %d queries (qo_indptr) but only %d tokens in its pages (indptr, last_page_len)", b,
                  qo_indptr[b + 1] - qo_indptr[b], lens[b]);
    return commit(plan, ptk::prefill_batch(batch, qo_indptr, prefix_indices, prefix_len, l.page_size, indptr, indices, lens),
                  stream);
  });
}

ptk_status ptk_attention_plan_summary(ptk_attention_plan* plan, int num_segments, const int32_t* seg_indptr,
                                      const int32_t* indices, const int32_t* last_page_len, int num_queries,
                                      void* stream) {
  return ptk::no_throw([&]() -> ptk_status {
    PTK_REQUIRE_NOT_NULL(plan);
    PTK_REQUIRE(num_segments >= 1 && num_segments <= plan->limits.max_sequences,
                "num_segments (%d) must be in [1, max_sequences = %d]", num_segments, plan->limits.max_sequences);
    PTK_REQUIRE(num_queries >= 0 && num_queries <= plan->limits.max_queries,
                "num_queries (%d) must be in [0, max_queries = %d]", num_queries, plan->limits.max_queries);
    std::vector<int32_t> lens;
    ptk_status s =
        ptk::check_csr("seg_indptr", num_segments, seg_indptr, indices, last_page_len, plan->layout, plan->limits.max_pages, &lens);
    if (s != PTK_OK) return s;
    const int32_t own = lens[num_segments - 1];
    PTK_REQUIRE(num_queries <= own, "num_queries (%d) exceeds the tokens of the last (summary) segment (%d)", num_queries,
                own);
    return commit(plan, ptk::summary_batch(num_segments, seg_indptr, indices, lens, num_queries), stream);
  });
}

ptk_status ptk_attention_plan_ragged(ptk_attention_plan* plan, int num_groups, const int32_t* qo_indptr,
                                     const int32_t* group_indptr, const int32_t* group_segments, int num_segments,
                                     const int32_t* seg_indptr, const int32_t* indices, const int32_t* last_page_len,
                                     void* stream) {
  return ptk::no_throw([&]() -> ptk_status {
    PTK_REQUIRE_NOT_NULL(plan);
    const int max_sequences = plan->limits.max_sequences;
    PTK_REQUIRE(num_groups >= 0 && num_groups <= max_sequences, "num_groups (%d) must be in [0, max_sequences = %d]",
                num_groups, max_sequences);
    PTK_REQUIRE(num_segments >= 0 && num_segments <= max_sequences,
                "num_segments (%d) must be in [0, max_sequences = %d]", num_segments, max_sequences);
    PTK_REQUIRE_NOT_NULL(qo_indptr);
    PTK_REQUIRE(qo_indptr[0] == 0, "qo_indptr[0] must be 0 (got %d)", qo_indptr[0]);
    for (int g = 0; g < num_groups; ++g)
      PTK_REQUIRE(qo_indptr[g + 1] >= qo_indptr[g], "qo_indptr must not decrease (qo_indptr[%d] = %d < qo_indptr[%d] = %d)",
                  g + 1, qo_indptr[g + 1], g, qo_indptr[g]);
    PTK_REQUIRE(qo_indptr[num_groups] <= plan->limits.max_queries,
                "qo_indptr[%d] = %d queries exceed the plan's max_queries (%d)", num_groups, qo_indptr[num_groups],
                plan->limits.max_queries);
    std::vector<int32_t> lens;
    ptk_status s = ptk::check_csr("seg_indptr", num_segments, seg_indptr, indices, last_page_len, plan->layout,
                                  plan->limits.max_pages, &lens);
    if (s != PTK_OK) return s;
    PTK_REQUIRE_NOT_NULL(group_indptr);
    PTK_REQUIRE(group_indptr[0] == 0, "group_indptr[0] must be 0 (got %d)", group_indptr[0]);
    for (int g = 0; g < num_groups; ++g)
      PTK_REQUIRE(group_indptr[g + 1] > group_indptr[g],
                  "group_indptr must increase: group %d needs its own segment (group_indptr[%d] = %d, [%d] = %d)", g,
                  g + 1, group_indptr[g + 1], g, group_indptr[g]);
    PTK_REQUIRE(num_groups == 0 || group_segments != nullptr, "group_segments must not be null");
    std::vector<int> listed_by(num_segments, -1);  // the last group that listed each segment
    for (int g = 0; g < num_groups; ++g) {
      for (int i = group_indptr[g]; i < group_indptr[g + 1]; ++i) {
        const int32_t seg = group_segments[i];
        PTK_REQUIRE(seg >= 0 && seg < num_segments, "group_segments[%d] = %d is not a segment (num_segments %d)", i,
                    seg, num_segments);
        PTK_REQUIRE(listed_by[seg] != g, "group_segments[%d] = %d: group %d lists segment %d twice", i, seg, g, seg);
        listed_by[seg] = g;
      }
      const int32_t own = group_segments[group_indptr[g + 1] - 1], qo_len = qo_indptr[g + 1] - qo_indptr[g];
      PTK_REQUIRE(qo_len <= lens[own],
                  "group %d has %d queries (qo_indptr) but its own segment %d (group_segments[%d]) holds only %d tokens",
                  g, qo_len, own, group_indptr[g + 1] - 1, lens[own]);
    }
    ptk::RaggedBatch batch;
    batch.qo_indptr.assign(qo_indptr, qo_indptr + num_groups + 1);
    batch.group_indptr.assign(group_indptr, group_indptr + num_groups + 1);
    batch.group_segments.assign(group_segments, group_segments + group_indptr[num_groups]);
    batch.seg_indptr.assign(seg_indptr, seg_indptr + num_segments + 1);
    batch.lens = std::move(lens);
    batch.pages.assign(indices, indices + seg_indptr[num_segments]);
    return commit(plan, std::move(batch), stream);
  });
}

static_assert(int(ptk::Variant::kWide) == PTK_ATTENTION_WIDE && int(ptk::Variant::kDecode) == PTK_ATTENTION_DECODE,
              "the kernels' variants are the ABI's");

ptk_status ptk_attention_plan_info_get(const ptk_attention_plan* plan, ptk_attention_plan_info* info) {
  PTK_REQUIRE_NOT_NULL(plan);
  PTK_REQUIRE_NOT_NULL(info);
  PTK_REQUIRE(plan->planned, "plan has not been planned yet (call a ptk_attention_plan_* function first)");
  info->num_queries = plan->num_queries;
  info->num_work_items = static_cast<int>(plan->work.items.size());
  info->chunk_tokens = plan->work.chunk_tokens;
  info->variant = static_cast<int>(plan->variant);
  info->grid = plan->grid(plan->variant);
  return ptk::ok();
}

ptk_status ptk_attention_run(const ptk_attention_plan* plan, const void* q, const void* k_cache, const void* v_cache,
                             float sm_scale, void* o, ptk_dtype o_dtype, float* lse, void* stream) {
  PTK_REQUIRE_NOT_NULL(plan);
  PTK_REQUIRE_DEVICE_PTR(q);
  PTK_REQUIRE_DEVICE_PTR(k_cache);
  PTK_REQUIRE_DEVICE_PTR(v_cache);
  PTK_REQUIRE_DEVICE_PTR(o);
  PTK_REQUIRE_NOT_NULL(lse);
  PTK_REQUIRE(o_dtype == PTK_DTYPE_BF16 || o_dtype == PTK_DTYPE_F32, "o_dtype (%d) must be PTK_DTYPE_BF16 or PTK_DTYPE_F32",
              (int)o_dtype);
  PTK_REQUIRE(std::isfinite(sm_scale) && sm_scale >= 0.f, "sm_scale must be finite and not negative (got %g)",
              (double)sm_scale);
#ifdef PTK_WITH_CUDA
  PTK_REQUIRE(plan->planned, "plan has not been planned yet (call a ptk_attention_plan_* function first)");
  if (!plan->uploaded)
    return ptk::fail(plan->upload_status, "plan has no device copy: its last upload failed with \"%s\"",
                     ptk_status_string(plan->upload_status));
  const ptk_kv_layout& l = plan->layout;
  char* d = plan->staged.device();
  ptk::AttentionLaunch a;
  a.variant = plan->variant;
  a.head_dim = l.head_dim;
  a.grid = plan->grid(plan->variant);
  a.merge_grid = std::max(1, std::min(kMaxMergeBlocks, (plan->limits.max_queries * l.num_qo_heads + kMergeRowsPerBlock - 1) /
                                                           kMergeRowsPerBlock));
  a.items = reinterpret_cast<const ptk::WorkItem*>(d + plan->items_at);
  a.counts = reinterpret_cast<const ptk::WorkCounts*>(d + plan->counts_at);
  a.pages = reinterpret_cast<const int32_t*>(d + plan->pages_at);
  a.merge_indptr = reinterpret_cast<const int32_t*>(d + plan->merge_indptr_at);
  a.merge_rows = reinterpret_cast<const int32_t*>(d + plan->merge_rows_at);
  a.part_o = reinterpret_cast<float*>(d + plan->part_o_at);
  a.part_lse = reinterpret_cast<float*>(d + plan->part_lse_at);
  a.arrivals = reinterpret_cast<int32_t*>(d + plan->arrivals_at);
  a.q = q;
  a.k_cache = k_cache;
  a.v_cache = v_cache;
  a.num_q_heads = l.num_qo_heads;
  a.num_kv_heads = l.num_kv_heads;
  a.page_size = l.page_size;
  a.sm_scale = sm_scale > 0.f ? sm_scale : 1.f / std::sqrt(float(l.head_dim));
  a.o = o;
  a.o_is_f32 = o_dtype == PTK_DTYPE_F32;
  a.lse = lse;
  return ptk::cuda_status(ptk::attention_launch(a, stream), "attention launch");
#else
  (void)stream;
  return ptk::fail(PTK_ERR_NO_CUDA, "this ptk library was built without CUDA");
#endif
}

ptk_status ptk_merge_states(const float* o_a, const float* lse_a, const float* o_b, const float* lse_b, float* o,
                            float* lse, int rows, int head_dim, void* stream) {
  PTK_REQUIRE_DEVICE_PTR(o_a);
  PTK_REQUIRE_NOT_NULL(lse_a);
  PTK_REQUIRE_DEVICE_PTR(o_b);
  PTK_REQUIRE_NOT_NULL(lse_b);
  PTK_REQUIRE_DEVICE_PTR(o);
  PTK_REQUIRE_NOT_NULL(lse);
  PTK_REQUIRE(rows >= 0, "rows must not be negative (got %d)", rows);
  PTK_REQUIRE(head_dim > 0 && head_dim % 4 == 0, "head_dim (%d) must be a positive multiple of 4", head_dim);
#ifdef PTK_WITH_CUDA
  if (rows == 0) return ptk::ok();
  return ptk::cuda_status(ptk::merge_states_launch(o_a, lse_a, o_b, lse_b, o, lse, rows, head_dim, stream),
                          "merge launch");
#else
  (void)stream;
  return ptk::fail(PTK_ERR_NO_CUDA, "this ptk library was built without CUDA");
#endif
}

}  // extern "C"
