// Page-table walking: a span is a list of pages (ids into the pool) holding tokens 0..len-1 in
// order, page_size tokens per page; the caches are [num_pages, page_size, kv_heads, head_dim].
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "ptk/common.h"

namespace ptk {

// Tokens held by a CSR entry of `num_pages` pages whose last page holds `last_page_len` tokens.
PTK_HD int32_t csr_length(int32_t num_pages, int32_t last_page_len, int32_t page_size) {
  return num_pages == 0 ? 0 : (num_pages - 1) * page_size + last_page_len;
}

// Cache slot (page * page_size + offset) of token `t` of the span whose pages start at `pages`.
PTK_HD int64_t span_slot(const int32_t* pages, int32_t page_size, int32_t t) {
  return static_cast<int64_t>(pages[t / page_size]) * page_size + t % page_size;
}

// Element offset of (slot, kv head) in an NHD cache.
PTK_HD size_t cache_offset(int64_t slot, int32_t kv_head, int32_t num_kv_heads, int32_t head_dim) {
  return (static_cast<size_t>(slot) * num_kv_heads + kv_head) * head_dim;
}

}  // namespace ptk
