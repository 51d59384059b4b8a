#include "planner.h"

#include <algorithm>

namespace ptk {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Keys visible to any query of block [qa, qb) of a span: causal spans stop at the last query's limit.
int32_t visible_len(const Span& s, int32_t qb) {
  return static_cast<int32_t>(std::min<int64_t>(s.kv_len, int64_t(s.causal_base) + qb));
}

template <class F>
void for_each_block(const std::vector<Span>& spans, int q_per_item, F f) {
  for (const Span& s : spans)
    for (int32_t qa = 0; qa < s.q_count; qa += q_per_item) f(s, qa, std::min(s.q_count, qa + q_per_item));
}

int64_t count_items(const std::vector<Span>& spans, int q_per_item, int64_t chunk) {
  int64_t n = 0;
  for_each_block(spans, q_per_item, [&](const Span& s, int32_t, int32_t qb) { n += ceil_div(visible_len(s, qb), chunk); });
  return n;
}

}  // namespace

std::vector<Span> decode_spans(int batch, const int32_t* indptr, const std::vector<int32_t>& lens) {
  std::vector<Span> spans;
  for (int b = 0; b < batch; ++b) spans.push_back(Span{b, 1, indptr[b], lens[b], lens[b]});
  return spans;
}

std::vector<Span> prefill_spans(int batch, const int32_t* qo_indptr, int32_t prefix_len, int32_t prefix_at,
                                const int32_t* indptr, const std::vector<int32_t>& lens) {
  std::vector<Span> spans;
  const int32_t num_queries = qo_indptr[batch];
  if (prefix_len > 0 && num_queries > 0) spans.push_back(Span{0, num_queries, prefix_at, prefix_len, prefix_len});
  for (int b = 0; b < batch; ++b) {
    const int32_t qo_len = qo_indptr[b + 1] - qo_indptr[b];
    if (qo_len > 0) spans.push_back(Span{qo_indptr[b], qo_len, indptr[b], lens[b], lens[b] - qo_len});
  }
  return spans;
}

std::vector<Span> summary_spans(int num_segments, const int32_t* seg_indptr, const std::vector<int32_t>& lens,
                                int num_queries) {
  std::vector<Span> spans;
  if (num_queries == 0) return spans;
  for (int i = 0; i + 1 < num_segments; ++i) spans.push_back(Span{0, num_queries, seg_indptr[i], lens[i], lens[i]});
  const int32_t own = lens[num_segments - 1];
  spans.push_back(Span{0, num_queries, seg_indptr[num_segments - 1], own, own - num_queries});
  return spans;
}

bool plan_work(const std::vector<Span>& spans, int num_queries, const PlanShape& shape, WorkPlan* plan,
               std::string* error) {
  const int q_per_item = shape.rows_per_item / shape.group;
  int64_t keys = 0, longest = shape.tile_tokens;
  for_each_block(spans, q_per_item, [&](const Span& s, int32_t, int32_t qb) {
    keys += visible_len(s, qb);
    longest = std::max<int64_t>(longest, visible_len(s, qb));
  });

  // Equal chunks, as many as fill target_blocks (each item runs once per kv head), never shorter
  // than min_chunk; doubled until the work list fits.
  const int64_t per_block = ceil_div(keys * shape.num_kv_heads, std::max(1, shape.target_blocks));
  int64_t chunk = ceil_div(std::max<int64_t>(per_block, shape.min_chunk), shape.tile_tokens) * shape.tile_tokens;
  while (count_items(spans, q_per_item, chunk) > shape.max_items) {
    if (chunk >= longest) {
      *error = "the work needs " + std::to_string(count_items(spans, q_per_item, chunk)) +
               " work items, more than the plan's max_work_items (" + std::to_string(shape.max_items) + ")";
      return false;
    }
    chunk *= 2;
  }

  WorkPlan out;
  out.chunk_tokens = static_cast<int32_t>(chunk);
  int32_t part_row = 0;
  for_each_block(spans, q_per_item, [&](const Span& s, int32_t qa, int32_t qb) {
    const int32_t end = visible_len(s, qb);
    for (int64_t kv = 0; kv < end; kv += chunk) {
      WorkItem it;
      it.q_begin = s.q_begin + qa;
      it.q_count = qb - qa;
      it.page_offset = s.page_offset;
      it.kv_begin = static_cast<int32_t>(kv);
      it.kv_end = static_cast<int32_t>(std::min<int64_t>(end, kv + chunk));
      it.causal_base = s.causal_base + qa;  // item query i is span query qa + i
      it.part_row = part_row;
      part_row += it.q_count * shape.group * shape.num_kv_heads;
      out.items.push_back(it);
    }
  });
  out.partial_rows = part_row;

  // Merge lists by counting sort over (query, kv head).
  const int keys_out = num_queries * shape.num_kv_heads;
  out.merge_indptr.assign(keys_out + 1, 0);
  for (const WorkItem& it : out.items)
    for (int32_t q = it.q_begin; q < it.q_begin + it.q_count; ++q)
      for (int h = 0; h < shape.num_kv_heads; ++h) ++out.merge_indptr[q * shape.num_kv_heads + h + 1];
  for (int k = 0; k < keys_out; ++k) out.merge_indptr[k + 1] += out.merge_indptr[k];
  out.merge_rows.resize(out.merge_indptr[keys_out]);
  std::vector<int32_t> fill(out.merge_indptr.begin(), out.merge_indptr.end() - 1);
  for (const WorkItem& it : out.items) {
    const int32_t rows = it.q_count * shape.group;
    for (int32_t q = it.q_begin; q < it.q_begin + it.q_count; ++q)
      for (int h = 0; h < shape.num_kv_heads; ++h)
        out.merge_rows[fill[q * shape.num_kv_heads + h]++] = it.part_row + h * rows + (q - it.q_begin) * shape.group;
  }
  *plan = std::move(out);
  return true;
}

}  // namespace ptk
