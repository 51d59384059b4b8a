// Split-KV planning, checked end to end on the host: the work list is executed by a double
// precision emulation of what the kernels do per work item (rows, page walk, causal limit,
// partial-state rows) and per merge list, and compared with attention computed directly from the
// semantics of decode, multi-path prefill and summary.
#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "check.h"
#include "emulate.h"
#include "planner.h"
#include "ptk/page_table.h"

namespace {

using ptk::Span;

struct Problem {
  int group, kv_heads, dim = 8, page_size;
  std::vector<double> q;      // [num_queries, group * kv_heads, dim]
  std::vector<double> k, v;   // [num_pages, page_size, kv_heads, dim]
  std::vector<int32_t> pages; // the plan's page list
  int num_queries;
  // visible[q]: (page offset, tokens) key sets the query sees, as the operation defines them
  std::vector<std::vector<std::pair<int32_t, int32_t>>> visible;
  Dense dense() const { return Dense{group, kv_heads, dim, page_size, q.data(), k.data(), v.data()}; }
};

// Runs the plan the way the kernels do and compares with the direct definition.
double run_plan(const Problem& p, const ptk::WorkPlan& plan, ptk::Variant v) {
  std::vector<double> o, lse;
  emulate_plan(p.dense(), p.pages, plan, p.num_queries, ptk::variant_shape(v).rows, 1.0, &o, &lse);
  const int hq = p.group * p.kv_heads;
  double worst = 0;
  for (int q = 0; q < p.num_queries; ++q)
    for (int h = 0; h < hq; ++h) {
      std::vector<int64_t> slots;
      for (auto [off, len] : p.visible[q])
        for (int t = 0; t < len; ++t) slots.push_back(ptk::span_slot(p.pages.data() + off, p.page_size, t));
      double want[64], want_lse;
      attend_slots(p.dense(), q, h, slots, 1.0, want, &want_lse);
      const size_t row = size_t(q) * hq + h;
      if (slots.empty()) {
        CHECK(lse[row] == -INFINITY);
        continue;
      }
      worst = std::max(worst, std::fabs(lse[row] - want_lse));
      for (int i = 0; i < p.dim; ++i) worst = std::max(worst, std::fabs(o[row * p.dim + i] - want[i]));
    }
  return worst;
}

Problem make_problem(std::mt19937& rng, int group, int kv_heads, int page_size, int num_pages, int num_queries) {
  Problem p;
  p.group = group;
  p.kv_heads = kv_heads;
  p.page_size = page_size;
  p.num_queries = num_queries;
  std::normal_distribution<double> n(0, 1);
  p.q.resize(size_t(num_queries) * group * kv_heads * p.dim);
  p.k.resize(size_t(num_pages) * page_size * kv_heads * p.dim);
  p.v.resize(p.k.size());
  for (double& x : p.q) x = n(rng);
  for (double& x : p.k) x = n(rng);
  for (double& x : p.v) x = n(rng);
  p.visible.resize(num_queries);
  return p;
}

// Distinct shuffled page ids for a span of `len` tokens, appended to the plan's page list.
int32_t add_pages(Problem& p, std::vector<int32_t>& pool, int len) {
  const int32_t at = int32_t(p.pages.size());
  for (int i = 0; i < (len + p.page_size - 1) / p.page_size; ++i) {
    p.pages.push_back(pool.back());
    pool.pop_back();
  }
  return at;
}

ptk::PlanShape shape_of(const Problem& p, ptk::Variant v, int target, int max_items = 4096) {
  const ptk::VariantShape s = ptk::variant_shape(v);
  return ptk::PlanShape{p.group, p.kv_heads, s.rows, s.tile_tokens, target, max_items, 256};
}

// The decode variant's shape as the C ABI makes it: whole pages, several queries per item only
// over a span that several queries see (cascade items).
ptk::PlanShape decode_shape(int group, int kv_heads, int page_size, int grid) {
  const ptk::VariantShape s = ptk::variant_shape(ptk::Variant::kDecode);
  return ptk::PlanShape{group, kv_heads, s.rows, s.tile_tokens, grid, 4096, s.min_chunk, page_size};
}

std::vector<int32_t> shuffled_pool(std::mt19937& rng, int n) {
  std::vector<int32_t> pool(n);
  for (int i = 0; i < n; ++i) pool[i] = i;
  std::shuffle(pool.begin(), pool.end(), rng);
  return pool;
}

// Decode-shaped spans (one query each over its own pages) on the tile planner of the wide variant.
void decode(int group, int kv_heads, int page_size, std::vector<int> lens, int target) {
  std::mt19937 rng(lens.size() * 31 + target);
  int pages = 0;
  for (int L : lens) pages += (L + page_size - 1) / page_size;
  Problem p = make_problem(rng, group, kv_heads, page_size, pages + 2, int(lens.size()));
  std::vector<int32_t> pool = shuffled_pool(rng, pages + 2);
  std::vector<Span> spans;
  for (int b = 0; b < int(lens.size()); ++b) {
    const int32_t off = add_pages(p, pool, lens[b]);
    spans.push_back(Span{b, 1, off, lens[b], lens[b]});
    p.visible[b] = {{off, lens[b]}};
  }
  ptk::WorkPlan plan;
  std::string err;
  CHECK(ptk::plan_work(spans, p.num_queries, shape_of(p, ptk::Variant::kWide, target), &plan, &err));
  CHECK(plan.chunk_tokens % ptk::variant_shape(ptk::Variant::kWide).tile_tokens == 0);
  CHECK(run_plan(p, plan, ptk::Variant::kWide) < 1e-12);
}

// Requests with own pages (their queries the last qo tokens, causal) after a shared prefix.
void prefill(int group, int page_size, int prefix, std::vector<int> own, std::vector<int> qo, ptk::Variant v) {
  std::mt19937 rng(prefix + own.size());
  int pages = (prefix + page_size - 1) / page_size;
  for (int L : own) pages += (L + page_size - 1) / page_size;
  int nq = 0;
  for (int n : qo) nq += n;
  Problem p = make_problem(rng, group, 2, page_size, pages + 1, nq);
  std::vector<int32_t> pool = shuffled_pool(rng, pages + 1);
  std::vector<Span> spans;
  const int32_t prefix_at = add_pages(p, pool, prefix);
  if (prefix > 0) spans.push_back(Span{0, nq, prefix_at, prefix, prefix});
  for (int b = 0, q0 = 0; b < int(own.size()); q0 += qo[b], ++b) {
    const int32_t off = add_pages(p, pool, own[b]);
    spans.push_back(Span{q0, qo[b], off, own[b], own[b] - qo[b]});
    for (int i = 0; i < qo[b]; ++i) p.visible[q0 + i] = {{prefix_at, prefix}, {off, own[b] - qo[b] + i + 1}};
  }
  for (int target : {1, 8, 264}) {
    ptk::WorkPlan plan;
    std::string err;
    const ptk::PlanShape shape = v == ptk::Variant::kDecode ? decode_shape(group, 2, page_size, target) : shape_of(p, v, target);
    CHECK(ptk::plan_work(spans, nq, shape, &plan, &err));
    CHECK(run_plan(p, plan, v) < 1e-12);
  }
}

void limits() {
  std::mt19937 rng(3);
  Problem p = make_problem(rng, 6, 2, 16, 64, 3);
  std::vector<Span> spans = {{0, 1, 0, 1000, 1000}, {1, 1, 0, 1000, 1000}, {2, 1, 0, 0, 0}};
  ptk::WorkPlan plan;
  std::string err;
  // Large targets split finely, capped by max_items (chunks double until they fit).
  CHECK(ptk::plan_work(spans, 3, shape_of(p, ptk::Variant::kWide, 1000, 6), &plan, &err));
  CHECK(plan.items.size() <= 6 && plan.items.size() >= 2);
  CHECK(plan.chunk_tokens >= 256);
  // One chunk per span is the least: fewer items than spans with keys is an error, with a message.
  CHECK(!ptk::plan_work(spans, 3, shape_of(p, ptk::Variant::kWide, 1000, 1), &plan, &err));
  CHECK(err.find("max_work_items") != std::string::npos);
  // An empty sequence has no work and an empty merge list (its output: o = 0, lse = -inf).
  CHECK(ptk::plan_work(spans, 3, shape_of(p, ptk::Variant::kWide, 4), &plan, &err));
  CHECK(plan.merge_indptr[2 * 2] == plan.merge_indptr[3 * 2]);
  // On the decode variant it gets one empty item instead: that kernel merges in the block that
  // finishes a query's items last, so without an item its o and lse would never be written.
  CHECK(ptk::plan_work(spans, 3, decode_shape(6, 2, 16, 4), &plan, &err));
  int empty = 0;
  for (const ptk::WorkItem& it : plan.items) empty += it.q_begin == 2 && it.kv_begin == 0 && it.kv_end == 0;
  CHECK(empty == 1);
  for (int h = 0; h < 2; ++h) CHECK(plan.merge_indptr[2 * 2 + h + 1] - plan.merge_indptr[2 * 2 + h] == 1);
  // ... and a plan where no query sees a key is one empty item per query, not none.
  const std::vector<Span> none = {{0, 1, 0, 0, 0}, {1, 1, 0, 0, 0}};
  CHECK(ptk::plan_work(none, 2, decode_shape(6, 2, 16, 4), &plan, &err));
  CHECK(plan.items.size() == 2 && plan.merge_indptr[2 * 2] == 4);
  // 2 long sequences x 2 kv heads on 132 blocks: about one chunk per block.
  std::vector<Span> two = {{0, 1, 0, 32768, 32768}, {1, 1, 0, 32768, 32768}};
  CHECK(ptk::plan_work(two, 2, shape_of(p, ptk::Variant::kWide, 132), &plan, &err));
  CHECK(plan.items.size() * 2 <= 132 && plan.items.size() * 2 >= 100);
}

// Phase-1 steps on the decode variant: P paths of one query each over the prompt (one span for all
// of them) and their own pages; the plan's chunks are whole pages, and the prompt's items are
// cascade items of as many paths as fit, so that the prompt is read once per block of paths.
void decode_phase1(int group, int page_size, int prompt, std::vector<int> own, int grid) {
  std::mt19937 rng(prompt + own.size() * 7 + grid);
  const int P = int(own.size());
  int pages = (prompt + page_size - 1) / page_size;
  for (int L : own) pages += (L + page_size - 1) / page_size;
  Problem p = make_problem(rng, group, 2, page_size, pages + 1, P);
  std::vector<int32_t> pool = shuffled_pool(rng, pages + 1);
  std::vector<Span> spans;
  const int32_t prompt_at = add_pages(p, pool, prompt);
  if (prompt > 0) spans.push_back(Span{0, P, prompt_at, prompt, prompt});
  for (int b = 0; b < P; ++b) {
    const int32_t off = add_pages(p, pool, own[b]);
    spans.push_back(Span{b, 1, off, own[b], own[b] - 1});
    p.visible[b] = {{prompt_at, prompt}, {off, own[b]}};
  }
  ptk::WorkPlan plan;
  std::string err;
  CHECK(ptk::plan_work(spans, P, decode_shape(group, 2, page_size, grid), &plan, &err));
  const int per_item = ptk::variant_shape(ptk::Variant::kDecode).rows / group;
  int64_t prompt_keys = 0;
  for (const ptk::WorkItem& it : plan.items) {
    CHECK(it.kv_begin % page_size == 0);
    if (prompt > 0 && it.page_offset == prompt_at) {
      CHECK(it.q_begin % per_item == 0 && it.q_count == std::min(per_item, P - it.q_begin));
      prompt_keys += it.kv_end - it.kv_begin;
    } else {
      CHECK(it.q_count == 1);
    }
  }
  CHECK(prompt_keys == int64_t(prompt) * ((P + per_item - 1) / per_item));
  CHECK(run_plan(p, plan, ptk::Variant::kDecode) < 1e-12);
}

// The balance promised in planner.h, for the model's decode steps (group 6, 2 kv heads, pages of
// 16, 132 SMs x 2 blocks): P paths of one query over their own pages (odd lengths included),
// contexts up to 32K.
void decode_balance() {
  const int grid = 264, ps = 16;
  const ptk::PlanShape shape = decode_shape(6, 2, ps, grid);
  double worst = 0;
  for (int P = 1; P <= 16; ++P)
    for (int ctx : {1, 17, 100, 1000, 1024, 1500, 3001, 4096, 5000, 9999, 16384, 20001, 32768}) {
      std::vector<Span> spans;
      for (int b = 0; b < P; ++b) {
        const int len = std::max(1, ctx - 13 * b);  // lengths differ by path
        spans.push_back(Span{b, 1, 0, len, len - 1});
      }
      ptk::WorkPlan plan;
      std::string err;
      CHECK(ptk::plan_work(spans, P, shape, &plan, &err));
      const int64_t makespan = ptk::plan_makespan(plan, shape), ideal = ptk::plan_ideal(spans, shape);
      if (ideal >= 12 * ps) {
        const double tail = double(makespan) / double(ideal) - 1;
        worst = std::max(worst, tail);
        CHECK(tail <= 0.10);
      } else {
        CHECK(makespan <= ideal + 2 * ps);
      }
    }
  CHECK(worst > 0 && worst <= 0.10);
}

// A ragged batch over a segment table: segment s has seg_lens[s] tokens on distinct shuffled pages,
// or, where alias[s] >= 0, the first seg_lens[s] tokens of segment alias[s]'s pages (the same pages
// listed again). Group g lists the segments groups[g] (its own last) and has queries[g] queries.
// Fills p.pages with the segment table and p.visible from the definition.
ptk::RaggedBatch ragged_problem(std::mt19937& rng, Problem& p, const std::vector<int>& seg_lens, const std::vector<int>& alias,
                                const std::vector<std::vector<int32_t>>& groups, const std::vector<int>& queries) {
  int pages = 0;
  for (int L : seg_lens) pages += (L + p.page_size - 1) / p.page_size;
  std::vector<int32_t> pool = shuffled_pool(rng, pages);
  ptk::RaggedBatch b;
  b.seg_indptr = {0};
  for (size_t s = 0; s < seg_lens.size(); ++s) {
    if (alias[s] < 0) {
      add_pages(p, pool, seg_lens[s]);
    } else {
      const int32_t at = b.seg_indptr[alias[s]];
      for (int i = 0; i < (seg_lens[s] + p.page_size - 1) / p.page_size; ++i) p.pages.push_back(p.pages[at + i]);
    }
    b.seg_indptr.push_back(int32_t(p.pages.size()));
  }
  b.lens.assign(seg_lens.begin(), seg_lens.end());
  b.pages = p.pages;
  b.qo_indptr = {0};
  b.group_indptr = {0};
  for (size_t g = 0; g < groups.size(); ++g) {
    const int32_t q0 = b.qo_indptr.back(), own = groups[g].back();
    for (int i = 0; i < queries[g]; ++i) {
      for (size_t j = 0; j + 1 < groups[g].size(); ++j)
        p.visible[q0 + i].push_back({b.seg_indptr[groups[g][j]], seg_lens[groups[g][j]]});
      p.visible[q0 + i].push_back({b.seg_indptr[own], seg_lens[own] - queries[g] + i + 1});
    }
    b.group_segments.insert(b.group_segments.end(), groups[g].begin(), groups[g].end());
    b.group_indptr.push_back(int32_t(b.group_segments.size()));
    b.qo_indptr.push_back(q0 + queries[g]);
  }
  return b;
}

int spans_over(const std::vector<Span>& spans, int32_t page_offset, int32_t q_count) {
  int n = 0;
  for (const Span& s : spans) n += s.page_offset == page_offset && s.q_count == q_count;
  return n;
}

// Continuous batching: a prefill chunk of request C (5 of its 21 tokens), phase-1 rows of A's 3
// paths over A's prompt, A's summary row over A's prompt and paths, B's 2 paths over B's prompt.
// Segments: 0 C, 1 A prompt, 2-4 A paths, 5 B prompt, 6-7 B paths, 8 A summary.
void ragged_mixed(int c_queries, ptk::Variant v) {
  std::mt19937 rng(c_queries * 11);
  const std::vector<int> lens = {21, 37, 3, 18, 9, 29, 17, 1, 6}, alias(9, -1);
  const std::vector<std::vector<int32_t>> groups = {{0}, {1, 2}, {1, 3}, {1, 4}, {1, 2, 3, 4, 8}, {5, 6}, {5, 7}};
  const std::vector<int> queries = {c_queries, 1, 1, 1, 1, 1, 1};
  const int nq = c_queries + 6;
  Problem p = make_problem(rng, 6, 2, 16, 16, nq);
  const ptk::RaggedBatch b = ragged_problem(rng, p, lens, alias, groups, queries);
  CHECK(ptk::ragged_variant(b) == v);
  const std::vector<Span> spans = ptk::ragged_spans(b);
  // One span per (group, segment), except A's prompt: one for A's 4 groups, and B's: one for 2.
  CHECK(spans.size() == 12);
  CHECK(spans_over(spans, b.seg_indptr[1], 4) == 1);
  CHECK(spans_over(spans, b.seg_indptr[5], 2) == 1);
  for (int target : {1, 8, 264}) {
    ptk::WorkPlan plan;
    std::string err;
    const ptk::PlanShape shape = v == ptk::Variant::kDecode ? decode_shape(6, 2, 16, target) : shape_of(p, v, target);
    CHECK(ptk::plan_work(spans, nq, shape, &plan, &err));
    CHECK(run_plan(p, plan, v) < 1e-12);
  }
}

// What counts as the same visible segment: the same pages and length, whatever its entry in the
// table, in consecutive groups with queries; groups without queries in between do not interrupt.
void ragged_sharing() {
  std::mt19937 rng(5);
  // 0 A prompt, 1 B prompt, 2-5 paths, 6 A prompt listed again, 7 A prompt's first 20 tokens.
  const std::vector<int> lens = {40, 23, 5, 7, 9, 11, 40, 20}, alias = {-1, -1, -1, -1, -1, -1, 0, 0};
  const std::vector<std::vector<int32_t>> groups = {{0, 2}, {1, 3}, {0, 4}, {6, 5}, {7, 3}, {1, 4}, {0, 5}};
  const std::vector<int> queries = {1, 1, 1, 0, 1, 0, 1};
  Problem p = make_problem(rng, 4, 2, 16, 16, 5);
  const ptk::RaggedBatch b = ragged_problem(rng, p, lens, alias, groups, queries);
  const std::vector<Span> spans = ptk::ragged_spans(b);
  // A (q0), B (q1), A again (q2): three prompt spans; group 3 (entry 6, no queries) passes; the
  // 20-token prefix of A (q3) is another segment; group 5 has no queries; A (q4) after the prefix
  // group is a new span. Own spans: one per group with queries.
  CHECK(spans.size() == 5 + 5);
  CHECK(spans_over(spans, b.seg_indptr[0], 1) == 3 && spans_over(spans, b.seg_indptr[7], 1) == 1);
  // Entry 6 continues entry 0's span (same pages, same length) across the group without queries.
  const std::vector<std::vector<int32_t>> alike = {{0, 2}, {6, 3}, {6, 5}, {0, 4}};
  Problem p2 = make_problem(rng, 4, 2, 16, 16, 3);
  const ptk::RaggedBatch b2 = ragged_problem(rng, p2, lens, alias, alike, {1, 1, 0, 1});
  const std::vector<Span> spans2 = ptk::ragged_spans(b2);
  CHECK(spans2.size() == 1 + 3 && spans_over(spans2, b2.seg_indptr[0], 3) == 1);
  for (auto [prob, batch] : {std::pair{&p, &b}, std::pair{&p2, &b2}}) {
    ptk::WorkPlan plan;
    std::string err;
    CHECK(ptk::plan_work(ptk::ragged_spans(*batch), batch->num_queries(), shape_of(*prob, ptk::Variant::kWide, 16), &plan, &err));
    CHECK(run_plan(*prob, plan, ptk::Variant::kWide) < 1e-12);
  }
}

// The balance of planner.h for ragged decode steps of the model (group 6, 2 kv heads, pages of 16,
// 264 blocks): R requests with prompts of different lengths, P paths each, one phase-1 row per path.
void ragged_balance() {
  const int grid = 264, ps = 16;
  const ptk::PlanShape shape = decode_shape(6, 2, ps, grid);
  double worst = 0;
  for (int R : {2, 3, 4})
    for (int P : {1, 2, 4, 8})
      for (int ctx : {17, 300, 1000, 3001, 9999, 20001}) {
        if (R * P > 16) continue;
        std::vector<int> lens, alias;
        std::vector<std::vector<int32_t>> groups;
        for (int r = 0; r < R; ++r) {
          const int32_t prompt = int32_t(lens.size());
          lens.push_back(std::max(1, ctx / (r + 1) - 7 * r));
          for (int i = 0; i < P; ++i) {
            groups.push_back({prompt, int32_t(lens.size())});
            lens.push_back(1 + (ctx / 3 + 37 * i) % (ctx + 1));
          }
        }
        alias.assign(lens.size(), -1);
        std::mt19937 rng(R * 100 + P);
        Problem p = make_problem(rng, 1, 1, ps, 1, R * P);  // tables only: no keys are read here
        const ptk::RaggedBatch b = ragged_problem(rng, p, lens, alias, groups, std::vector<int>(R * P, 1));
        CHECK(ptk::ragged_variant(b) == ptk::Variant::kDecode);
        const std::vector<Span> spans = ptk::ragged_spans(b);
        ptk::WorkPlan plan;
        std::string err;
        CHECK(ptk::plan_work(spans, R * P, shape, &plan, &err));
        const int64_t makespan = ptk::plan_makespan(plan, shape), ideal = ptk::plan_ideal(spans, shape);
        if (ideal >= 12 * ps) {
          const double tail = double(makespan) / double(ideal) - 1;
          worst = std::max(worst, tail);
          CHECK(tail <= 0.10);
        } else {
          CHECK(makespan <= ideal + 2 * ps);
        }
      }
  CHECK(worst > 0 && worst <= 0.10);
}

}  // namespace

