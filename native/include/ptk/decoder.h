/*
 * ptk: the decoder's remaining device operations: token embedding, RMSNorm fused with the
 * residual add, the SiLU gate, bias add, the decode-shape matmul (gemv, also fused with the SiLU
 * gate, with the RMSNorm of its input, with the residual add of its output, or with the RoPE + KV
 * append of qkv) and token sampling.
 *
 * Fusing the norms into the gemv. A decode layer is residual += o(attn); h = norm(residual);
 * residual += down(mlp(h)); h = norm(residual). The norm of a row needs the whole row's sum of
 * squares, which no single gemv block sees, so the sum is handed over in parts: ptk_gemv_add (or
 * ptk_add_sumsq after any other projection) adds into the residual and writes each row's sum of
 * squares in ptk_norm_parts(hidden) parts, as ptk_embedding does for the rows it writes;
 * ptk_gemv_rmsnorm and ptk_gemv_rmsnorm_silu_mul sum the parts and norm the rows as they read
 * them. A layer then launches no norm at all.
 *
 * Types: weights and matmul inputs bf16; the residual stream and matmul outputs that feed a norm
 * or the gate are f32. Device pointers must be 16-byte aligned; row widths multiples of 8. Every
 * argument is checked on the host before anything is launched (see ptk.h's error model); device
 * arrays (token ids, row ids) cannot be read there, so the kernels bound them instead. Launches
 * allocate nothing and do not synchronize: they can be captured in a CUDA graph. Without CUDA in
 * the build, valid calls return PTK_ERR_NO_CUDA.
 */
#ifndef PTK_DECODER_H
#define PTK_DECODER_H

#include <stddef.h>
#include <stdint.h>

#include "ptk/export.h"
#include "ptk/kv_layout.h"
#include "ptk/ptk.h"
#include "ptk/rope.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The most rows ptk_gemv takes (the number of parallel paths, P <= 16). */
#define PTK_GEMV_MAX_ROWS 16

/* out[t, :] = table[token_ids[t], :] as f32. table [vocab, hidden] bf16, token_ids [num_tokens]
 * int32 on the device (an id outside [0, vocab) gives a zero row), out [num_tokens, hidden] f32.
 * sumsq, unless null: the rows' sums of squares in parts, as ptk_add_sumsq writes them for out
 * (so that the first layer's gemv norms the rows with no launch in between), [num_tokens,
 * ptk_norm_parts(hidden)] f32. */
PTK_API ptk_status ptk_embedding(const void* table, int vocab, int hidden, const int32_t* token_ids, int num_tokens,
                                 float* out, float* sumsq, void* stream);

/* Per row: residual += delta (skipped when delta is null), then
 * out = bf16(residual / sqrt(mean(residual^2) + eps) * weight). residual [rows, hidden] f32,
 * delta [rows, hidden] f32 or null, weight [hidden] bf16, out [rows, hidden] bf16. */
PTK_API ptk_status ptk_add_rmsnorm(float* residual, const float* delta, const void* weight, float eps, void* out,
                                   int rows, int hidden, void* stream);

/* The RMSNorm of selected rows: out[r] = norm(x[row_ids[r]]) * weight. row_ids [rows] int32 on
 * the device, each in [0, rows of x) (the caller's contract: the kernel cannot check it). */
PTK_API ptk_status ptk_rmsnorm_rows(const float* x, const int32_t* row_ids, const void* weight, float eps, void* out,
                                    int rows, int hidden, void* stream);

/* The residual's sums of squares per row come in ptk_norm_parts(hidden) parts: part g sums the
 * squares of columns [32 g, 32 (g + 1)) (the columns whose outputs one block of ptk_gemv_add
 * writes, the last part possibly shorter), in column order, as fmaf(x, x, sum) from 0.
 * Returns 0 when hidden is not positive. */
PTK_API int ptk_norm_parts(int hidden);

/* Per row: residual += delta (skipped when delta is null), then sumsq[r, :] = the parts of the
 * updated row's sum of squares. residual, delta [rows, hidden] f32, sumsq [rows,
 * ptk_norm_parts(hidden)] f32. */
PTK_API ptk_status ptk_add_sumsq(float* residual, const float* delta, float* sumsq, int rows, int hidden,
                                 void* stream);

