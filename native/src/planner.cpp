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

// Keys of all work (items x kv heads).
int64_t work_keys(const std::vector<Span>& spans, const PlanShape& shape) {
  int64_t keys = 0;
  for_each_block(spans, shape.rows_per_item / shape.group,
                 [&](const Span& s, int32_t, int32_t qb) { keys += int64_t(visible_len(s, qb)) * shape.num_kv_heads; });
  return keys;
}

// Balanced page-granular planning (planner.h): the blocks' visible pages are laid end to end and
// cut into `count` segments of near-equal whole pages (segment k: global pages
// [k * pages / count, (k + 1) * pages / count)); segment k's pieces (one per block it touches)
// become the items of item slot k (slots = blocks / kv heads: the items one round of the
// persistent grid takes), in successive rounds. Slots with more pieces come first, so that round
// r takes a prefix of the slots, as the grid's positions require. Returns the items in launch order.
std::vector<WorkItem> balanced_items(const std::vector<Span>& spans, const PlanShape& shape, int64_t pages,
                                     int64_t count) {
  const int64_t ps = shape.page_size;
  std::vector<std::vector<WorkItem>> segments(count);
  int64_t at = 0;   // global page of the block's first page
  int64_t seg = 0;  // segment of global page `at + page`
  for_each_block(spans, shape.rows_per_item / shape.group, [&](const Span& s, int32_t qa, int32_t qb) {
    const int32_t end = visible_len(s, qb);
    const int64_t n = ceil_div(end, ps);
    for (int64_t page = 0; page < n;) {
      while ((seg + 1) * pages / count <= at + page) ++seg;
      const int64_t take = std::min(n - page, (seg + 1) * pages / count - (at + page));
      WorkItem it;
      it.q_begin = s.q_begin + qa;
      it.q_count = qb - qa;
      it.page_offset = s.page_offset;
      it.kv_begin = static_cast<int32_t>(page * ps);
      it.kv_end = static_cast<int32_t>(std::min<int64_t>(end, (page + take) * ps));
      it.causal_base = s.causal_base + qa;  // item query i is span query qa + i
      it.part_row = 0;
      segments[seg].push_back(it);
      page += take;
    }
    at += n;
  });
  std::stable_sort(segments.begin(), segments.end(), [](const auto& x, const auto& y) { return x.size() > y.size(); });
  std::vector<WorkItem> items;
  for (size_t round = 0; !segments.empty() && round < segments[0].size(); ++round)
    for (const auto& seg_items : segments)
      if (round < seg_items.size()) items.push_back(seg_items[round]);
  return items;
}

// One segment per item slot, or fewer when a slot's share would be under min_chunk; fewer still
// while the items exceed max_items (at worst one segment holds everything).
bool balanced_plan(const std::vector<Span>& spans, const PlanShape& shape, std::vector<WorkItem>* items) {
  const int64_t ps = shape.page_size;
  int64_t pages = 0;
  for_each_block(spans, shape.rows_per_item / shape.group,
                 [&](const Span& s, int32_t, int32_t qb) { pages += ceil_div(visible_len(s, qb), ps); });
  items->clear();
  if (pages == 0) return true;
  const int64_t slots = std::max(1, shape.target_blocks / shape.num_kv_heads);
  int64_t count = std::min(slots, ceil_div(pages, std::max<int64_t>(1, ceil_div(shape.min_chunk, ps))));
  for (;;) {
    *items = balanced_items(spans, shape, pages, count);
    if (int64_t(items->size()) <= shape.max_items) return true;
    if (count == 1) return false;
    count = (count + 1) / 2;
  }
}

}  // namespace

int64_t plan_ideal(const std::vector<Span>& spans, const PlanShape& shape) {
  return std::max<int64_t>(ceil_div(work_keys(spans, shape), std::max(1, shape.target_blocks)), shape.min_chunk);
}

int64_t plan_makespan(const WorkPlan& plan, const PlanShape& shape) {
  std::vector<int64_t> load(std::max(1, shape.target_blocks), 0);
  const int64_t work = int64_t(plan.items.size()) * shape.num_kv_heads;
  for (int64_t w = 0; w < work; ++w) {
    const WorkItem& it = plan.items[w / shape.num_kv_heads];
    load[w % load.size()] += it.kv_end - it.kv_begin;
  }
  return load.empty() ? 0 : *std::max_element(load.begin(), load.end());
}

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

  WorkPlan out;
  if (shape.page_size > 0) {
    if (!balanced_plan(spans, shape, &out.items)) {
      *error = "the work needs " + std::to_string(count_items(spans, q_per_item, std::max<int64_t>(longest, 1))) +
               " work items, more than the plan's max_work_items (" + std::to_string(shape.max_items) + ")";
      return false;
    }
    for (const WorkItem& it : out.items) out.chunk_tokens = std::max(out.chunk_tokens, it.kv_end - it.kv_begin);
  } else {
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
    out.chunk_tokens = static_cast<int32_t>(chunk);
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
        out.items.push_back(it);
      }
    });
  }
  int32_t part_row = 0;
  for (WorkItem& it : out.items) {
    it.part_row = part_row;
    part_row += it.q_count * shape.group * shape.num_kv_heads;
  }
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
