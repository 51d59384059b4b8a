// The work list that a host plan hands to the attention kernels. One work item is a block of
// queries (all query heads of one kv head, processed together) against one chunk of one span of
// keys; it yields one partial attention state per (query, head), merged afterwards.
#pragma once
#include <stdint.h>

namespace ptk {

struct WorkItem {
  int32_t q_begin;      // first query (row of q [num_queries, q_heads, head_dim])
  int32_t q_count;      // queries in this item; rows = q_count * group
  int32_t page_offset;  // the span's first page in the plan's page list
  int32_t kv_begin;     // first span token of this chunk
  int32_t kv_end;       // one past the last span token of this chunk
  int32_t causal_base;  // query i of the item sees span tokens t < causal_base + i + 1
  int32_t part_row;     // first partial-state row of this item; kv head h adds h * rows
};

// Counts that change per plan update, read by the kernels from device memory so that a launch
// captured in a CUDA graph stays valid when the plan is updated in place.
struct WorkCounts {
  int32_t num_work;     // work items * kv heads (one block iteration each)
  int32_t num_queries;  // rows of q and o
};

}  // namespace ptk
