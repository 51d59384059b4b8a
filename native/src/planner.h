// Host planning of attention work: turns spans (a block of queries against a list of pages, with
// an optional causal limit) into work items of bounded rows and keys, and the lists that tell the
// merge (the wide variant's merge kernel, or the decode kernel's last block of a row) which
// partial states make up each output row. Pure host code, unit-tested.
#pragma once
#include <stdint.h>

#include <string>
#include <vector>

#include "ptk/variants.h"
#include "ptk/work.h"

namespace ptk {

// Queries [q_begin, q_begin + q_count) against the span's kv_len tokens, whose pages start at
// page_offset in the plan's page list. Query i sees span tokens t < causal_base + i + 1
// (causal_base >= kv_len: every query sees the whole span).
struct Span {
  int32_t q_begin;
  int32_t q_count;
  int32_t page_offset;
  int32_t kv_len;
  int32_t causal_base;
};

struct PlanShape {
  int group;          // query heads per kv head
  int num_kv_heads;
  int rows_per_item;  // query rows (query x head) a work item holds
  int tile_tokens;    // chunk lengths are multiples of this
  int target_blocks;  // work (items x kv heads) wanted to fill the GPU
  int max_items;
  int min_chunk;      // fewer keys per chunk than this are not worth a partial state
  // > 0: balanced page-granular chunks (the decode variant): chunk lengths are whole pages of
  // this many tokens, chosen to minimise the makespan below; tile_tokens is then unused.
  int page_size = 0;
};

struct WorkPlan {
  std::vector<WorkItem> items;
  std::vector<int32_t> merge_indptr;  // [num_queries * num_kv_heads + 1]
  std::vector<int32_t> merge_rows;    // partial row of head 0 of the group, per (query, kv head) entry
  int32_t chunk_tokens = 0;
  int32_t partial_rows = 0;
};

// A ragged batch as ptk_attention_plan_ragged takes it (attention.h), validated: group g has query
// rows [qo_indptr[g], qo_indptr[g + 1]) and the segments group_segments[group_indptr[g] ..
// group_indptr[g + 1]), every one seen in full but the last, its own, seen causally (the group's
// queries are its last tokens); segment s has lens[s] tokens in the pages at seg_indptr[s] of
// `pages`, the plan's page list. The decode, prefill and summary plans are cases of it.
struct RaggedBatch {
  std::vector<int32_t> qo_indptr, group_indptr, group_segments, seg_indptr, lens, pages;
  int num_groups() const { return static_cast<int>(qo_indptr.size()) - 1; }
  int num_queries() const { return qo_indptr.back(); }
};

// Decode: sequence b is group b, one query over its own segment.
RaggedBatch decode_batch(int batch, const int32_t* indptr, const int32_t* indices, const std::vector<int32_t>& lens);
// Prefill: request b is group b over the shared prefix (segment `batch`, after the own tables in
// the page list) and its own segment b.
RaggedBatch prefill_batch(int batch, const int32_t* qo_indptr, const int32_t* prefix_indices, int32_t prefix_len,
                          int page_size, const int32_t* indptr, const int32_t* indices, const std::vector<int32_t>& lens);
// Summary: one group of num_queries over every segment, the last its own.
RaggedBatch summary_batch(int num_segments, const int32_t* seg_indptr, const int32_t* indices,
                          const std::vector<int32_t>& lens, int num_queries);

// The spans of a ragged batch: per group with queries, one span over its own segment and one per
// non-empty visible segment, except that a visible segment that the previous group with queries
// also sees, with the same pages and length, extends that group's span over this group's queries:
// the P paths of a request over its prompt, and its summary too, read each tile of the prompt once
// for all of them (on the decode variant, once per item of up to 64 rows: the cascade).
std::vector<Span> ragged_spans(const RaggedBatch& batch);

// The kernel variant (attention.h): decode when every group has exactly one query or there is at
// most one query in all, else wide.
Variant ragged_variant(const RaggedBatch& batch);

// Balance of a plan on the persistent grid: block b runs work w = b, b + grid, ... (work = item x kv
// head, as the kernels do), costing the item's keys. makespan = the largest total of one block;
// ideal = max(ceil(all work keys / grid), min_chunk): a perfect split, but no block's share below
// what is worth a partial state. The tail is makespan / ideal - 1. Balanced plans (page_size > 0)
// give each block at most ceil(pages / (grid / kv_heads)) whole pages (at least min_chunk), so the
// tail stays under 10% whenever ideal is at least 12 pages; below that page granularity bounds it
// instead: makespan <= ideal + 2 * page_size.
// Both use shape.target_blocks as the grid.
int64_t plan_makespan(const WorkPlan& plan, const PlanShape& shape);
int64_t plan_ideal(const std::vector<Span>& spans, const PlanShape& shape);

// Plans `spans` over num_queries query rows. Returns false and sets *error when the work does not
// fit shape.max_items even with one chunk per span.
bool plan_work(const std::vector<Span>& spans, int num_queries, const PlanShape& shape, WorkPlan* plan,
               std::string* error);

}  // namespace ptk
