/*
 * ptk: fused thought embedding + rotary embedding + KV append (one launch per layer).
 *
 * Per token t: e = thought_table[segment_ids[t]] (none when the table is null);
 * k[h] += e and v[h] += e for every kv head; q and k rotated (neox rotate-half, plain or YaRN) at
 * positions[t]; q written to q_out [T, num_qo_heads, head_dim]; k and v written to cache slot
 * slot_mapping[t] unless it is -1.
 *
 * Plan once per step (host arrays: validated, then copied to the plan's device buffers on
 * `stream`), run once per layer. Runs allocate nothing and do not synchronize, so they can be
 * captured in a CUDA graph; a captured run follows later plan updates (the token count is read on
 * the device) as long as num_tokens stays within max_tokens. A decode step's qkv gemv can append
 * as it writes instead (ptk_gemv_rmsnorm_rope_append, decoder.h), with the same arithmetic.
 */
#ifndef PTK_ROPE_H
#define PTK_ROPE_H

#include <stdint.h>

#include "ptk/export.h"
#include "ptk/kv_layout.h"
#include "ptk/ptk.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ptk_rope_config {
  double theta;             /* RoPE base, 10000 for Qwen2 */
  double yarn_factor;       /* 1 = plain RoPE; > 1 = YaRN with the fields below */
  int yarn_original_max;    /* YaRN original context length (9280 for ParaThinker) */
  double beta_fast;         /* 32 */
  double beta_slow;         /* 1 */
} ptk_rope_config;

typedef struct ptk_rope_plan ptk_rope_plan;

/* A plan for up to max_tokens tokens per step, segment ids below max_segments. Host only. */
PTK_API ptk_status ptk_rope_plan_create(const ptk_kv_layout* layout, const ptk_rope_config* rope, int max_segments,
                                        int max_tokens, ptk_rope_plan** plan);

/* Frees the plan and its device buffers (null is allowed). */
PTK_API void ptk_rope_plan_destroy(ptk_rope_plan* plan);

/* Validates the step's per-token host arrays (positions >= 0, segment ids in [0, max_segments),
 * slots in [-1, num_pages * page_size)) and copies them to the plan's device buffers on `stream`,
 * in one copy from the plan's pinned staging memory. The host arrays may be reused when this
 * returns. An update first waits until the previous update's copy has run (it reads the same
 * staging memory), so updating twice without running the stream in between blocks until it does. */
PTK_API ptk_status ptk_rope_plan_update(ptk_rope_plan* plan, int num_tokens, const int32_t* positions,
                                        const int32_t* segment_ids, const int32_t* slot_mapping, void* stream);

/* One layer: qkv [T, (num_qo_heads + 2 num_kv_heads) head_dim] bf16 (bias added), thought_table
 * [max_segments, head_dim] bf16 or null, q_out [T, num_qo_heads, head_dim] bf16, caches as in
 * kv_layout.h. */
PTK_API ptk_status ptk_rope_append(const ptk_rope_plan* plan, const void* qkv, const void* thought_table, void* q_out,
                                   void* k_cache, void* v_cache, void* stream);

#ifdef __cplusplus
}
#endif

#endif /* PTK_ROPE_H */
