// What the qkv gemv that appends as it writes (decoder.cpp) needs of a rope plan (rope.cpp).
#pragma once
#include "ptk/rope.h"
#ifdef PTK_WITH_CUDA
#include "ptk/launch.h"
#endif

namespace ptk {

// The tokens of the plan's last update (0 before the first).
int rope_plan_tokens(const ptk_rope_plan* plan);

// Columns of the qkv rows the plan's layout appends: (num_qo_heads + 2 num_kv_heads) head_dim.
int rope_plan_qkv_width(const ptk_rope_plan* plan);

// What an append writes and reads besides qkv: q_out and the caches not null, all of them (and
// the thought table, which may be null) 2-byte aligned: the append stores bf16 elements one by one.
ptk_status check_append_pointers(const void* thought_table, const void* q_out, const void* k_cache,
                                 const void* v_cache);

#ifdef PTK_WITH_CUDA
// The launch arguments of an append with `plan` (qkv left null), after checking that the plan
// has a device copy; the pointers are the caller's, checked by it.
ptk_status rope_append_args(const ptk_rope_plan* plan, const void* thought_table, void* q_out, void* k_cache,
                            void* v_cache, RopeAppendLaunch* a);
#endif

}  // namespace ptk
