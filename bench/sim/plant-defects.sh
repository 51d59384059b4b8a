#!/usr/bin/env bash
# Proof that the sim device bites: plants one defect at a time in the kernel sources, rebuilds the
# sanitized sim (build/sim-asan), runs the device tests under every seed and the 4-SM card (and
# the planner's host test, for defects in the planner), and expects at least one to fail; then restores the source. Prints one line per defect with the
# tests that caught it. Exit 1 if any defect passes every test.
#   bench/sim/plant-defects.sh [FILTER [TESTS]]   only the defects whose name contains FILTER, and
#   only the ctest tests matching the regex TESTS (default: every sim test and the planner's)
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
build=build/sim-asan
cmake -S . -B "$build" -DPTK_DEVICE=sim -DPTK_SIM_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo -Wno-dev >/dev/null

# name | file | python regex | replacement
defects=(
  "attention without the barrier after a tile lands|kernels/ptk/attention.cuh|    __syncthreads\(\);  // tile \`tile\`|    // (barrier removed)"
  "attention without cp_async_wait before reading a stage|kernels/ptk/attention.cuh|      cp_async_wait<1>\(\);|      // (wait removed)"
  "off-by-one page index in the page-table walk|kernels/ptk/page_table.h|pages\[t / page_size\]|pages[(t + 1) / page_size]"
  "wrong shuffle lane in the warp sum|kernels/ptk/vec.cuh|x \+= __shfl_xor_sync\(0xFFFFFFFFu, x, o\)|x += __shfl_xor_sync(0xFFFFFFFFu, x, o == 1 ? 3 : o)"
  "block reduction reads the scratch before every warp wrote it|kernels/ptk/block_reduce.cuh|  if \(lane == 0\) scratch\[warp\] = x;\n  __syncthreads\(\);|  if (lane == 0) scratch[warp] = x;"
  "decode attention reads the queries before they are staged|kernels/ptk/decode_attention.cuh|q_s\[r \* D \+ piece \* 8 \+ e\] = x\[e\] \* p.scale_log2;\n  \}\n  __syncthreads\(\);|q_s[r * D + piece * 8 + e] = x[e] * p.scale_log2; }"
  "decode attention merges the warps before every warp wrote its state|kernels/ptk/decode_attention.cuh|  \}\n  __syncthreads\(\);\n  for \(int idx = threadIdx.x; idx < n_rows \* D;|  }  for (int idx = threadIdx.x; idx < n_rows * D;"
  "decode merge: the release fence before the ticket removed|kernels/ptk/arrival.cuh|  __threadfence\(\);\n  __syncthreads\(\);|  __syncthreads();"
  "decode merge: the counter not put back to zero for the next launch|kernels/ptk/arrival.cuh|    if \(last\) \*counter = 0;|    (void)0;"
  "decode merge: the block before the last merges (one arrival early)|kernels/ptk/arrival.cuh|atomicAdd\(counter, 1\) == count - 1|atomicAdd(counter, 1) == count - 2"
  "decode merge: the last block merges the group's first head only|kernels/ptk/decode_attention.cuh|g < group; g \+= C::kWarps|g < 1; g += C::kWarps"
  "decode merge: a query that sees no keys gets no item|native/src/planner.cpp|    if \(n == 0\) segments|    if (false) segments"
  "norm handoff: the embedding's parts one column short|kernels/ptk/embedding.cuh|for \(int e = 0; e < 8; \+\+e\) ss = fmaf|for (int e = 0; e < 7; ++e) ss = fmaf"
  "norm handoff: the embedding's parts not written|kernels/ptk/embedding.cuh|    if \(sumsq != nullptr\) sumsq|    if (false) sumsq"
  "norm handoff: the gemv adding into the residual sums its part before the block's adds land|kernels/ptk/gemv.cuh|    __syncthreads\(\);\n    if \(p.sumsq_out != nullptr|    if (p.sumsq_out != nullptr"
  "norm handoff: a gemv_add part one column short|kernels/ptk/gemv.cuh|j < out0 \+ kOuts && j < outs|j < out0 + kOuts - 1 && j < outs"
  "norm handoff: the normed gemv stages rows before their scales are written|kernels/ptk/gemv.cuh|gemv_norm_scales\(p, scale\);\n    __syncthreads\(\);|gemv_norm_scales(p, scale);"
  "norm handoff: add_sumsq sums parts before the other threads' adds land|kernels/ptk/norm.cuh|    __syncthreads\(\);  // a part's columns|    // (barrier removed) a part's columns"
  "qkv append: the second dim of a pair read from the wrong weight row|kernels/ptk/gemv.cuh|j % half \+ \(second \? half : 0\)|j % half + (second ? half + 1 : 0)"
  "qkv append: the fused append leaves out the bias of a pair's second dim|kernels/ptk/gemv.cuh|        x2 \+= bf16_to_float\(p.bias\[r1 \+ half\]\);|        (void)0;"
  "mma gemv: A's registers out of order (row g's high k where row g + 8's low k goes)|kernels/ptk/gemv.cuh|a0\[4\] = \{lo.x, hi.x, lo.y, hi.y\}|a0[4] = {lo.x, lo.y, hi.x, hi.y}"
  "mma gemv: the second k step multiplies the first step's weights|kernels/ptk/gemv.cuh|b1\[2\] = \{wv\[u\].z, wv\[u\].w\}|b1[2] = {wv[u].x, wv[u].y}"
  "mma gemv: staged rows 8-15 read as zeros|kernels/ptk/gemv.cuh|g \+ 8 < M_MAX \?|g + 8 < 8 ?"
  "mma gemv: a lane stores its tile elements in the wrong slots|kernels/ptk/gemv.cuh|slot0 \+ e % 2\)|slot0 + e / 2)"
  "gemv sums a slice before it is staged (barrier after staging removed)|kernels/ptk/gemv.cuh|    __syncthreads\(\);\n    uint4 wnext|    uint4 wnext"
  "gemv split: the last block leaves split 0's sums out|kernels/ptk/gemv.cuh|float v = __ldcg\(sums \+ sl \* m \+ i\);|float v = 0.0f;"
  "gemv split: each block sums one slice past its split (into the next split's)|kernels/ptk/gemv.cuh|s_end = gemv_split_begin\(split \+ 1, p.splits, slices\);|s_end = gemv_split_begin(split + 1, p.splits, slices) + 1;"
  "gemv split: every block of a group writes the outputs (no arrival check)|kernels/ptk/gemv.cuh|    if \(!arrive_last\(p.split_arrivals \+ group, p.splits, last_s\)\) return;|    arrive_last(p.split_arrivals + group, p.splits, last_s);"
  "gemv split: every block writes its sums into split 0's place|kernels/ptk/gemv.cuh|sums\[\(split \* Rows \+ sl\) \* m \+ i\]|sums[(0 * Rows + sl) * m + i]"
  "gemv split: the sums laid over the counters|kernels/decoder.cu|static_cast<char\*>\(workspace\) \+ kGemvCounterBytes|static_cast<char*>(workspace) + 0"
  "sampling: each block's slice one logit short|kernels/ptk/sampling.cuh|\*end = min\(p.vocab, \*begin \+ per\);|*end = min(p.vocab, *begin + per - 1);"
  "sampling: the pick leaves out the first block's results|kernels/ptk/sampling.cuh|for \(int b = lane; b < p.splits; b \+= 32\)|for (int b = lane + 1; b < p.splits; b += 32)"
  "sampling select: the digit where the weight reaches the rank, not passes it|kernels/ptk/sampling.cuh|if \(before <= rank && rank < through\)|if (before < rank && rank <= through)"
  "sampling select: a digit pass counts keys outside the digits chosen so far|kernels/ptk/sampling.cuh|if \(\(TopP && key < lo\) \S\S !radix_in_prefix\(key, prefix, level\)\) continue;|if (TopP && key < lo) continue;"
  "sampling select: the last block leaves the row's histogram to the next pass|kernels/ptk/sampling.cuh|  if \(d < kSampleRadixBins\) w.bins\[d\] = 0;|  (void)0;"
  "sampling select: the maximum pass leaves the histogram unzeroed for the first select|kernels/ptk/sampling.cuh|b < kSampleRadixBins; b \+= blockDim.x\) w.bins\[b\] = 0;|b < kSampleRadixBins; b += blockDim.x) (void)0;"
  "sampling select: a block's shared histogram not zeroed|kernels/ptk/sampling.cuh|  for \(int b = threadIdx.x; b < kSampleRadixBins; b \+= blockDim.x\) bins\[b\] = 0;\n  __syncthreads\(\);|  __syncthreads();"
  "sampling select: the rank carried to the next digit not reduced by the bins below|kernels/ptk/sampling.cuh|w.rank = rank - before;|w.rank = rank;"
  "sampling select: top-p weighs what top-k removed|kernels/ptk/sampling.cuh|const uint32_t lo = top_k_on\(p.top_k, p.vocab\) \? w.lo : 0u;|const uint32_t lo = 0u;"
  "sampling select: top-p also removes the group whose mass passes the limit|kernels/ptk/sampling.cuh|top_p_cut\(chosen == 0 \? 0u : chosen - 1, top\)|top_p_cut(chosen, top)"
  "sampling select: the block scan's warps add warp 0's sums before it wrote them|kernels/ptk/block_reduce.cuh|    if \(lane < warps\) scratch\[lane\] = v;\n  \}\n  __syncthreads\(\);|    if (lane < warps) scratch[lane] = v; }"
  "tensor-core attention: the probabilities rounded to one bf16 (the lo half dropped)|kernels/ptk/attention.cuh|          mma_bf16_16x8x16\(acc\[n\], lo, b\);|          (void)lo;"
  "tensor-core attention: a stage refilled while warps still read it|kernels/ptk/attention.cuh|    __syncthreads\(\);  // every warp done with this stage|    // (barrier removed)"
  "tensor-core attention: the row maximum over two of the row's four lanes|kernels/ptk/attention.cuh|        tile_max\[h\] = fmaxf\(tile_max\[h\], __shfl_xor_sync\(0xFFFFFFFFu, tile_max\[h\], 2\)\);|        (void)0;"
  "tensor-core attention: the row sum over two of its four lanes|kernels/ptk/attention.cuh|    d \+= __shfl_xor_sync\(0xFFFFFFFFu, d, 2\);|    (void)0;"
  "tensor-core attention: the running sum not rescaled when the maximum grows|kernels/ptk/attention.cuh|        d_lane\[h\] \*= rescale\[h\];|        (void)0;"
  "tensor-core attention: V's fragment pairs a token's value with the other token's slot|kernels/ptk/attention.cuh|pair_of\(v\[0\], v\[C::kKvStride\]\)|pair_of(v[C::kKvStride], v[0])"
  "tensor-core attention: Q's fragment of row g + 8 read from row g|kernels/ptk/attention.cuh|qa\[s\]\[1\] = row\[1\] < n_rows \? load_pair\(q_row\[1\]|qa[s][1] = row[1] < n_rows ? load_pair(q_row[0]"
  "tensor-core attention: tokens past the chunk's end not masked|kernels/ptk/attention.cuh|tok < limit\[h\] \?|tok < limit[h] + 1 ?"
  "cascade merge: only an item's first query arrives|kernels/ptk/decode_attention.cuh|query < it.q_begin \+ it.q_count; \+\+query|query < it.q_begin + 1; ++query"
  "ragged planner: a group's own queries see one key more (causal base off by one)|native/src/planner.cpp|r.lens\[own\] - qo_len\}|r.lens[own] - qo_len + 1}"
  "ragged planner: segments shared by groups matched when their pages differ|native/src/planner.cpp|           std::equal\(r.pages.begin\(\)|           !std::equal(r.pages.begin()"
)
filter="${1:-}"
tests="${2:-_sim_|test_planner}"

