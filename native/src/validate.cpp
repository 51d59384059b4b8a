#include "validate.h"

#include "ptk/page_table.h"
#include "ptk/variants.h"

namespace ptk {

ptk_status check_layout(const ptk_kv_layout* layout) {
  PTK_REQUIRE_NOT_NULL(layout);
  const ptk_kv_layout& l = *layout;
  PTK_REQUIRE(l.num_kv_heads > 0, "layout->num_kv_heads must be positive (got %d)", l.num_kv_heads);
  PTK_REQUIRE(l.num_qo_heads > 0 && l.num_qo_heads % l.num_kv_heads == 0,
              "layout->num_qo_heads (%d) must be a positive multiple of num_kv_heads (%d)", l.num_qo_heads,
              l.num_kv_heads);
  PTK_REQUIRE(l.num_qo_heads / l.num_kv_heads <= kMaxGroup,
              "layout->num_qo_heads / num_kv_heads (%d) must be at most %d", l.num_qo_heads / l.num_kv_heads,
              kMaxGroup);
  PTK_REQUIRE(l.page_size > 0, "layout->page_size must be positive (got %d)", l.page_size);
  PTK_REQUIRE(l.num_pages > 0, "layout->num_pages must be positive (got %d)", l.num_pages);
  PTK_REQUIRE(int64_t(l.num_pages) * l.page_size <= INT32_MAX,
              "layout->num_pages * page_size (%lld) must fit in int32 slots", (long long)l.num_pages * l.page_size);
  if (l.head_dim != 64 && l.head_dim != 128)
    return fail(PTK_ERR_UNSUPPORTED, "layout->head_dim %d has no kernel (64 and 128 do)", l.head_dim);
  return PTK_OK;
}

ptk_status check_pages(const char* name, int n, const int32_t* pages, const ptk_kv_layout& layout) {
  PTK_REQUIRE(n == 0 || pages != nullptr, "%s must not be null", name);
  for (int i = 0; i < n; ++i)
    PTK_REQUIRE(pages[i] >= 0 && pages[i] < layout.num_pages, "%s[%d] = %d is not a page of the pool (num_pages %d)",
                name, i, pages[i], layout.num_pages);
  return PTK_OK;
}

ptk_status check_csr(const char* indptr_name, int n, const int32_t* indptr, const int32_t* indices,
                     const int32_t* last_page_len, const ptk_kv_layout& layout, int max_pages,
                     std::vector<int32_t>* lens) {
  PTK_REQUIRE(indptr != nullptr, "%s must not be null", indptr_name);
  PTK_REQUIRE(n == 0 || last_page_len != nullptr, "last_page_len must not be null");
  PTK_REQUIRE(indptr[0] == 0, "%s[0] must be 0 (got %d)", indptr_name, indptr[0]);
  for (int b = 0; b < n; ++b)
    PTK_REQUIRE(indptr[b + 1] >= indptr[b], "%s must not decrease ([%d] = %d < [%d] = %d)", indptr_name, b + 1,
                indptr[b + 1], b, indptr[b]);
  PTK_REQUIRE(indptr[n] <= max_pages, "%s[%d] = %d pages exceed the plan's max_pages (%d)", indptr_name, n, indptr[n],
              max_pages);
  PTK_REQUIRE(indptr[n] == 0 || indices != nullptr, "indices must not be null");
  for (int i = 0; i < indptr[n]; ++i)
    PTK_REQUIRE(indices[i] >= 0 && indices[i] < layout.num_pages,
                "indices[%d] = %d is not a page of the pool (num_pages %d)", i, indices[i], layout.num_pages);
  lens->resize(n);
  for (int b = 0; b < n; ++b) {
    const int32_t pages = indptr[b + 1] - indptr[b];
    if (pages == 0) {
      PTK_REQUIRE(last_page_len[b] == 0, "last_page_len[%d] = %d but entry %d has no pages", b, last_page_len[b],
                  b);
    } else {
      PTK_REQUIRE(last_page_len[b] >= 1 && last_page_len[b] <= layout.page_size,
                  "last_page_len[%d] = %d is outside [1, page_size = %d]", b, last_page_len[b], layout.page_size);
    }
    (*lens)[b] = csr_length(pages, last_page_len[b], layout.page_size);
  }
  return PTK_OK;
}

}  // namespace ptk