int main() {
  decode(6, 2, 16, {1, 16, 17, 5, 40, 33}, 264);
  decode(6, 2, 16, {300, 129, 0, 2000}, 264);
  decode(6, 2, 16, {3000}, 8);
  decode(1, 4, 4, {70, 1, 9}, 264);
  decode(8, 1, 16, {513}, 2);
  prefill(6, 16, 0, {37}, {37}, ptk::Variant::kWide);
  prefill(6, 16, 32, {1, 1, 1}, {1, 1, 1}, ptk::Variant::kWide);
  prefill(6, 16, 32, {5, 17, 2}, {2, 17, 1}, ptk::Variant::kWide);
  prefill(6, 16, 48, {30}, {19}, ptk::Variant::kWide);
  prefill(6, 16, 2048, std::vector<int>(8, 700), std::vector<int>(8, 1), ptk::Variant::kWide);
  prefill(6, 16, 40, {600, 3}, {600, 2}, ptk::Variant::kWide);
  // One query in all runs the decode variant (ragged_variant): a one-token prefill, and a summary
  // (prefill-shaped spans: earlier segments in full, the own segment causal).
  prefill(4, 8, 100, {9}, {1}, ptk::Variant::kDecode);
  prefill(6, 16, 0, {48}, {1}, ptk::Variant::kDecode);
  limits();
  decode_phase1(6, 16, 48, {1, 2, 16, 17, 5, 32, 9, 24}, 264);
  decode_phase1(6, 16, 0, {3000}, 264);
  decode_phase1(6, 16, 35, {1000, 999, 7}, 12);
  decode_phase1(4, 8, 100, {9, 70}, 264);
  decode_phase1(1, 4, 13, {70, 1, 9}, 5);
  decode_phase1(6, 16, 29, {5, 1, 17, 31, 2, 16, 48, 9, 13, 3, 33, 20, 7, 15, 40, 11}, 264);  // 10 + 6 paths
  decode_phase1(8, 16, 61, {4, 9, 1, 30, 2, 7, 12, 5, 3}, 40);                                // 8 + 1
  decode_phase1(1, 16, 700, std::vector<int>(16, 3), 264);                                    // 16 in one
  decode_balance();
  ragged_mixed(5, ptk::Variant::kWide);
  ragged_mixed(1, ptk::Variant::kDecode);
  ragged_sharing();
  ragged_balance();
  return ptk_test_result("test_planner");
}
