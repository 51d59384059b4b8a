/*
 * ptk: the paged KV-cache layout and element types shared by the kernel operations.
 *
 * Caches (per layer, K and V alike): [num_pages, page_size, num_kv_heads, head_dim] bf16 (NHD);
 * the slot of a token is page * page_size + offset. Query head h reads kv head
 * h / (num_qo_heads / num_kv_heads). Device pointers must be 16-byte aligned.
 */
#ifndef PTK_KV_LAYOUT_H
#define PTK_KV_LAYOUT_H

#include "ptk/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ptk_kv_layout {
  int num_qo_heads; /* query heads; a multiple of num_kv_heads, at most 8 per kv head */
  int num_kv_heads;
  int head_dim;     /* 64 or 128 (others: PTK_ERR_UNSUPPORTED) */
  int page_size;    /* tokens per page, e.g. 16 */
  int num_pages;    /* pages in the pool; every page id must be below it */
} ptk_kv_layout;

typedef enum ptk_dtype {
  PTK_DTYPE_BF16 = 0,
  PTK_DTYPE_F32 = 1
} ptk_dtype;

#ifdef __cplusplus
}
#endif

#endif /* PTK_KV_LAYOUT_H */
