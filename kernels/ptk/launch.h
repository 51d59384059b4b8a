// Host entry points into the kernels, free of CUDA headers so that the C ABI's host code (g++)
// can call them. Each returns a cudaError_t as int (0 = success). Arguments are validated by the
// caller (native/src); these only configure and launch, on `stream` (a cudaStream_t).
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "ptk/rope_freq.h"
#include "ptk/variants.h"
#include "ptk/work.h"

namespace ptk {

struct AttentionLaunch {
  Variant variant;
  int head_dim;
  int grid;                  // persistent blocks for the attention kernel
  int merge_grid;            // blocks for the merge kernel (the wide variant's)
  const WorkItem* items;
  const WorkCounts* counts;
  const int32_t* pages;
  const int32_t* merge_indptr;
  const int32_t* merge_rows;
  float* part_o;
  float* part_lse;
  int32_t* arrivals;         // [max queries * kv heads], zero between launches: the decode kernel's merge hand-off
  const void* q;
  const void* k_cache;
  const void* v_cache;
  int num_q_heads;
  int num_kv_heads;
  int page_size;
  float sm_scale;
  void* o;
  bool o_is_f32;
  float* lse;
};

// Head dims with compiled kernels.
bool attention_supports_head_dim(int head_dim);
int attention_launch(const AttentionLaunch& a, void* stream);
// A Variant::kDecode launch: attention and merge in one kernel.
int decode_attention_launch(const AttentionLaunch& a, void* stream);

int merge_states_launch(const float* o_a, const float* lse_a, const float* o_b, const float* lse_b, float* o,
                        float* lse, int rows, int head_dim, void* stream);

struct RopeAppendLaunch {
  int head_dim;
  int grid;
  const int32_t* num_tokens;
  const int32_t* positions;
  const int32_t* segment_ids;
  const int32_t* slot_mapping;
  const void* qkv;
  const void* thought_table;
  void* q_out;
  void* k_cache;
  void* v_cache;
  int num_q_heads;
  int num_kv_heads;
  RopeParams rope;
};

bool rope_supports_head_dim(int head_dim);
int rope_append_launch(const RopeAppendLaunch& a, void* stream);

}  // namespace ptk