missed=0
for d in "${defects[@]}"; do
  IFS='|' read -r name file pattern replacement <<<"$d"
  [[ -n "$filter" && "$name" != *"$filter"* ]] && continue
  cp "$file" "$file.orig"
  if ! /usr/bin/python3 - "$file" "$pattern" "$replacement" <<'PY'
import re, sys
path, pattern, repl = sys.argv[1:]
s = open(path).read()
t, n = re.subn(pattern, repl.replace('\\', '\\\\'), s, count=1)
if n != 1:
    sys.exit(f"pattern not found in {path}: {pattern}")
open(path, 'w').write(t)
PY
  then mv "$file.orig" "$file"; touch "$file"; echo "MISSING PATTERN: $name"; missed=1; continue; fi
  if ! cmake --build "$build" -j "$(nproc)" >/tmp/ptk-plant-build.log 2>&1; then
    mv "$file.orig" "$file"; touch "$file"; echo "BUILD FAILED: $name (see /tmp/ptk-plant-build.log)"; missed=1; continue
  fi
  caught=$(cd "$build" && ctest -j "$(nproc)" -R "$tests" 2>&1 | grep -E '\*\*\*Failed|\*\*\*Exception|Failed  ' | sed -E 's/.*Test +#[0-9]+: ([^ ]+).*\*\*\*(.*)/\1 (\2)/' | tr '\n' ';')
  mv "$file.orig" "$file" && touch "$file"  # newer than the objects built with the defect
  if [ -n "$caught" ]; then
    echo "caught: $name: $caught"
  else
    echo "MISSED: $name"; missed=1
  fi
done
cmake --build "$build" -j "$(nproc)" >/dev/null 2>&1
exit $missed