/* out[t, i] = bf16(silu(gate_up[t, i]) * gate_up[t, intermediate + i]). gate_up [rows,
 * 2 intermediate] f32 (gate then up), out [rows, intermediate] bf16. */
PTK_API ptk_status ptk_silu_mul(const float* gate_up, void* out, int rows, int intermediate, void* stream);

/* out = bf16(y + bias) (bias broadcast over rows; null adds nothing). y [rows, n] f32, bias [n]
 * bf16 or null, out [rows, n] bf16: what follows a cuBLAS projection with bias. */
PTK_API ptk_status ptk_bias_to_bf16(const float* y, const void* bias, void* out, int rows, int n, void* stream);

/* Device bytes of the split workspace a gemv of an [n, k] weight needs (every ptk_gemv* below
 * takes one): 0 when n and k give the chip enough blocks without splitting k, and then the
 * workspace may be null. A small projection (few weight rows, for example n = 1536) has its k
 * split among several blocks per group of rows; each writes its sums into the workspace, and the
 * last of a group to finish adds them in a fixed order and writes the output, so results stay
 * bit-identical for every m. The workspace must be zero before its first use (ptk_memset_zero);
 * every launch leaves its counters zero again, so one workspace of the largest size serves every
 * gemv issued on one stream, but two gemvs that may run at the same time need two. n is the
 * weight's rows: 2 intermediate for the SiLU forms, (num_qo_heads + 2 num_kv_heads) head_dim for
 * the append. Returns 0 when n or k is not positive. */
PTK_API size_t ptk_gemv_workspace_bytes(int n, int k);

/* y[i, j] = sum_k x[i, k] weight[j, k] (+ bias[j]), accumulated in f32, for 1 <= m <= 16 rows.
 * x [m, k] bf16, weight [n, k] bf16 (row-major as in the checkpoint: each row read once for all m
 * rows), bias [n] bf16 or null, y [m, n] in y_dtype (f32 or bf16). k a multiple of 8.
 * Row i's result is bit-identical for every m. The products run on the tensor cores (mma.sync,
 * bf16 in, f32 sums); the environment variable PTK_GEMV_MATH=fma puts every ptk_gemv* of the
 * process on the CUDA cores instead (the same sums in another order; for measuring one against
 * the other), and any value but mma or fma makes every ptk_gemv* fail naming it. workspace: at
 * least ptk_gemv_workspace_bytes(n, k) bytes, 16-byte aligned (or null when that is 0). */
PTK_API ptk_status ptk_gemv(const void* x, const void* weight, const void* bias, void* y, ptk_dtype y_dtype, int m,
                            int n, int k, void* workspace, size_t workspace_bytes, void* stream);

/* The MLP's gate and up projections fused with the SiLU gate: out[i, j] = bf16(silu(g) * u) with
 * g = sum_k x[i, k] weight[j, k] and u = sum_k x[i, k] weight[intermediate + j, k]. x [m, hidden]
 * bf16, weight [2 intermediate, hidden] bf16 (gate rows then up rows), out [m, intermediate] bf16,
 * 1 <= m <= 16. Bit for bit ptk_gemv (f32 out, no bias, n = 2 intermediate) followed by
 * ptk_silu_mul, without the f32 round trip. hidden and intermediate multiples of 8. */
PTK_API ptk_status ptk_gemv_silu_mul(const void* x, const void* weight, void* out, int m, int intermediate,
                                     int hidden, void* workspace, size_t workspace_bytes, void* stream);

/* ptk_gemv added into the residual: residual[i, j] += sum_k x[i, k] weight[j, k], then (sumsq
 * not null) the updated rows' parts as ptk_add_sumsq writes them. Bit for bit ptk_gemv (f32 out,
 * no bias) followed by ptk_add_sumsq. x [m, k] bf16, weight [n, k] bf16, residual [m, n] f32,
 * sumsq [m, ptk_norm_parts(n)] f32 or null; 1 <= m <= 16, n and k multiples of 8. */
PTK_API ptk_status ptk_gemv_add(const void* x, const void* weight, float* residual, float* sumsq, int m, int n, int k,
                                void* workspace, size_t workspace_bytes, void* stream);

