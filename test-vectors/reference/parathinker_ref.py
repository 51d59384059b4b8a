"""Naive float64 reference of the ParaThinker Qwen2 model and of the kernel-level semantics.

Written from model/SEMANTICS.md. Deliberately simple: the model runs over a
whole token sequence with a dense 4-D mask built from the training-collator rule, explicit
position ids and segment ids per token; kernels gather K/V by page table and attend densely.
"""
import math

import numpy as np
import torch

DT = torch.float64


def bf16_round(x):
    """Round to bf16 (via float32, round-to-nearest-even) and widen back to float64."""
    return x.to(torch.float32).to(torch.bfloat16).to(DT)


# ----------------------------------------------------------------------------------------------
# RoPE (neox / rotate-half), optional YaRN
# ----------------------------------------------------------------------------------------------
def yarn_low_high(D, theta, L0, beta_fast, beta_slow):
    def corr(b):
        return D * math.log(L0 / (2 * math.pi * b)) / (2 * math.log(theta))
    low = max(math.floor(corr(beta_fast)), 0)
    high = min(math.ceil(corr(beta_slow)), D - 1)
    return low, high


def rope_freqs(D, theta=10000.0, yarn_factor=1.0, L0=9280, beta_fast=32.0, beta_slow=1.0):
    """Returns (w [D/2] float64, mscale)."""
    d = torch.arange(D // 2, dtype=DT)
    w = theta ** (-2.0 * d / D)
    if yarn_factor <= 1.0:
        return w, 1.0
    low, high = yarn_low_high(D, theta, L0, beta_fast, beta_slow)
    if high == low:
        high += 0.001
    r = ((d - low) / (high - low)).clamp(0.0, 1.0)
    w = (w / yarn_factor) * r + w * (1.0 - r)
    return w, 0.1 * math.log(yarn_factor) + 1.0


def apply_rope(x, pos, w, mscale):
    """x [T, H, D] float64, pos [T] ints -> rotated x."""
    D = x.shape[-1]
    ang = pos.to(DT)[:, None] * w[None, :]              # [T, D/2]
    cos = (torch.cos(ang) * mscale)[:, None, :]
    sin = (torch.sin(ang) * mscale)[:, None, :]
    x1, x2 = x[..., : D // 2], x[..., D // 2:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)


# ----------------------------------------------------------------------------------------------
# Dense attention (shared by model and kernels)
# ----------------------------------------------------------------------------------------------
def attend(q, k, v, allowed, sm_scale):
    """q [Nq, Hq, D], k/v [Nk, Hkv, D], allowed [Nq, Nk] bool. Returns o [Nq, Hq, D], lse [Nq, Hq]
    (natural log; a query with no allowed key gets lse -inf and o 0)."""
    Nq, Hq, D = q.shape
    Nk, Hkv, _ = k.shape
    G = Hq // Hkv
    o = torch.zeros(Nq, Hq, D, dtype=DT)
    lse = torch.full((Nq, Hq), -math.inf, dtype=DT)
    if Nk == 0:
        return o, lse
    for h in range(Hq):
        kh, vh = k[:, h // G, :], v[:, h // G, :]
        s = (q[:, h, :] @ kh.T) * sm_scale                 # [Nq, Nk]
        s = s.masked_fill(~allowed, -math.inf)
        m = s.max(dim=1, keepdim=True).values
        has = torch.isfinite(m[:, 0])
        m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))
        p = torch.exp(s - m)
        z = p.sum(dim=1, keepdim=True)
        zs = torch.where(z > 0, z, torch.ones_like(z))
        o[:, h, :] = torch.where(has[:, None], (p / zs) @ vh, torch.zeros(1, D, dtype=DT))
        lse[:, h] = torch.where(has, (m[:, 0] + torch.log(zs[:, 0])), torch.tensor(-math.inf, dtype=DT))
    return o, lse


def merge_states(o_a, lse_a, o_b, lse_b):
    """Merge two attention states (natural-log lse). Both -inf -> lse -inf, o 0."""
    m = torch.maximum(lse_a, lse_b)
    ms = torch.where(torch.isfinite(m), m, torch.zeros_like(m))
    ea, eb = torch.exp(lse_a - ms), torch.exp(lse_b - ms)
    z = ea + eb
    zs = torch.where(z > 0, z, torch.ones_like(z))
    lse = torch.where(z > 0, ms + torch.log(zs), torch.full_like(z, -math.inf))
    o = (ea / zs)[..., None] * o_a + (eb / zs)[..., None] * o_b
    return o, lse


# ----------------------------------------------------------------------------------------------
# Model
# ----------------------------------------------------------------------------------------------
PAD_LABEL, PROMPT_LABEL, SUMMARY_LABEL = 0, 1, 10


def collator_mask(labels):
    """Training-collator rule (model/SEMANTICS.md §8): q may attend k iff k <= q, both labels
    non-zero, and (same label, or key label is prompt, or query label is summary)."""
    lab = torch.as_tensor(labels)
    T = lab.shape[0]
    idx = torch.arange(T)
    causal = idx[None, :] <= idx[:, None]
    nz = (lab[:, None] != 0) & (lab[None, :] != 0)
    rule = ((lab[:, None] == lab[None, :]) | (lab[None, :] == PROMPT_LABEL)
            | (lab[:, None] == SUMMARY_LABEL))
    return causal & nz & rule


def rmsnorm(x, w, eps):
    return x / torch.sqrt((x * x).mean(dim=-1, keepdim=True) + eps) * w


class Model:
    """weights: dict name -> float64 tensor (bf16 values widened)."""

    def __init__(self, cfg, weights):
        self.cfg = cfg
        self.W = weights
        self.H = cfg["hidden_size"]
        self.Hq = cfg["num_attention_heads"]
        self.Hkv = cfg["num_key_value_heads"]
        self.D = self.H // self.Hq
        self.L = cfg["num_hidden_layers"]
        self.eps = cfg["rms_norm_eps"]
        self.theta = cfg["rope_theta"]

    def forward(self, ids, pos, seg, labels, kv_bf16=True, yarn=None, return_kv=False):
        """Full-sequence forward. ids/pos/seg/labels: per-token lists. Returns logits [T, V]
        (and, with return_kv, per layer (q after RoPE, k, v as attended, attention output o))."""
        W, D, Hq, Hkv = self.W, self.D, self.Hq, self.Hkv
        ids = torch.as_tensor(ids, dtype=torch.long)
        pos = torch.as_tensor(pos, dtype=torch.long)
        seg = torch.as_tensor(seg, dtype=torch.long)
        T = ids.shape[0]
        allowed = collator_mask(labels)
        yarn = yarn or {}
        w, mscale = rope_freqs(D, self.theta, yarn.get("factor", 1.0),
                               yarn.get("original_max_position_embeddings", 9280),
                               yarn.get("beta_fast", 32.0), yarn.get("beta_slow", 1.0))
        x = W["model.embed_tokens.weight"][ids]
        kvs = []
        for l in range(self.L):
            p = "model.layers.%d." % l
            h = rmsnorm(x, W[p + "input_layernorm.weight"], self.eps)
            q = (h @ W[p + "self_attn.q_proj.weight"].T + W[p + "self_attn.q_proj.bias"]).view(T, Hq, D)
            k = (h @ W[p + "self_attn.k_proj.weight"].T + W[p + "self_attn.k_proj.bias"]).view(T, Hkv, D)
            v = (h @ W[p + "self_attn.v_proj.weight"].T + W[p + "self_attn.v_proj.bias"]).view(T, Hkv, D)
            e = W[p + "self_attn.seg_embeddings.weight"][seg]          # [T, D]
            k = k + e[:, None, :]
            v = v + e[:, None, :]
            q = apply_rope(q, pos, w, mscale)
            k = apply_rope(k, pos, w, mscale)
            if kv_bf16:
                k, v = bf16_round(k), bf16_round(v)
            o, _ = attend(q, k, v, allowed, 1.0 / math.sqrt(D))
            kvs.append((q, k, v, o))
            x = x + o.reshape(T, Hq * D) @ W[p + "self_attn.o_proj.weight"].T
            h = rmsnorm(x, W[p + "post_attention_layernorm.weight"], self.eps)
            g = h @ W[p + "mlp.gate_proj.weight"].T
            u = h @ W[p + "mlp.up_proj.weight"].T
            x = x + (torch.nn.functional.silu(g) * u) @ W[p + "mlp.down_proj.weight"].T
        h = rmsnorm(x, W["model.norm.weight"], self.eps)
        logits = h @ W["lm_head.weight"].T
        return (logits, kvs) if return_kv else logits


def parathinker_layout(Lp, path_lens, sum_len, summary_base):
    """Positions, segment ids and collator labels of prompt | path 1..P | summary."""
    pos, seg, lab = list(range(Lp)), [0] * Lp, [PROMPT_LABEL] * Lp
    for i, n in enumerate(path_lens):
        pos += [Lp + k for k in range(n)]
        seg += [i + 1] * n
        lab += [i + 2] * n
    pos += [summary_base + t for t in range(sum_len)]
    seg += [0] * sum_len
    lab += [SUMMARY_LABEL] * sum_len
    return pos, seg, lab


# ----------------------------------------------------------------------------------------------
# Kernel-level semantics
# ----------------------------------------------------------------------------------------------
def rope_append(qkv, positions, segment_ids, slot_mapping, thought_table, k_cache, v_cache,
                Hq, Hkv, D, theta, yarn_factor, L0, beta_fast, beta_slow):
    """qkv [T, (Hq+2Hkv)*D]; caches [pages, page_size, Hkv, D] (float64). Returns q_out, k_out, v_out."""
    T = qkv.shape[0]
    q = qkv[:, : Hq * D].reshape(T, Hq, D)
    k = qkv[:, Hq * D:(Hq + Hkv) * D].reshape(T, Hkv, D)
    v = qkv[:, (Hq + Hkv) * D:].reshape(T, Hkv, D)
    e = thought_table[torch.as_tensor(segment_ids, dtype=torch.long)]
    k = k + e[:, None, :]
    v = v + e[:, None, :]
    w, mscale = rope_freqs(D, theta, yarn_factor, L0, beta_fast, beta_slow)
    pos = torch.as_tensor(positions, dtype=torch.long)
    q = apply_rope(q, pos, w, mscale)
    k = apply_rope(k, pos, w, mscale)
    ko, vo = k_cache.clone(), v_cache.clone()
    ps = k_cache.shape[1]
    for t, s in enumerate(slot_mapping):
        s = int(s)
        if s < 0:
            continue
        ko[s // ps, s % ps] = k[t]
        vo[s // ps, s % ps] = v[t]
    return q, ko, vo


def gather(cache, pages, length):
    """Un-page `length` tokens stored in `pages` (in order). cache [pages, ps, H, D]."""
    if length == 0:
        return cache.new_zeros((0,) + tuple(cache.shape[2:]))
    pages = torch.as_tensor(list(pages), dtype=torch.long)
    flat = cache[pages].reshape(-1, *cache.shape[2:])
    return flat[:length]


def csr_len(indptr, last_page_len, b, ps):
    npages = int(indptr[b + 1]) - int(indptr[b])
    return 0 if npages == 0 else (npages - 1) * ps + int(last_page_len[b])


def decode(q, k_cache, v_cache, indptr, indices, last_page_len, sm_scale):
    B = q.shape[0]
    ps = k_cache.shape[1]
    os_, ls = [], []
    for b in range(B):
        L = csr_len(indptr, last_page_len, b, ps)
        pages = indices[int(indptr[b]):int(indptr[b + 1])]
        k, v = gather(k_cache, pages, L), gather(v_cache, pages, L)
        o, lse = attend(q[b:b + 1], k, v, torch.ones(1, L, dtype=torch.bool), sm_scale)
        os_.append(o)
        ls.append(lse)
    return torch.cat(os_), torch.cat(ls)


def prefill(q, qo_indptr, prefix_indices, prefix_len, k_cache, v_cache, indptr, indices,
            last_page_len, sm_scale):
    B = len(qo_indptr) - 1
    ps = k_cache.shape[1]
    kp, vp = gather(k_cache, prefix_indices, prefix_len), gather(v_cache, prefix_indices, prefix_len)
    os_, ls = [], []
    for b in range(B):
        q0, q1 = int(qo_indptr[b]), int(qo_indptr[b + 1])
        nq = q1 - q0
        own = csr_len(indptr, last_page_len, b, ps)
        pages = indices[int(indptr[b]):int(indptr[b + 1])]
        k = torch.cat([kp, gather(k_cache, pages, own)])
        v = torch.cat([vp, gather(v_cache, pages, own)])
        allowed = torch.zeros(nq, prefix_len + own, dtype=torch.bool)
        for i in range(nq):
            allowed[i, : prefix_len + own - nq + i + 1] = True
        o, lse = attend(q[q0:q1], k, v, allowed, sm_scale)
        os_.append(o)
        ls.append(lse)
    return torch.cat(os_), torch.cat(ls)


def summary(q, k_cache, v_cache, seg_indptr, indices, last_page_len, sm_scale):
    S = len(seg_indptr) - 1
    ps = k_cache.shape[1]
    ks, vs, lens = [], [], []
    for s in range(S):
        L = csr_len(seg_indptr, last_page_len, s, ps)
        pages = indices[int(seg_indptr[s]):int(seg_indptr[s + 1])]
        ks.append(gather(k_cache, pages, L))
        vs.append(gather(v_cache, pages, L))
        lens.append(L)
    k, v = torch.cat(ks), torch.cat(vs)
    Nq = q.shape[0]
    total = sum(lens)
    allowed = torch.zeros(Nq, total, dtype=torch.bool)
    for i in range(Nq):
        allowed[i, : total - Nq + i + 1] = True
    return attend(q, k, v, allowed, sm_scale)


def ragged(q, k_cache, v_cache, qo_indptr, group_indptr, group_segments, seg_indptr, indices, last_page_len,
           sm_scale):
    """Group g: queries qo_indptr[g]..qo_indptr[g+1] over its segments group_segments[group_indptr[g]
    ..group_indptr[g+1]] of the segment table, as a summary over them (the last is its own)."""
    ps = k_cache.shape[1]
    os_, ls = [], []
    for g in range(len(qo_indptr) - 1):
        q0, q1 = int(qo_indptr[g]), int(qo_indptr[g + 1])
        if q1 == q0:
            continue
        ptr, pages, last = [0], [], []
        for s in group_segments[int(group_indptr[g]):int(group_indptr[g + 1])]:
            pages += list(indices[int(seg_indptr[s]):int(seg_indptr[s + 1])])
            ptr.append(len(pages))
            last.append(int(last_page_len[s]))
        o, lse = summary(q[q0:q1], k_cache, v_cache, ptr, pages, last, sm_scale)
        os_.append(o)
        ls.append(lse)
    return torch.cat(os_), torch.cat(ls)


def phase1(q, k_cache, v_cache, prompt_indices, prompt_len, indptr, indices, last_page_len, sm_scale):
    P = q.shape[0]
    ps = k_cache.shape[1]
    kp, vp = gather(k_cache, prompt_indices, prompt_len), gather(v_cache, prompt_indices, prompt_len)
    res = {n: [] for n in ("o", "lse", "o_prompt", "lse_prompt", "o_own", "lse_own")}
    for b in range(P):
        L = csr_len(indptr, last_page_len, b, ps)
        pages = indices[int(indptr[b]):int(indptr[b + 1])]
        ko, vo = gather(k_cache, pages, L), gather(v_cache, pages, L)
        qb = q[b:b + 1]
        o, lse = attend(qb, torch.cat([kp, ko]), torch.cat([vp, vo]),
                        torch.ones(1, prompt_len + L, dtype=torch.bool), sm_scale)
        op, lp = attend(qb, kp, vp, torch.ones(1, prompt_len, dtype=torch.bool), sm_scale)
        oo, lo = attend(qb, ko, vo, torch.ones(1, L, dtype=torch.bool), sm_scale)
        for n, t in zip(res, (o, lse, op, lp, oo, lo)):
            res[n].append(t)
    return {n: torch.cat(t) for n, t in res.items()}
