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
    // A block that sees no keys still gets an item, empty: the decode kernel merges in the block
    // that finishes a query's items last, so every query needs one to have its o and lse written.
    if (n == 0) segments[seg].push_back(WorkItem{s.q_begin + qa, qb - qa, s.page_offset, 0, 0, s.causal_base + qa, 0});
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
  const int64_t slots = std::max(1, shape.target_blocks / shape.num_kv_heads);
  int64_t count = std::max<int64_t>(1, std::min(slots, ceil_div(pages, std::max<int64_t>(1, ceil_div(shape.min_chunk, ps)))));
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

RaggedBatch decode_batch(int batch, const int32_t* indptr, const int32_t* indices, const std::vector<int32_t>& lens) {
  RaggedBatch r;
  r.seg_indptr.assign(indptr, indptr + batch + 1);
  r.pages.assign(indices, indices + indptr[batch]);
  r.lens = lens;
  for (int b = 0; b <= batch; ++b) r.qo_indptr.push_back(b), r.group_indptr.push_back(b);
  for (int b = 0; b < batch; ++b) r.group_segments.push_back(b);
  return r;
}

RaggedBatch prefill_batch(int batch, const int32_t* qo_indptr, const int32_t* prefix_indices, int32_t prefix_len,
                          int page_size, const int32_t* indptr, const int32_t* indices, const std::vector<int32_t>& lens) {
  RaggedBatch r;
  r.qo_indptr.assign(qo_indptr, qo_indptr + batch + 1);
  r.seg_indptr.assign(indptr, indptr + batch + 1);
  r.pages.assign(indices, indices + indptr[batch]);
  r.pages.insert(r.pages.end(), prefix_indices, prefix_indices + (prefix_len + page_size - 1) / page_size);
  r.seg_indptr.push_back(static_cast<int32_t>(r.pages.size()));
  r.lens = lens;
  r.lens.push_back(prefix_len);
  r.group_indptr.push_back(0);
  for (int b = 0; b < batch; ++b) {
    r.group_segments.insert(r.group_segments.end(), {batch, b});
    r.group_indptr.push_back(r.group_indptr.back() + 2);
  }
  return r;
}

RaggedBatch summary_batch(int num_segments, const int32_t* seg_indptr, const int32_t* indices,
                          const std::vector<int32_t>& lens, int num_queries) {
  RaggedBatch r;
  r.qo_indptr = {0, num_queries};
  r.group_indptr = {0, num_segments};
  for (int s = 0; s < num_segments; ++s) r.group_segments.push_back(s);
  r.seg_indptr.assign(seg_indptr, seg_indptr + num_segments + 1);
  r.pages.assign(indices, indices + seg_indptr[num_segments]);
  r.lens = lens;
  return r;
}

std::vector<Span> ragged_spans(const RaggedBatch& r) {
  auto same = [&](int32_t a, int32_t b) {
    const int32_t n = r.seg_indptr[a + 1] - r.seg_indptr[a];
    return r.lens[a] == r.lens[b] && n == r.seg_indptr[b + 1] - r.seg_indptr[b] &&
           std::equal(r.pages.begin() + r.seg_indptr[a], r.pages.begin() + r.seg_indptr[a] + n,
                      r.pages.begin() + r.seg_indptr[b]);
  };
  std::vector<Span> spans;
  // The visible spans of the last group with queries: (segment, index into spans).
  std::vector<std::pair<int32_t, size_t>> open, next;
  for (int g = 0; g < r.num_groups(); ++g) {
    const int32_t q0 = r.qo_indptr[g], qo_len = r.qo_indptr[g + 1] - q0;
    if (qo_len == 0) continue;
    next.clear();
    const int32_t own = r.group_segments[r.group_indptr[g + 1] - 1];
    for (int32_t i = r.group_indptr[g]; i + 1 < r.group_indptr[g + 1]; ++i) {
      const int32_t s = r.group_segments[i];
      if (r.lens[s] == 0) continue;
      auto hit = std::find_if(open.begin(), open.end(), [&](const auto& o) { return same(o.first, s); });
      if (hit != open.end()) {
        spans[hit->second].q_count += qo_len;
        next.push_back(*hit);
        open.erase(hit);  // one span per visible segment of this group
      } else {
        next.push_back({s, spans.size()});
        spans.push_back(Span{q0, qo_len, r.seg_indptr[s], r.lens[s], r.lens[s]});
      }
    }
    spans.push_back(Span{q0, qo_len, r.seg_indptr[own], r.lens[own], r.lens[own] - qo_len});
    open.swap(next);
  }
  return spans;
}

Variant ragged_variant(const RaggedBatch& r) {
  bool one_each = r.num_groups() > 0;
  for (int g = 0; g < r.num_groups(); ++g) one_each = one_each && r.qo_indptr[g + 1] - r.qo_indptr[g] == 1;
  return one_each || r.num_queries() <= 1 ? Variant::kDecode : Variant::kWide;
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
