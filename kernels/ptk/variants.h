// The two attention kernels, as the host planner sees them. attention.cuh and decode_attention.cuh
// check that their compile-time configurations match.
//   wide:   4 warps of 16 rows on the tensor cores over one 32-key tile, up to 64 rows (several
//           queries x group; attention.cuh): prefill and shared-prefix passes, where every K/V
//           tile in shared memory serves all the queries of the item.
//   decode: steps of one query per group (decode_attention.cuh). An item of one query holds its
//           group (up to 8 rows), K/V straight from memory into registers; an item of several
//           queries over a segment they all see in full (the cascade: P paths over their prompt)
//           is a wide item (up to 64 rows, tensor cores), so the segment is read once for them all.
//           Chunks are whole pages sized so that the work fills two blocks per multiprocessor in
//           one balanced wave (planner.h).
#pragma once

namespace ptk {

// The values are the C ABI's ptk_attention_variant (attention.h; attention.cpp checks).
enum class Variant : int { kWide = 1, kDecode = 2 };

struct VariantShape {
  int rows;           // query rows (query x head) per work item
  int tile_tokens;    // keys per shared-memory tile; chunks are multiples of it (decode: of a page)
  int blocks_per_sm;  // resident blocks per multiprocessor the persistent grid assumes
  int min_chunk;      // wide: two tiles (the copy of one overlaps the math of the other);
                      // decode: fewer keys than this are not worth a partial state
};

constexpr VariantShape variant_shape(Variant v) {
  return v == Variant::kWide ? VariantShape{64, 32, 2, 64} : VariantShape{64, 1, 2, 64};
}

constexpr int kMaxGroup = 8;  // query heads per kv head: a one-query decode item holds its group

}  // namespace ptk
