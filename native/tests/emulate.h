// Executes a work plan the way the kernels do (rows of each item, page walk, causal limit,
// partial-state rows, merge lists), in double precision on the host.
#pragma once
#include <algorithm>
#include <cmath>
#include <vector>

#include "check.h"
#include "planner.h"
#include "ptk/page_table.h"

struct Dense {
  int group, kv_heads, dim, page_size;
  const double* q;  // [num_queries, group * kv_heads, dim]
  const double* k;  // [num_pages, page_size, kv_heads, dim]
  const double* v;
};

// (o, lse) of query row (q, h) over the keys in `slots`; lse natural log; no keys: (0, -inf).
inline void attend_slots(const Dense& p, int q, int h, const std::vector<int64_t>& slots, double scale, double* o,
                         double* lse) {
  const int hq = p.group * p.kv_heads, kvh = h / p.group;
  const double* qv = p.q + (size_t(q) * hq + h) * p.dim;
  std::vector<double> s;
  double m = -INFINITY;
  for (int64_t slot : slots) {
    const double* kv = p.k + ptk::cache_offset(slot, kvh, p.kv_heads, p.dim);
    double d = 0;
    for (int i = 0; i < p.dim; ++i) d += qv[i] * kv[i];
    s.push_back(d * scale);
    m = std::max(m, s.back());
  }
  double sum = 0;
  std::fill(o, o + p.dim, 0.0);
  for (size_t j = 0; j < slots.size(); ++j) {
    const double w = std::exp(s[j] - m);
    sum += w;
    const double* vv = p.v + ptk::cache_offset(slots[j], kvh, p.kv_heads, p.dim);
    for (int i = 0; i < p.dim; ++i) o[i] += w * vv[i];
  }
  for (int i = 0; i < p.dim && sum > 0; ++i) o[i] /= sum;
  *lse = sum > 0 ? m + std::log(sum) : -INFINITY;
}

// o [num_queries, hq, dim], lse [num_queries, hq]. rows_per_item: the variant's rows (the kernel's
// shared Q tile), which no item may exceed.
inline void emulate_plan(const Dense& p, const std::vector<int32_t>& pages, const ptk::WorkPlan& plan, int num_queries,
                         int rows_per_item, double scale, std::vector<double>* o, std::vector<double>* lse) {
  const int hq = p.group * p.kv_heads;
  std::vector<double> part_o(size_t(plan.partial_rows) * p.dim), part_lse(plan.partial_rows);
  std::vector<int> written(plan.partial_rows, 0);
  for (const ptk::WorkItem& it : plan.items) {
    // Keys, or none at all: the decode plan's item for a query that sees no keys.
    CHECK(it.kv_begin < it.kv_end || (it.kv_begin == 0 && it.kv_end == 0));
    // What the kernels assume of an item and do not check: its rows fit the shared Q tile, its
    // queries exist, its keys fit one chunk and its pages lie in the plan's page list.
    CHECK(it.q_count >= 1 && it.q_count * p.group <= rows_per_item);
    CHECK(it.q_begin >= 0 && it.q_begin + it.q_count <= num_queries);
    CHECK(it.kv_begin >= 0 && it.kv_end - it.kv_begin <= plan.chunk_tokens);
    CHECK(it.page_offset >= 0 &&
          int64_t(it.page_offset) + (it.kv_end + p.page_size - 1) / p.page_size <= int64_t(pages.size()));
    const int rows = it.q_count * p.group;
    for (int kvh = 0; kvh < p.kv_heads; ++kvh)
      for (int r = 0; r < rows; ++r) {
        std::vector<int64_t> slots;
        for (int t = it.kv_begin; t < std::min(it.kv_end, it.causal_base + r / p.group + 1); ++t)
          slots.push_back(ptk::span_slot(pages.data() + it.page_offset, p.page_size, t));
        const int64_t row = int64_t(it.part_row) + int64_t(kvh) * rows + r;
        CHECK(row >= 0 && row < plan.partial_rows);
        if (row < 0 || row >= plan.partial_rows) continue;
        ++written[row];
        attend_slots(p, it.q_begin + r / p.group, kvh * p.group + r % p.group, slots, scale, &part_o[row * p.dim],
                     &part_lse[row]);
      }
  }
  for (int w : written) CHECK(w == 1);

  CHECK(int(plan.merge_indptr.size()) == num_queries * p.kv_heads + 1);
  o->assign(size_t(num_queries) * hq * p.dim, 0.0);
  lse->assign(size_t(num_queries) * hq, -INFINITY);
  for (int q = 0; q < num_queries; ++q)
    for (int h = 0; h < hq; ++h) {
      const int key = q * p.kv_heads + h / p.group;
      double m = -INFINITY, sum = 0;
      for (int e = plan.merge_indptr[key]; e < plan.merge_indptr[key + 1]; ++e)
        m = std::max(m, part_lse[plan.merge_rows[e] + h % p.group]);
      double* out = o->data() + (size_t(q) * hq + h) * p.dim;
      for (int e = plan.merge_indptr[key]; e < plan.merge_indptr[key + 1] && m > -INFINITY; ++e) {
        const int row = plan.merge_rows[e] + h % p.group;
        const double w = std::exp(part_lse[row] - m);
        sum += w;
        for (int i = 0; i < p.dim; ++i) out[i] += w * part_o[size_t(row) * p.dim + i];
      }
      for (int i = 0; i < p.dim && sum > 0; ++i) out[i] /= sum;
      (*lse)[size_t(q) * hq + h] = sum > 0 ? m + std::log(sum) : -INFINITY;
    }
}