/* ptk_gemv on normed rows, the norm fused: input row i is bf16(residual[i, c] * s_i *
 * norm_weight[c]) with s_i = 1 / sqrt(sum_g sumsq[i, g] / k + eps), ptk_add_rmsnorm's output for
 * the same residual up to the order of the sum of squares (the parts are summed in a fixed order
 * of their own). residual [m, k] f32, sumsq [m, ptk_norm_parts(k)] f32 (ptk_gemv_add's or
 * ptk_add_sumsq's), norm_weight [k] bf16; the rest as ptk_gemv. */
PTK_API ptk_status ptk_gemv_rmsnorm(const float* residual, const float* sumsq, const void* norm_weight, float eps,
                                    const void* weight, const void* bias, void* y, ptk_dtype y_dtype, int m, int n,
                                    int k, void* workspace, size_t workspace_bytes, void* stream);

/* ptk_gemv_silu_mul on normed rows, the norm fused as in ptk_gemv_rmsnorm: bit for bit
 * ptk_gemv_rmsnorm (f32 out, no bias, n = 2 intermediate) followed by ptk_silu_mul. residual
 * [m, hidden] f32, sumsq [m, ptk_norm_parts(hidden)] f32, norm_weight [hidden] bf16. */
PTK_API ptk_status ptk_gemv_rmsnorm_silu_mul(const float* residual, const float* sumsq, const void* norm_weight,
                                             float eps, const void* weight, void* out, int m, int intermediate,
                                             int hidden, void* workspace, size_t workspace_bytes, void* stream);

/* The qkv projection with the append fused: ptk_gemv_rmsnorm (bf16 out, bias may be null) of
 * weight [(num_qo_heads + 2 num_kv_heads) head_dim, hidden] (the plan's layout), its output
 * appended as ptk_rope_append appends it for the plan's first m tokens, and written nowhere else:
 * bit for bit the two calls. Each block holds dims i and i + head_dim/2 of the heads it computes,
 * so it rotates them itself. 1 <= m <= 16 and m <= the plan's num_tokens; the rest as
 * ptk_gemv_rmsnorm and ptk_rope_append. */
PTK_API ptk_status ptk_gemv_rmsnorm_rope_append(const ptk_rope_plan* plan, const float* residual, const float* sumsq,
                                                const void* norm_weight, float eps, const void* weight,
                                                const void* bias, const void* thought_table, void* q_out,
                                                void* k_cache, void* v_cache, int m, int hidden, void* workspace,
                                                size_t workspace_bytes, void* stream);

typedef struct ptk_sampling_params {
  float temperature; /* 0 = greedy (argmax, the lowest id on ties); else > 0 */
  int top_k;         /* keep the k largest logits; 0 = off (>= vocab is off too) */
  float top_p;       /* in (0, 1]: keep the most probable tokens holding mass top_p; 1 = off */
  uint64_t seed;     /* with (path, step, token id) the only input of the random draw */
} ptk_sampling_params;

/* Device bytes of the workspace ptk_sample needs for `rows` rows (0 when rows is not positive). */
PTK_API size_t ptk_sample_workspace_bytes(int rows);

/* Draws one token per row of logits [rows, vocab] f32 into tokens [rows] int32 (device), in
 * vLLM's order: temperature, top-k, top-p, then argmax(p / q) with q ~ Exp(1) drawn from a
 * counter-based generator keyed by (seed, path_ids[r], steps[r], token id). path_ids and steps
 * [rows] int32 are on the device, so a captured graph follows the step counter. Each row is
 * spread over many blocks, which leave their partial results in `workspace` (device, at least
 * ptk_sample_workspace_bytes(rows) bytes, not shared with a call running at the same time); the
 * token drawn does not depend on the split, nor on the batch. vocab is at most 2^24 (top-p sums
 * fixed-point masses in 64 bits). 2 launches when greedy, 3 with a temperature, and 4 more each for
 * top-k and top-p (a radix select of 8 bits a launch, in place of a sort). */
PTK_API ptk_status ptk_sample(const float* logits, int rows, int vocab, const ptk_sampling_params* params,
                              const int32_t* path_ids, const int32_t* steps, int32_t* tokens, void* workspace,
                              size_t workspace_bytes, void* stream);

/* The Exp(1) variate ptk_sample uses for (seed, path, step, token): for reproducing a draw on the
 * host. */
PTK_API float ptk_sample_exponential(uint64_t seed, int32_t path, int32_t step, int32_t token);

#ifdef __cplusplus
}
#endif

#endif /* PTK_DECODER_H */
