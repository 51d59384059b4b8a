/*
 * ptk: paged attention (decode, multi-path prefill, cross-path summary, and ragged batches of all
 * of them at once) and the merge of attention states.
 *
 * An attention state of a query row over a set of keys is (o, lse): o the softmax-weighted mean of
 * the values, lse = ln(sum_j exp(sm_scale q.k_j)) (natural log); no keys gives o = 0, lse = -inf.
 * Outputs: o [num_queries, num_qo_heads, head_dim] (bf16 or f32), lse [num_queries, num_qo_heads]
 * f32.
 *
 * Plan, then run. A plan call takes the page tables as HOST arrays (CSR, int32), validates every
 * entry (page ids within the pool, lengths within the tables, counts within the plan's limits),
 * splits the work over the GPU (split-KV, shared prefixes read once per tile for all their
 * queries) and copies the work list to the plan's device buffers on `stream`. A run call, once
 * per layer, only launches: no allocation, no synchronization, so it can be captured in a CUDA
 * graph; the launches read the work list from device memory, so a captured run follows later plan
 * calls of any kind with the same kernel variant (ptk_attention_plan_info.variant: DECODE when
 * every group — decode sequence, prefill request, the summary — has exactly one query, or there
 * is at most one query in all; else WIDE). Plan and run on one stream (or order them): a plan call
 * overwrites buffers that earlier runs read, and two runs of one plan must not overlap (they share
 * its partial states and, on DECODE, the counters by which the kernel merges them itself: a DECODE
 * run is one launch, a WIDE run an attention launch and a merge launch).
 * Without CUDA in the build, plan calls still validate and plan (see ptk_attention_plan_info) and
 * then return PTK_ERR_NO_CUDA; runs return PTK_ERR_NO_CUDA.
 */
#ifndef PTK_ATTENTION_H
#define PTK_ATTENTION_H

#include <stdint.h>

#include "ptk/export.h"
#include "ptk/kv_layout.h"
#include "ptk/ptk.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ptk_plan_limits {
  int max_queries;          /* query rows per run (decode: sequences; prefill: tokens) */
  int max_sequences;        /* sequences, requests or segments per plan */
  int max_pages;            /* page-table entries per plan (all tables together) */
  int max_work_items;       /* 0 = 1024; partial states take max_work_items * 64 * kv_heads * (head_dim + 1) floats */
  int num_multiprocessors;  /* 0 = from device 0 (132 when there is none) */
} ptk_plan_limits;

typedef struct ptk_attention_plan ptk_attention_plan;

/* The kernel a plan runs. */
typedef enum ptk_attention_variant {
  PTK_ATTENTION_WIDE = 1,   /* up to 64 query rows per item on the tensor cores, K/V tiles in shared
                               memory serve them all */
  PTK_ATTENTION_DECODE = 2  /* items of one query (its heads of one kv head), and, over a segment that
                               consecutive groups see in full (a request's prompt in a phase-1
                               step), items of up to 64 rows of their queries on the tensor cores,
                               so that the segment is read once for them all (cascade); chunks are
                               whole pages balanced over the grid */
} ptk_attention_variant;

typedef struct ptk_attention_plan_info {
  int num_queries;
  int num_work_items;  /* blocks of (queries x kv chunk); each runs once per kv head */
  int chunk_tokens;    /* keys per chunk (split-KV granularity) */
  int variant;         /* a ptk_attention_variant */
  int grid;            /* persistent attention blocks per launch */
} ptk_attention_plan_info;

/* A plan for `layout` within `limits`. Host only; device buffers come with the first plan call. */
PTK_API ptk_status ptk_attention_plan_create(const ptk_kv_layout* layout, const ptk_plan_limits* limits,
                                             ptk_attention_plan** plan);

/* Frees the plan and its device buffers (null is allowed). */
PTK_API void ptk_attention_plan_destroy(ptk_attention_plan* plan);

/* Decode: sequence b (0 <= b < batch) has query row b and pages indices[indptr[b] .. indptr[b+1]),
 * the last holding last_page_len[b] tokens (0 for a sequence without pages); it attends to all of
 * them (its own new key included). */
