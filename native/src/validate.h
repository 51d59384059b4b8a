// Host-side argument checks shared by the kernel operations. Each returns PTK_OK or
// PTK_ERR_INVALID_ARGUMENT / PTK_ERR_UNSUPPORTED with a message naming the argument.
#pragma once
#include <stdint.h>

#include <vector>

#include "error.h"
#include "ptk/kv_layout.h"

namespace ptk {

// Heads that divide, a group the kernels hold, a compiled head dim, a pool that int32 slots index.
ptk_status check_layout(const ptk_kv_layout* layout);

// A CSR page table of n entries: indptr[0] = 0, non-decreasing, indptr[n] <= max_pages, every page
// id in [0, num_pages), last_page_len in [1, page_size] (0 for an entry without pages). `lens`
// receives each entry's token count. Messages name the arrays indptr_name, indices, last_page_len.
ptk_status check_csr(const char* indptr_name, int n, const int32_t* indptr, const int32_t* indices,
                     const int32_t* last_page_len, const ptk_kv_layout& layout, int max_pages,
                     std::vector<int32_t>* lens);

// Page ids of a plain list (e.g. a shared prefix).
ptk_status check_pages(const char* name, int n, const int32_t* pages, const ptk_kv_layout& layout);

inline bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

}  // namespace ptk

// A device pointer that must be non-null and 16-byte aligned (vector loads and stores).
#define PTK_REQUIRE_DEVICE_PTR(ptr)                                                   \
  do {                                                                                \
    PTK_REQUIRE_NOT_NULL(ptr);                                                        \
    PTK_REQUIRE(::ptk::aligned16(ptr), "%s must be 16-byte aligned", #ptr);           \
  } while (0)
