// Decode-shape matmul y[m, n] = sum_k x[m, k] w[n, k] (+ bias[n]) for M <= 16 rows: bf16 inputs,
// float accumulation, and the fused forms of the decoder's neighbours. Memory-bound on the weight,
// so every weight byte is read once, for all M rows, with several 16-byte loads in flight per lane.
//
// Fused forms. In: x is bf16 rows, or the RMSNorm of f32 residual rows, normed as they are staged
// (the scale from the residual's sums of squares in parts, gemv_layout.h). Out: f32 or bf16 (with
// bias); bf16(silu(gate) * up) straight from the stacked [gate | up] weight; added into the f32
// residual, each block then writing its part of the updated rows' sums of squares; or, for qkv,
// appended as ptk_rope_append appends (thought embedding, RoPE, q out and K/V into the cache),
// each block holding both dims of the pairs it rotates. So a decode layer's residual add, both
// norms and the append ride on the projections around them: no launch of their own.
//
// Layout (gemv_layout.h). A block of 8 warps owns a group of kGemvRows = 32 weight rows. A warp
// is 8 row slots x 4 lanes along k; two warps share a row's k, so every row is read by 8 lanes,
// each taking kGemvChunks 16-byte chunks per k slice of kGemvSlice values. The activations of one
// slice (M x slice) are staged once per block in shared memory. The first slice's weights are
// loaded before the activations are staged, and each next slice's while the current one is
// summed. Where the groups alone would not fill the chip, each group's slices are split among
// several blocks (gemv_splits); each writes its sums to the workspace, and the group's last block
// to arrive (arrival.cuh) adds them in split order and runs the epilogue, as a block that owns
// all of k runs it.
//
// Math (GemvMath), the same layout either way:
// - kMma: tensor cores. A warp's 8 rows x 32 of k (its lanes' chunks) are the B operand of two
//   m16n8k16 products whose A is the 16 staged rows (M padded to 16 with zeros), so the products
//   and the sum over the warp's 4 lanes along k are the tensor core's: a few instructions per
//   16 weight bytes at any M. Staged as bf16 (the inputs are bf16 values either way).
// - kFma: CUDA cores. Each lane unpacks its chunk and runs 8 FMAs per row against the staged f32
//   (each shared load broadcast to the warp's 8 slots), then the 4 lanes of a row are summed by a
//   butterfly: about 10 instructions per weight byte at 16 rows, which is what bounds it there.
//
// Determinism and batch invariance: a row's partial sums are taken over the same chunks in the
// same order whatever m is (rows past m are staged as zeros and never stored), the 4 lanes of a
// row are summed by a fixed butterfly (kFma) or by the tensor core, whose result for an element
// depends on that element's row and column alone (kMma), the warps of a row in warp order and
// the splits of a group in split order. The layout depends on n and k only (gemv_splits), so
// output row i is bit-identical for every m.
// The norm's scale of a row sums that row's parts in a fixed order too, and a block's part of the
// sums of squares runs over its columns in order.
#pragma once
#include <cuda_runtime.h>
#include <stdint.h>

#include "ptk/arrival.cuh"
#include "ptk/gemv_layout.h"
#include "ptk/mma.cuh"
#include "ptk/rmsnorm.cuh"
#include "ptk/rope_append.cuh"
#include "ptk/sampling_math.h"
#include "ptk/shared.cuh"
#include "ptk/vec.cuh"