PTK_API ptk_status ptk_attention_plan_decode(ptk_attention_plan* plan, int batch, const int32_t* indptr,
                                             const int32_t* indices, const int32_t* last_page_len, void* stream);

/* Multi-path prefill: request b has query rows qo_indptr[b] .. qo_indptr[b+1]; every query sees
 * the shared prefix (prefix_len tokens in prefix_indices, ceil(prefix_len / page_size) pages, may
 * be 0) in full, and its request's own pages (CSR as in decode) causally: the request's queries
 * are the last qo_len tokens of its own table, query i seeing own tokens 0 .. own_len - qo_len + i.
 * Phase 1 of ParaThinker is this with one query per path and the prompt as prefix. */
PTK_API ptk_status ptk_attention_plan_prefill(ptk_attention_plan* plan, int batch, const int32_t* qo_indptr,
                                              const int32_t* prefix_indices, int prefix_len, const int32_t* indptr,
                                              const int32_t* indices, const int32_t* last_page_len, void* stream);

/* Summary: num_segments segments as one CSR table (seg_indptr, indices, last_page_len); the last
 * is the summary's own and the num_queries queries are its last tokens, causal among themselves;
 * every query sees every earlier segment in full. */
PTK_API ptk_status ptk_attention_plan_summary(ptk_attention_plan* plan, int num_segments, const int32_t* seg_indptr,
                                              const int32_t* indices, const int32_t* last_page_len, int num_queries,
                                              void* stream);

/* Ragged: any mix of the above in one plan (continuous batching: prefill chunks of several prompts,
 * phase-1 rows of paths of different requests, summary rows). Group g (0 <= g < num_groups) has
 * query rows qo_indptr[g] .. qo_indptr[g+1] (may be none) and the segments
 * group_segments[group_indptr[g] .. group_indptr[g+1]) — at least one, each at most once — of a
 * table of num_segments segments, CSR as in decode (seg_indptr, indices, last_page_len). Every
 * segment of the group but the last is seen in full; the last is the group's own, seen causally:
 * the group's queries are its last qo_len tokens, query i seeing own tokens 0 .. own_len - qo_len + i.
 * A segment may be listed by many groups (a prompt by its request's paths and summary, a path as a
 * group's own and in its summary's list). Where consecutive groups (with queries) see a segment
 * with the same pages and length, its tiles are read once for the queries of all of them, as a
 * prefill's prefix. Limits: num_groups and num_segments at most max_sequences, qo_indptr[num_groups]
 * at most max_queries, seg_indptr[num_segments] at most max_pages.
 * Decode is the case of one query per group over its own segment only; prefill, every group over
 * [prefix, own]; summary, one group over all segments. */
PTK_API ptk_status ptk_attention_plan_ragged(ptk_attention_plan* plan, int num_groups, const int32_t* qo_indptr,
                                             const int32_t* group_indptr, const int32_t* group_segments,
                                             int num_segments, const int32_t* seg_indptr, const int32_t* indices,
                                             const int32_t* last_page_len, void* stream);

/* What the last successful plan call planned. */
PTK_API ptk_status ptk_attention_plan_info_get(const ptk_attention_plan* plan, ptk_attention_plan_info* info);

/* One layer: q [num_queries, num_qo_heads, head_dim] bf16, caches as in kv_layout.h, o in o_dtype,
 * lse f32. sm_scale 0 means 1/sqrt(head_dim). */
PTK_API ptk_status ptk_attention_run(const ptk_attention_plan* plan, const void* q, const void* k_cache,
                                     const void* v_cache, float sm_scale, void* o, ptk_dtype o_dtype, float* lse,
                                     void* stream);

/* Merges two states of `rows` rows (e.g. queries x heads) of head_dim floats:
 * lse = ln(e^lse_a + e^lse_b), o = e^(lse_a - lse) o_a + e^(lse_b - lse) o_b. o and lse may alias
 * o_a/lse_a or o_b/lse_b. */
PTK_API ptk_status ptk_merge_states(const float* o_a, const float* lse_a, const float* o_b, const float* lse_b,
                                    float* o, float* lse, int rows, int head_dim, void* stream);

#ifdef __cplusplus
}
#endif

#endif /* PTK_ATTENTION_H */