namespace ptk {

constexpr int kGemvWarps = 8;
constexpr int kGemvThreads = kGemvWarps * 32;
constexpr int kGemvLanesPerSlot = 4;                     // lanes of a warp along k for one row
constexpr int kGemvSlotsPerWarp = 32 / kGemvLanesPerSlot;  // rows a warp reads at once
constexpr int kGemvChunks = 4;                           // 16-byte weight loads in flight per lane and slice

constexpr int kGemvWarpsPerRow = kGemvWarps / (kGemvRows / kGemvSlotsPerWarp);
constexpr int kGemvLanesPerRow = kGemvWarpsPerRow * kGemvLanesPerSlot;
static_assert(kGemvLanesPerRow * kGemvChunks * 8 == kGemvSlice, "a slice is each of a row's lanes' chunks of 8");
enum class GemvIn { kBf16, kRmsNorm };
enum class GemvOut { kF32, kBf16, kSiluMul, kAddResidual, kRopeAppend };
// The staged slice: f32 for the CUDA cores, bf16 for the tensor cores, whose rows are padded by
// 64 bytes so that the two rows each quarter of a warp's 16-byte loads reads fall in different
// banks.
template <GemvMath MATH>
struct GemvStaged;
template <>
struct GemvStaged<GemvMath::kFma> {
  using type = float;
  static constexpr int kPad = 0;
};
template <>
struct GemvStaged<GemvMath::kMma> {
  using type = uint16_t;
  static constexpr int kPad = 32;
};
template <GemvMath MATH>
constexpr int gemv_stride() { return kGemvSlice + GemvStaged<MATH>::kPad; }
// Dynamic shared memory: the staged slice, M_MAX rows (the partial sums and totals reuse it).
template <int M_MAX, GemvMath MATH>
constexpr size_t gemv_smem_bytes() {
  return size_t(M_MAX) * gemv_stride<MATH>() * sizeof(typename GemvStaged<MATH>::type);
}

// Forms whose outputs take two weight rows each: a group's first kGemvRows / 2 slots hold the
// first rows of its outputs, the other slots the second rows (SiLU: gate and up; RoPE: dims i,
// i + D/2). A group is kGemvRows weight rows either way.
template <GemvOut OUT>
constexpr bool gemv_paired() { return OUT == GemvOut::kSiluMul || OUT == GemvOut::kRopeAppend; }

// in: kBf16 reads x [m, k]; kRmsNorm reads bf16(residual * scale * norm_w), as ptk_add_rmsnorm
// writes it, with scale = 1 / sqrt(sum of the row's norm_parts(k) parts of sumsq / k + eps).
// out: y [m, n] f32 or bf16 with bias [n] or null; kSiluMul: w is [2 inter, k] (gate rows then
// up rows, n = 2 inter), y [m, inter] bf16 = bf16(silu(gate) * up), no bias; kAddResidual: y is
// the f32 residual [m, n], y += x w^T, then (sumsq_out not null) its parts [m, norm_parts(n)];
// kRopeAppend: w is qkv's [(Hq + 2 Hkv) head_dim, k], its bf16 outputs (bias added) appended as
// `append` says for the first m tokens (append.qkv unused), y unused. splits = gemv_splits(n,
// k); when above 1, split_sums and split_arrivals are the workspace's parts (gemv_layout.h).
struct GemvParams {
  const uint16_t* x;
  const float* residual;
  const float* sumsq;
  const uint16_t* norm_w;
  float eps;
  const uint16_t* w;
  const uint16_t* bias;
  void* y;
  float* sumsq_out;
  int m, n, k;
  RopeAppendParams append;
  int head_dim;
  int splits;
  float* split_sums;
  int* split_arrivals;
};

// The weight row of output j's first (second = false) or second row in a paired form.
template <GemvOut OUT>
__device__ __forceinline__ int gemv_paired_row(const GemvParams& p, int j, bool second) {
  if constexpr (OUT == GemvOut::kSiluMul) return second ? p.n / 2 + j : j;
  const int half = p.head_dim / 2;
  return (j / half) * p.head_dim + j % half + (second ? half : 0);
}

// The RMSNorm scale of each of the first m rows into scale[]: warp w sums rows w, w + 8, ...,
// each lane a strided share of the row's parts, then a fixed butterfly.
__device__ __forceinline__ void gemv_norm_scales(const GemvParams& p, float* scale) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, parts = norm_parts(p.k);
  for (int i = warp; i < p.m; i += kGemvWarps) {
    float s = 0.0f;
    for (int g = lane; g < parts; g += 32) s += p.sumsq[size_t(i) * parts + g];
    s = warp_sum(s);
    if (lane == 0) scale[i] = rms_scale(s, p.k, p.eps);
  }
}

// Chunk c of row i of the input (8 values, as the matmul reads them) into d (f32 or bf16): x's
// bf16, or the normed residual rounded to bf16 as ptk_add_rmsnorm rounds it (4 values at a time:
// fewer live registers, which the staging loop is short of).
template <GemvIn IN, class T>
__device__ __forceinline__ void gemv_stage(const GemvParams& p, const float* scale, int i, int c, T* d) {
  if constexpr (IN == GemvIn::kBf16 && sizeof(T) == 2) {
    *reinterpret_cast<uint4*>(d) = *reinterpret_cast<const uint4*>(p.x + size_t(i) * p.k + size_t(c) * 8);
  } else if constexpr (IN == GemvIn::kBf16) {
    float v[8];
    unpack_bf16x8(*reinterpret_cast<const uint4*>(p.x + size_t(i) * p.k + size_t(c) * 8), v);
    store4(d, v[0], v[1], v[2], v[3]);
    store4(d + 4, v[4], v[5], v[6], v[7]);
  } else {
    const float s = scale[i];
    // Rounded to bf16 once: by store4 into bf16 staging, here into f32 staging.
    auto normed = [s](float x, float w) {
      if constexpr (sizeof(T) == 2) {
        return rms_normed(x, s, w);
      } else {
        return bf16_to_float(float_to_bf16(rms_normed(x, s, w)));
      }
    };
#pragma unroll
    for (int h = 0; h < 8; h += 4) {
      const float4 x = *reinterpret_cast<const float4*>(p.residual + size_t(i) * p.k + size_t(c) * 8 + h);
      float w[4];
      load_bf16<4>(p.norm_w + size_t(c) * 8 + h, w);
      store4(d + h, normed(x.x, w[0]), normed(x.y, w[1]), normed(x.z, w[2]), normed(x.w, w[3]));
    }
  }
}

// A staged chunk of zeros (8 values, f32 or bf16).
template <class T>
__device__ __forceinline__ void gemv_stage_zeros(T* d) {
#pragma unroll
  for (int h = 0; h < int(8 * sizeof(T)); h += 16) {
    *reinterpret_cast<uint4*>(reinterpret_cast<char*>(d) + h) = uint4{0, 0, 0, 0};
  }
}

// Blocks per SM the register budget must allow, 0 for none. ptxas's own register target spilled a
// register or two in some norming variants and in some tensor-core ones; with a minimum of 1 they
// take what they need and do not spill (sm_80 and sm_90a with split-K: 66-128 registers on the
// CUDA cores, 66-79 on the tensor cores: 2 or more blocks per SM, 64 KiB of weight loads in flight
// per SM, several times what the memory latency asks for). The CUDA cores' bf16 variants keep
// ptxas's choice (48-80 registers).
template <GemvIn IN, GemvMath MATH>
constexpr int gemv_min_blocks() { return IN == GemvIn::kRmsNorm || MATH == GemvMath::kMma ? 1 : 0; }

// One slice on the CUDA cores: acc[i] += this lane's chunks of weight row `slot` . staged row i.
template <int M_MAX>
__device__ __forceinline__ void gemv_fma_slice(const uint4 (&wv)[kGemvChunks], const float* xs, int q,
                                               float (&acc)[M_MAX]) {
  constexpr int kSlice = kGemvSlice;
#pragma unroll
  for (int u = 0; u < kGemvChunks; ++u) {
    float wf[8];
    unpack_bf16x8(wv[u], wf);
    const float* xc = xs + (u * kGemvLanesPerRow + q) * 8;
#pragma unroll
    for (int i = 0; i < M_MAX; ++i) {
      const float4 a = *reinterpret_cast<const float4*>(xc + i * kSlice);
      const float4 b = *reinterpret_cast<const float4*>(xc + i * kSlice + 4);
      float t = acc[i];
      t = fmaf(wf[0], a.x, t);
      t = fmaf(wf[1], a.y, t);
      t = fmaf(wf[2], a.z, t);
      t = fmaf(wf[3], a.w, t);
      t = fmaf(wf[4], b.x, t);
      t = fmaf(wf[5], b.y, t);
      t = fmaf(wf[6], b.z, t);
      t = fmaf(wf[7], b.w, t);
      acc[i] = t;
    }
  }
}

// One slice on the tensor cores. Lane 4 g + t holds, for each u, a 16-byte chunk of its weight row
// (warp slot g); the 4 lanes t of a slot hold 4 chunks of k. In m16n8k16's B fragment (k x 8
// weight rows) that chunk's words x, y are column g at k 2t, 2t+1 and 2t+8, 2t+9 of one product,
// and z, w of a second: the tile's k is a permutation of the row's, which a dot product does not
// see as long as A (the staged rows g and g + 8) holds the same chunk in the same words. d: this
// lane's part of the warp's D, staged rows x the warp's 8 weight rows.
template <int M_MAX>
__device__ __forceinline__ void gemv_mma_slice(const uint4 (&wv)[kGemvChunks], const uint16_t* xs, int q, int g,
                                               float (&d)[4]) {
  constexpr int kStride = gemv_stride<GemvMath::kMma>();
#pragma unroll
  for (int u = 0; u < kGemvChunks; ++u) {
    const uint16_t* xc = xs + (u * kGemvLanesPerRow + q) * 8;
    const uint4 zero{0, 0, 0, 0};
    const uint4 lo = g < M_MAX ? *reinterpret_cast<const uint4*>(xc + g * kStride) : zero;
    const uint4 hi = g + 8 < M_MAX ? *reinterpret_cast<const uint4*>(xc + (g + 8) * kStride) : zero;
    const uint32_t a0[4] = {lo.x, hi.x, lo.y, hi.y}, b0[2] = {wv[u].x, wv[u].y};
    mma_bf16_16x8x16(d, a0, b0);
    const uint32_t a1[4] = {lo.z, hi.z, lo.w, hi.w}, b1[2] = {wv[u].z, wv[u].w};
    mma_bf16_16x8x16(d, a1, b1);
  }
}

template <int M_MAX, GemvIn IN, GemvOut OUT, GemvMath MATH>
__global__ void __launch_bounds__(kGemvThreads, gemv_min_blocks<IN, MATH>()) gemv_kernel(GemvParams p) {
  constexpr int Rows = kGemvRows;
  constexpr int kSlice = kGemvSlice;
  constexpr int kStride = gemv_stride<MATH>();
  constexpr bool kPaired = gemv_paired<OUT>();
  constexpr bool kMma = MATH == GemvMath::kMma;
  constexpr int kOuts = kPaired ? Rows / 2 : Rows;  // outputs per group
  using Staged = typename GemvStaged<MATH>::type;
  static_assert((kGemvWarpsPerRow + 1) * Rows * sizeof(float) <= kStride * sizeof(Staged),
                "the partial sums and the totals must fit in the staged slice");
  static_assert(M_MAX <= kGemvMaxRows, "the split sums hold kGemvMaxRows rows");
  // The staged x [M_MAX][kStride], then the partial sums [kGemvWarpsPerRow][Rows][M_MAX] and the
  // totals [Rows][M_MAX].
  PTK_DYNAMIC_SHARED(float, smem);
  Staged* const xs = reinterpret_cast<Staged*>(smem);

  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
  const int group = blockIdx.x / p.splits, split = blockIdx.x % p.splits;
  const int part = warp % kGemvWarpsPerRow;                              // this warp's share of k
  const int slot = (warp / kGemvWarpsPerRow) * kGemvSlotsPerWarp + lane / kGemvLanesPerSlot;  // row in group
  const int q = part * kGemvLanesPerSlot + lane % kGemvLanesPerSlot;    // lane index along the row
  const int outs = kPaired ? p.n / 2 : p.n;
  const int out0 = group * kOuts;
  int row;
  if constexpr (kPaired) {
    row = gemv_paired_row<OUT>(p, out0 + slot % kOuts, slot >= kOuts);
  } else {
    row = out0 + slot;
  }
  const bool row_valid = out0 + (kPaired ? slot % kOuts : slot) < outs;
  const uint16_t* wr = p.w + size_t(row_valid ? row : 0) * p.k;
  const int chunks = p.k / 8;
  // This block's slices of k.
  const int slices = gemv_slices(p.k);
  const int s_begin = gemv_split_begin(split, p.splits, slices), s_end = gemv_split_begin(split + 1, p.splits, slices);

  // This lane's chunks of slice s, zero past k, past the last row or past this block's slices.
  auto load_weights = [&](int s, uint4 (&wv)[kGemvChunks]) {
#pragma unroll
    for (int u = 0; u < kGemvChunks; ++u) {
      const int c = s * (kSlice / 8) + u * kGemvLanesPerRow + q;
      wv[u] = row_valid && s < s_end && c < chunks ? *reinterpret_cast<const uint4*>(wr + size_t(c) * 8)
                                                   : uint4{0, 0, 0, 0};
    }
  };

  float acc[kMma ? 4 : M_MAX];  // kMma: this lane's part of the warp's D tile
#pragma unroll
  for (int i = 0; i < (kMma ? 4 : M_MAX); ++i) acc[i] = 0.0f;
  uint4 wcur[kGemvChunks];
  load_weights(s_begin, wcur);
  PTK_SHARED_ARRAY(float, scale, M_MAX);
  PTK_SHARED_ARRAY(int, last_s, 1);
  if constexpr (IN == GemvIn::kRmsNorm) {
    gemv_norm_scales(p, scale);
    __syncthreads();
  }
  // Staging: thread tid always stages chunk tid % kSliceChunks of a slice (the chunks of a slice
  // divide the block), for rows tid / kSliceChunks + kRowStep j, so only the row moves.
  constexpr int kSliceChunks = kSlice / 8, kRowStep = kGemvThreads / kSliceChunks;
  static_assert(kGemvThreads % kSliceChunks == 0, "a slice's chunks must divide the block's threads");
  const int stage_chunk = tid % kSliceChunks, stage_row = tid / kSliceChunks;
  for (int s = s_begin; s < s_end; ++s) {
    // Stage x[:, slice]; rows past m and columns past k as zeros (zero weights there must not
    // meet the poison of unwritten memory). Not unrolled: unrolled, ptxas spilled a register in
    // one variant (sm_80, M_MAX 1, 32 rows, bf16 out).
    const int c = s * kSliceChunks + stage_chunk;
#pragma unroll 1
    for (int i = stage_row; i < M_MAX; i += kRowStep) {
      Staged* d = xs + i * kStride + stage_chunk * 8;
      if (i < p.m && c < chunks) {
        gemv_stage<IN>(p, scale, i, c, d);
      } else {
        gemv_stage_zeros(d);
      }
    }
    __syncthreads();
    uint4 wnext[kGemvChunks];
    load_weights(s + 1, wnext);  // zeros after this block's last slice
    if constexpr (kMma) {
      gemv_mma_slice<M_MAX>(wcur, xs, q, lane / kGemvLanesPerSlot, acc);
    } else {
      gemv_fma_slice<M_MAX>(wcur, xs, q, acc);
    }
#pragma unroll
    for (int u = 0; u < kGemvChunks; ++u) wcur[u] = wnext[u];
    __syncthreads();
  }

  // The 4 lanes of a slot (kFma: a butterfly; kMma: summed in the tile, whose element (i, c) this
  // lane holds for staged rows i = g, g + 8 and the warp's slots c = 2t, 2t + 1), then the row's
  // warps in order, through shared memory.
  float* partial = smem;
  if constexpr (kMma) {
    const int g = lane / kGemvLanesPerSlot, t = lane % kGemvLanesPerSlot;
    const int slot0 = (warp / kGemvWarpsPerRow) * kGemvSlotsPerWarp + 2 * t;
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      const int i = g + (e / 2) * 8;
      if (i < M_MAX) partial[(part * Rows + slot0 + e % 2) * M_MAX + i] = acc[e];
    }
  } else {
#pragma unroll
    for (int i = 0; i < M_MAX; ++i) {
      float v = acc[i];
      v += __shfl_xor_sync(0xFFFFFFFFu, v, 1);
      v += __shfl_xor_sync(0xFFFFFFFFu, v, 2);
      if (lane % kGemvLanesPerSlot == 0) partial[(part * Rows + slot) * M_MAX + i] = v;
    }
  }
  __syncthreads();
  // This block's sum of slot sl, row i: its warps in order.
  auto block_sum = [&](int sl, int i) {
    float v = partial[sl * M_MAX + i];
#pragma unroll
    for (int w = 1; w < kGemvWarpsPerRow; ++w) v += partial[(w * Rows + sl) * M_MAX + i];
    return v;
  };
  // The group's totals: this block's sums, or (split) every split's in split order, added by the
  // group's last block to arrive; the others are done once their sums are out.
  float* total = smem + kGemvWarpsPerRow * Rows * M_MAX;
  const int m = p.m;
  if (p.splits > 1) {
    // The group's room is sized for kGemvMaxRows rows, its sums packed [split][weight row][m]: a
    // block's 32 x m sums are contiguous, so at one row they fill 4 sectors, not 32.
    float* const sums = p.split_sums + size_t(group) * p.splits * Rows * kGemvMaxRows;
    for (int e = tid; e < Rows * M_MAX; e += kGemvThreads) {
      const int sl = e / M_MAX, i = e % M_MAX;
      if (i < m) sums[(split * Rows + sl) * m + i] = block_sum(sl, i);
    }
    if (!arrive_last(p.split_arrivals + group, p.splits, last_s)) return;
    for (int e = tid; e < Rows * M_MAX; e += kGemvThreads) {
      const int sl = e / M_MAX, i = e % M_MAX;
      if (i >= m) continue;
      float v = __ldcg(sums + sl * m + i);
      for (int sp = 1; sp < p.splits; ++sp) v += __ldcg(sums + (sp * Rows + sl) * m + i);
      total[sl * M_MAX + i] = v;
    }
  } else {
    for (int e = tid; e < Rows * M_MAX; e += kGemvThreads) total[e] = block_sum(e / M_MAX, e % M_MAX);
  }
  __syncthreads();
  auto row_sum = [&](int sl, int i) { return total[sl * M_MAX + i]; };
  int rows_out = m;
  double mscale = 1.0;
  if constexpr (OUT == GemvOut::kRopeAppend) {
    rows_out = min(m, *p.append.num_tokens);  // a captured launch follows the plan's count
    mscale = rope_mscale(p.append.rope);
  }
  for (int e = tid; e < kOuts * M_MAX; e += kGemvThreads) {
    const int o = e / M_MAX, i = e % M_MAX, j = out0 + o;
    if (i >= rows_out || j >= outs) continue;
    if constexpr (OUT == GemvOut::kSiluMul) {
      static_cast<uint16_t*>(p.y)[size_t(i) * outs + j] = float_to_bf16(silu(row_sum(o, i)) * row_sum(o + kOuts, i));
    } else if constexpr (OUT == GemvOut::kAddResidual) {
      static_cast<float*>(p.y)[size_t(i) * outs + j] += row_sum(o, i);
    } else if constexpr (OUT == GemvOut::kRopeAppend) {
      // Pair j: dims (d, d + D/2) of head h, as the bf16 gemv writes them, then appended.
      const int half = p.head_dim / 2, h = j / half, d = j % half, r1 = gemv_paired_row<OUT>(p, j, false);
      float x1 = row_sum(o, i), x2 = row_sum(o + kOuts, i);
      if (p.bias) {
        x1 += bf16_to_float(p.bias[r1]);
        x2 += bf16_to_float(p.bias[r1 + half]);
      }
      float c = 1.0f, sn = 0.0f;
      if (h < p.append.num_q_heads + p.append.num_kv_heads) {
        rope_cos_sin(p.append.positions[i], d, p.head_dim, p.append.rope, mscale, &c, &sn);
      }
      rope_append_pair(p.append, p.head_dim, i, h, d, bf16_to_float(float_to_bf16(x1)), bf16_to_float(float_to_bf16(x2)),
                       c, sn);
    } else {
      float v = row_sum(o, i);
      if (p.bias) v += bf16_to_float(p.bias[j]);
      if constexpr (OUT == GemvOut::kF32) {
        static_cast<float*>(p.y)[size_t(i) * outs + j] = v;
      } else {
        static_cast<uint16_t*>(p.y)[size_t(i) * outs + j] = float_to_bf16(v);
      }
    }
  }
  if constexpr (OUT == GemvOut::kAddResidual) {
    // This group's part of each updated row's sum of squares: its columns, in order (the same sum
    // as ptk_add_sumsq's). The barrier makes the block's stores above visible to the reads.
    __syncthreads();
    if (p.sumsq_out != nullptr && tid < m) {
      const float* row = static_cast<const float*>(p.y) + size_t(tid) * outs;
      float ss = 0.0f;
      for (int j = out0; j < out0 + kOuts && j < outs; ++j) ss = fmaf(row[j], row[j], ss);
      p.sumsq_out[size_t(tid) * gemv_groups(p.n) + group] = ss;
    }
  }
}

}  // namespace ptk
