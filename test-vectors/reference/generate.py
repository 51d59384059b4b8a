"""Writes every reference vector of test-vectors/ deterministically from fixed seeds.

Usage: /usr/bin/python3 test-vectors/reference/generate.py --out test-vectors
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import parathinker_ref as ref  # noqa: E402
import st_io  # noqa: E402
import tiny_tokenizer as tt  # noqa: E402

DT = torch.float64
torch.set_num_threads(1)

# kernel-level geometry
D, HQ, HKV, PS = 128, 12, 2, 16
KERNEL_BF16_TOL = {"rtol": 1e-2, "atol": 1e-2}
MERGE_TOL = {"rtol": 1e-5, "atol": 1e-5}
# model-level logits: see README ("Model logits tolerance")
LOGITS_TOL = {"rtol": 1e-3, "atol": 4e-2}

# tiny model
MODEL_SEED = 20250901
EMBED_STD = 2.0
LM_HEAD_GAIN = 8.0
HIDDEN, LAYERS, HEADS, KV_HEADS, INTER, MAX_SEG = 768, 2, 6, 1, 512, 32


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------
def bf16_bits(x):
    return st_io.f32_to_bf16_bits(x.detach().to(torch.float32).numpy())


def bf16_vals(bits):
    return torch.from_numpy(st_io.bf16_bits_to_f32(bits).astype(np.float64))


def f32(x):
    return x.detach().to(torch.float32).numpy()


def i32(x):
    return np.asarray(x, dtype=np.int32)


class Writer:
    def __init__(self, out):
        self.out = out
        self.cases = []

    def case(self, name, kind, sub, seed, scalars, inputs, expected, tolerance, extra=None):
        """inputs/expected: dict name -> (dtype, array)."""
        rel = "%s/%s.safetensors" % (sub, name)
        os.makedirs(os.path.join(self.out, sub), exist_ok=True)
        tensors = dict(inputs)
        tensors.update(expected)
        st_io.save(os.path.join(self.out, rel), tensors)
        c = {"name": name, "kind": kind, "file": rel, "seed": seed, "scalars": scalars,
             "inputs": {k: {"dtype": v[0], "shape": list(np.shape(v[1]))} for k, v in sorted(inputs.items())},
             "expected": {k: {"dtype": v[0], "shape": list(np.shape(v[1]))} for k, v in sorted(expected.items())},
             "tolerance": tolerance}
        if extra:
            c.update(extra)
        self.cases.append(c)


def gen(seed):
    torch.manual_seed(seed)
    g = torch.Generator()
    g.manual_seed(seed)
    return g


def randn(g, *shape, std=1.0):
    return torch.randn(*shape, generator=g, dtype=torch.float32) * std


class Pool:
    """A garbage-filled paged pool [num_pages, PS, HKV, D] (BF16 values as float64) with pages
    handed out in a shuffled order."""

    def __init__(self, g, num_pages):
        self.num_pages = num_pages
        self.k = bf16_vals(bf16_bits((torch.rand(num_pages, PS, HKV, D, generator=g) - 0.5) * 60))
        self.v = bf16_vals(bf16_bits((torch.rand(num_pages, PS, HKV, D, generator=g) - 0.5) * 60))
        self.free = torch.randperm(num_pages, generator=g).tolist()
        self.g = g

    def alloc(self, length, fill=True):
        """Pages for `length` tokens; fills their K/V with real values (std 1). Returns page ids."""
        n = (length + PS - 1) // PS
        pages, self.free = self.free[:n], self.free[n:]
        assert len(pages) == n, "pool too small"
        if fill:
            for t in range(length):
                p, o = pages[t // PS], t % PS
                self.k[p, o] = bf16_vals(bf16_bits(randn(self.g, HKV, D)))
                self.v[p, o] = bf16_vals(bf16_bits(randn(self.g, HKV, D)))
        return pages

    def tensors(self, kname="k_cache", vname="v_cache"):
        return {kname: ("BF16", bf16_bits(self.k)), vname: ("BF16", bf16_bits(self.v))}


def csr(page_lists, lengths):
    indptr = [0]
    indices = []
    last = []
    for pages, L in zip(page_lists, lengths):
        indices += pages
        indptr.append(len(indices))
        last.append(L - (len(pages) - 1) * PS if pages else 0)
    return indptr, indices, last


def pages_needed(lengths):
    return sum((L + PS - 1) // PS for L in lengths)


def rand_q(g, n):
    return bf16_vals(bf16_bits(randn(g, n, HQ, D, std=2.0)))


# ------------------------------------------------------------------------------------------------
# kernel-level cases
# ------------------------------------------------------------------------------------------------
def phase1_case(w, name, seed, plen, own, sm):
    """P paths of `own` tokens over a shared prompt of `plen` tokens, in a garbage-filled pool."""
    g = gen(seed)
    pool = Pool(g, pages_needed([plen]) + pages_needed(own) + 3)
    prompt = pool.alloc(plen)
    plist = [pool.alloc(L) for L in own]
    indptr, indices, last = csr(plist, own)
    q = rand_q(g, len(own))
    r = ref.phase1(q, pool.k, pool.v, prompt, plen, indptr, indices, last, sm)
    om, lm = ref.merge_states(r["o_prompt"], r["lse_prompt"], r["o_own"], r["lse_own"])
    assert torch.allclose(om, r["o"], atol=1e-12) and torch.allclose(lm, r["lse"], atol=1e-12)
    inputs = {"q": ("BF16", bf16_bits(q)), "prompt_indices": ("I32", i32(prompt)),
              "indptr": ("I32", i32(indptr)), "indices": ("I32", i32(indices)),
              "last_page_len": ("I32", i32(last))}
    inputs.update(pool.tensors())
    w.case(name, "phase1", "kernels", seed,
           {"page_size": PS, "sm_scale": sm, "prompt_len": plen, "own_lens": own,
            "num_paths": len(own), "num_pages": pool.num_pages},
           inputs, {k: ("F32", f32(v)) for k, v in r.items()}, KERNEL_BF16_TOL)


def kernel_cases(w):
    sm = 1.0 / math.sqrt(D)

    # rope_append -------------------------------------------------------------------------------
    ra_specs = [
        ("rope_append_plain_te", 101, 1.0, True, 21),
        ("rope_append_plain_note", 102, 1.0, False, 9),
        ("rope_append_yarn_te", 103, 2.0, True, 19),
        ("rope_append_yarn_note", 104, 2.0, False, 7),
    ]
    for name, seed, f, te, T in ra_specs:
        g = gen(seed)
        qkv = bf16_vals(bf16_bits(randn(g, T, (HQ + 2 * HKV) * D)))
        fixed = [0, 1, 17, 4095, 9279, 16000, 2 * 96 + 48 + 127]
        positions = [fixed[t] if t < len(fixed) else int(torch.randint(0, 5000, (1,), generator=g)) for t in range(T)]
        segs = [int(torch.randint(0, 9, (1,), generator=g)) for _ in range(T)]
        table = bf16_vals(bf16_bits(randn(g, MAX_SEG, D, std=0.5))) if te else torch.zeros(MAX_SEG, D, dtype=DT)
        npages = (T + PS - 1) // PS + 3
        pool = Pool(g, npages)
        slots = torch.randperm(npages * PS, generator=g)[:T].tolist()
        for t in range(T):
            if t % 5 == 3:
                slots[t] = -1
        theta, L0, bfst, bslw = 10000.0, 9280, 32.0, 1.0
        q, ko, vo = ref.rope_append(qkv, positions, segs, slots, table, pool.k, pool.v, HQ, HKV, D,
                                    theta, f, L0, bfst, bslw)
        inputs = {"qkv": ("BF16", bf16_bits(qkv)), "positions": ("I32", i32(positions)),
                  "segment_ids": ("I32", i32(segs)), "slot_mapping": ("I32", i32(slots)),
                  "thought_table": ("BF16", bf16_bits(table))}
        inputs.update(pool.tensors("k_cache_in", "v_cache_in"))
        expected = {"q_out": ("F32", f32(q)), "k_cache_out": ("F32", f32(ko)), "v_cache_out": ("F32", f32(vo))}
        scal = {"theta": theta, "yarn_factor": f, "yarn_original_max": L0, "beta_fast": bfst,
                "beta_slow": bslw, "page_size": PS, "q_heads": HQ, "kv_heads": HKV, "head_dim": D,
                "thought_embeddings": te}
        w.case(name, "rope_append", "kernels", seed, scal, inputs, expected, KERNEL_BF16_TOL)

    # decode ------------------------------------------------------------------------------------
    for name, seed, lens in [("decode_mixed", 201, [1, 16, 17, 5, 40, 33]),
                             ("decode_long", 202, [300, 129])]:
        g = gen(seed)
        pool = Pool(g, pages_needed(lens) + 4)
        plist = [pool.alloc(L) for L in lens]
        indptr, indices, last = csr(plist, lens)
        q = rand_q(g, len(lens))
        o, lse = ref.decode(q, pool.k, pool.v, indptr, indices, last, sm)
        # self-check against the model-style dense attention over the gathered sequence
        for b, L in enumerate(lens):
            k = ref.gather(pool.k, plist[b], L)
            v = ref.gather(pool.v, plist[b], L)
            o2, l2 = ref.attend(q[b:b + 1], k, v, ref.collator_mask([1] * L)[-1:], sm)
            assert torch.allclose(o2, o[b:b + 1], atol=1e-12) and torch.allclose(l2, lse[b:b + 1], atol=1e-12)
        inputs = {"q": ("BF16", bf16_bits(q)), "indptr": ("I32", i32(indptr)),
                  "indices": ("I32", i32(indices)), "last_page_len": ("I32", i32(last))}
        inputs.update(pool.tensors())
        w.case(name, "decode", "kernels", seed,
               {"page_size": PS, "sm_scale": sm, "seq_lens": lens, "num_pages": pool.num_pages},
               inputs, {"o": ("F32", f32(o)), "lse": ("F32", f32(lse))}, KERNEL_BF16_TOL)

    # prefill -----------------------------------------------------------------------------------
    pf_specs = [
        ("prefill_prompt", 301, 0, [37], [37]),
        ("prefill_forced_p3", 302, 32, [1, 1, 1], [1, 1, 1]),
        ("prefill_ragged_p3", 303, 32, [5, 17, 2], [2, 17, 1]),
        ("prefill_summary_template", 304, 48, [30], [19]),
    ]
    for name, seed, plen, own, qo in pf_specs:
        g = gen(seed)
        pool = Pool(g, pages_needed([plen]) + pages_needed(own) + 3)
        prefix = pool.alloc(plen) if plen else []
        plist = [pool.alloc(L) for L in own]
        indptr, indices, last = csr(plist, own)
        qo_indptr = [0]
        for n in qo:
            qo_indptr.append(qo_indptr[-1] + n)
        q = rand_q(g, qo_indptr[-1])
        o, lse = ref.prefill(q, qo_indptr, prefix, plen, pool.k, pool.v, indptr, indices, last, sm)
        inputs = {"q": ("BF16", bf16_bits(q)), "qo_indptr": ("I32", i32(qo_indptr)),
                  "prefix_indices": ("I32", i32(prefix)), "indptr": ("I32", i32(indptr)),
                  "indices": ("I32", i32(indices)), "last_page_len": ("I32", i32(last))}
        inputs.update(pool.tensors())
        w.case(name, "prefill", "kernels", seed,
               {"page_size": PS, "sm_scale": sm, "prefix_len": plen, "own_lens": own, "qo_lens": qo,
                "num_pages": pool.num_pages},
               inputs, {"o": ("F32", f32(o)), "lse": ("F32", f32(lse))}, KERNEL_BF16_TOL)

    # summary -----------------------------------------------------------------------------------
    sm_specs = [
        ("summary_p1", 401, [32, 16, 1], 1),
        ("summary_p3_partial", 402, [32, 21, 7, 16, 9], 5),
        ("summary_p8", 403, [48] + [32] * 8 + [3], 1),
    ]
    for name, seed, lens, nq in sm_specs:
        g = gen(seed)
        pool = Pool(g, pages_needed(lens) + 3)
        plist = [pool.alloc(L) for L in lens]
        seg_indptr, indices, last = csr(plist, lens)
        q = rand_q(g, nq)
        o, lse = ref.summary(q, pool.k, pool.v, seg_indptr, indices, last, sm)
        inputs = {"q": ("BF16", bf16_bits(q)), "seg_indptr": ("I32", i32(seg_indptr)),
                  "indices": ("I32", i32(indices)), "last_page_len": ("I32", i32(last))}
        inputs.update(pool.tensors())
        w.case(name, "summary", "kernels", seed,
               {"page_size": PS, "sm_scale": sm, "segment_lens": lens, "num_paths": len(lens) - 2,
                "num_pages": pool.num_pages},
               inputs, {"o": ("F32", f32(o)), "lse": ("F32", f32(lse))}, KERNEL_BF16_TOL)

    # merge -------------------------------------------------------------------------------------
    g = gen(501)
    N = 9
    o_a, o_b = randn(g, N, HQ, D).to(DT), randn(g, N, HQ, D).to(DT)
    lse_a = (randn(g, N, HQ) * 3).to(DT)
    lse_b = (randn(g, N, HQ) * 3).to(DT)
    lse_a[0, :] = -math.inf
    lse_b[1, :] = -math.inf
    lse_a[2, :] = -math.inf
    lse_b[2, :] = -math.inf
    lse_a[3, ::3] = -math.inf
    lse_b[4, ::4] = -math.inf
    lse_a[5, 0], lse_b[5, 0] = 80.0, -70.0
    o_a[lse_a == -math.inf] = 0.0
    o_b[lse_b == -math.inf] = 0.0
    o_a, o_b = o_a.to(torch.float32).to(DT), o_b.to(torch.float32).to(DT)
    lse_a, lse_b = lse_a.to(torch.float32).to(DT), lse_b.to(torch.float32).to(DT)
    o, lse = ref.merge_states(o_a, lse_a, o_b, lse_b)
    w.case("merge_mixed", "merge", "kernels", 501, {"num_heads": HQ, "head_dim": D},
           {"o_a": ("F32", f32(o_a)), "o_b": ("F32", f32(o_b)), "lse_a": ("F32", f32(lse_a)),
            "lse_b": ("F32", f32(lse_b))},
           {"o": ("F32", f32(o)), "lse": ("F32", f32(lse))}, MERGE_TOL)

    # phase1 ------------------------------------------------------------------------------------
    p1_specs = [
        ("phase1_p1", 601, 16, [1]),
        ("phase1_p3", 602, 32, [1, 17, 30]),
        ("phase1_p8", 603, 48, [1, 2, 16, 17, 5, 32, 9, 24]),
    ]
    for name, seed, plen, own in p1_specs:
        phase1_case(w, name, seed, plen, own, sm)


# ------------------------------------------------------------------------------------------------
# decode attention (the decode kernel: one-query items, and cascade items of several paths over
# their prompt): phase-1 steps at P = 1, 3, 8, 16, mixed decode lengths and a one-query summary
# over 16 paths, odd lengths and partial pages
# ------------------------------------------------------------------------------------------------
def decode_attention_cases(w):
    sm = 1.0 / math.sqrt(D)
    for name, seed, plen, own in [
        ("dattn_phase1_p1", 701, 37, [21]),
        ("dattn_phase1_p3", 702, 45, [3, 29, 50]),
        ("dattn_phase1_p8", 703, 61, [1, 7, 16, 33, 18, 40, 9, 27]),
        ("dattn_phase1_p16", 704, 29, [5, 1, 17, 31, 2, 16, 48, 9, 13, 3, 33, 20, 7, 15, 40, 11]),
    ]:
        phase1_case(w, name, seed, plen, own, sm)

    g = gen(711)
    lens = [1, 15, 16, 17, 63, 100, 129, 7]
    pool = Pool(g, pages_needed(lens) + 4)
    plist = [pool.alloc(L) for L in lens]
    indptr, indices, last = csr(plist, lens)
    q = rand_q(g, len(lens))
    o, lse = ref.decode(q, pool.k, pool.v, indptr, indices, last, sm)
    inputs = {"q": ("BF16", bf16_bits(q)), "indptr": ("I32", i32(indptr)),
              "indices": ("I32", i32(indices)), "last_page_len": ("I32", i32(last))}
    inputs.update(pool.tensors())
    w.case("dattn_decode_mixed", "decode", "kernels", 711,
           {"page_size": PS, "sm_scale": sm, "seq_lens": lens, "num_pages": pool.num_pages},
           inputs, {"o": ("F32", f32(o)), "lse": ("F32", f32(lse))}, KERNEL_BF16_TOL)

    g = gen(721)
    lens = [45] + [9, 17, 3, 30, 16, 21, 5, 12, 33, 8, 1, 26, 19, 14, 7, 23] + [6]
    pool = Pool(g, pages_needed(lens) + 3)
    plist = [pool.alloc(L) for L in lens]
    seg_indptr, indices, last = csr(plist, lens)
    q = rand_q(g, 1)
    o, lse = ref.summary(q, pool.k, pool.v, seg_indptr, indices, last, sm)
    inputs = {"q": ("BF16", bf16_bits(q)), "seg_indptr": ("I32", i32(seg_indptr)),
              "indices": ("I32", i32(indices)), "last_page_len": ("I32", i32(last))}
    inputs.update(pool.tensors())
    w.case("dattn_summary_p16", "summary", "kernels", 721,
           {"page_size": PS, "sm_scale": sm, "segment_lens": lens, "num_paths": len(lens) - 2,
            "num_pages": pool.num_pages},
           inputs, {"o": ("F32", f32(o)), "lse": ("F32", f32(lse))}, KERNEL_BF16_TOL)


# ------------------------------------------------------------------------------------------------
# ragged batches (continuous batching): several requests' rows in one plan, each group over its own
# request's segments; odd lengths and partial pages
# ------------------------------------------------------------------------------------------------
def ragged_case(w, name, seed, spec, sm):
    """spec: prefill = (own_len, qo) of request C (continuing its partly filled prompt); A and B =
    (prompt_len, path_lens): one phase-1 row per path over its request's prompt; summary =
    (own_len, qo) of A's summary over A's prompt and paths. Groups: C, A's paths, A's summary, B's
    paths (A's prompt shared by four consecutive groups)."""
    g = gen(seed)
    (c_len, c_qo), (a_plen, a_paths), (b_plen, b_paths), (s_len, s_qo) = spec
    seg_lens = [c_len, a_plen] + a_paths + [b_plen] + b_paths + [s_len]
    pool = Pool(g, pages_needed(seg_lens) + 3)
    plist = [pool.alloc(L) for L in seg_lens]
    seg_indptr, indices, last = csr(plist, seg_lens)
    a_prompt, b_prompt = 1, 2 + len(a_paths)
    a_path = list(range(2, 2 + len(a_paths)))
    b_path = list(range(b_prompt + 1, b_prompt + 1 + len(b_paths)))
    groups = [([0], c_qo)] + [([a_prompt, p], 1) for p in a_path] + [([a_prompt] + a_path + [len(seg_lens) - 1], s_qo)]
    groups += [([b_prompt, p], 1) for p in b_path]
    qo_indptr, group_indptr, group_segments = [0], [0], []
    for segs, n in groups:
        qo_indptr.append(qo_indptr[-1] + n)
        group_segments += segs
        group_indptr.append(len(group_segments))
    q = rand_q(g, qo_indptr[-1])
    o, lse = ref.ragged(q, pool.k, pool.v, qo_indptr, group_indptr, group_segments, seg_indptr, indices, last, sm)
    # self-check: A's path rows are phase 1 over A's prompt
    r = ref.phase1(q[c_qo:c_qo + len(a_paths)], pool.k, pool.v, plist[a_prompt], a_plen,
                   *csr([plist[p] for p in a_path], a_paths), sm)
    assert torch.allclose(r["o"], o[c_qo:c_qo + len(a_paths)], atol=1e-12)
    inputs = {"q": ("BF16", bf16_bits(q)), "qo_indptr": ("I32", i32(qo_indptr)),
              "group_indptr": ("I32", i32(group_indptr)), "group_segments": ("I32", i32(group_segments)),
              "seg_indptr": ("I32", i32(seg_indptr)), "indices": ("I32", i32(indices)),
              "last_page_len": ("I32", i32(last))}
    inputs.update(pool.tensors())
    w.case(name, "ragged", "kernels", seed,
           {"page_size": PS, "sm_scale": sm, "segment_lens": seg_lens, "num_groups": len(groups),
            "num_pages": pool.num_pages},
           inputs, {"o": ("F32", f32(o)), "lse": ("F32", f32(lse))}, KERNEL_BF16_TOL)


def ragged_cases(w):
    sm = 1.0 / math.sqrt(D)
    # a prefill chunk of 5 among one-query rows: the wide variant
    ragged_case(w, "ragged_mixed", 801, ((21, 5), (37, [3, 18, 9]), (29, [17, 1]), (6, 1)), sm)
    # every group one query (C's decode row): the decode variant
    ragged_case(w, "ragged_decode", 802, ((40, 1), (45, [1, 16, 33]), (19, [7, 2]), (1, 1)), sm)


# ------------------------------------------------------------------------------------------------
# tiny model
# ------------------------------------------------------------------------------------------------
def round_up(x, m):
    return (x + m - 1) // m * m


def make_model(tok, stop_boost):
    """Random tiny ParaThinker checkpoint. Returns (config, name -> bf16 bits, name -> float64).
    stop_boost: the lm_head rows of the stop-set tokens are multiplied by this factor (>= 1), so
    that a path can finish by a stop token (documented in the README)."""
    V = round_up(tok.size, 64)
    Dh = HIDDEN // HEADS
    g = gen(MODEL_SEED)
    s = 1.0 / math.sqrt(HIDDEN)
    shapes = [("model.embed_tokens.weight", (V, HIDDEN), EMBED_STD, 0.0)]
    for l in range(LAYERS):
        p = "model.layers.%d." % l
        shapes += [
            (p + "input_layernorm.weight", (HIDDEN,), 0.1, 1.0),
            (p + "self_attn.q_proj.weight", (HEADS * Dh, HIDDEN), 1.5 * s, 0.0),
            (p + "self_attn.q_proj.bias", (HEADS * Dh,), 0.3, 0.0),
            (p + "self_attn.k_proj.weight", (KV_HEADS * Dh, HIDDEN), 1.5 * s, 0.0),
            (p + "self_attn.k_proj.bias", (KV_HEADS * Dh,), 0.5, 0.0),
            (p + "self_attn.v_proj.weight", (KV_HEADS * Dh, HIDDEN), s, 0.0),
            (p + "self_attn.v_proj.bias", (KV_HEADS * Dh,), 0.2, 0.0),
            (p + "self_attn.o_proj.weight", (HIDDEN, HEADS * Dh), s, 0.0),
            (p + "self_attn.seg_embeddings.weight", (MAX_SEG, Dh), 0.5, 0.0),
            (p + "post_attention_layernorm.weight", (HIDDEN,), 0.1, 1.0),
            (p + "mlp.gate_proj.weight", (INTER, HIDDEN), s, 0.0),
            (p + "mlp.up_proj.weight", (INTER, HIDDEN), s, 0.0),
            (p + "mlp.down_proj.weight", (HIDDEN, INTER), 1.0 / math.sqrt(INTER), 0.0),
        ]
    shapes += [("model.norm.weight", (HIDDEN,), 0.1, 1.0),
               ("lm_head.weight", (V, HIDDEN), LM_HEAD_GAIN * s, 0.0)]
    bits, w64 = {}, {}
    for name, shape, std, mean in shapes:
        x = randn(g, *shape, std=std) + mean
        if name == "lm_head.weight":
            x[tok.size:] = 0.0                      # ids the tokenizer never produces
            for sid in stop_ids(tok):
                x[sid] *= stop_boost
        bits[name] = bf16_bits(x)
        w64[name] = bf16_vals(bits[name])
    cfg = {
        "architectures": ["Qwen2ForCausalLM"],
        "attention_dropout": 0.0,
        "bos_token_id": tok.id(tt.BOS),
        "eos_token_id": tok.id(tt.EOS),
        "hidden_act": "silu",
        "hidden_size": HIDDEN,
        "initializer_range": 0.02,
        "intermediate_size": INTER,
        "max_position_embeddings": 4096,
        "max_segments": MAX_SEG,
        "max_window_layers": LAYERS,
        "model_type": "qwen2",
        "num_attention_heads": HEADS,
        "num_hidden_layers": LAYERS,
        "num_key_value_heads": KV_HEADS,
        "rms_norm_eps": 1e-06,
        "rope_scaling": None,
        "rope_theta": 10000.0,
        "sliding_window": None,
        "tie_word_embeddings": False,
        "torch_dtype": "bfloat16",
        "transformers_version": "4.46.3",
        "use_cache": True,
        "use_mrope": False,
        "use_sliding_window": False,
        "vocab_size": V,
    }
    return cfg, bits, w64


def stop_ids(tok):
    return [tok.id(tt.END_THINK)] + [tok.id("</think%d>" % k) for k in range(1, 9)] + [tok.id(tt.END_SUMMARY)]


def write_model(out, tok, cfg, bits):
    d = os.path.join(out, "tiny-model")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        f.write(json.dumps(cfg, indent=2) + "\n")
    gc = {"_from_model_config": True, "bos_token_id": tok.id(tt.BOS), "eos_token_id": tok.id(tt.EOS),
          "do_sample": True, "temperature": 0.6, "top_p": 0.95, "transformers_version": "4.46.3"}
    with open(os.path.join(d, "generation_config.json"), "w") as f:
        f.write(json.dumps(gc, indent=2) + "\n")
    st_io.save(os.path.join(d, "model.safetensors"), {k: ("BF16", v) for k, v in bits.items()})
    with open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8") as f:
        f.write(tok.tokenizer_json())
    with open(os.path.join(d, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        f.write(tok.tokenizer_config_json())


# ------------------------------------------------------------------------------------------------
# model-level: score cases
# ------------------------------------------------------------------------------------------------
def engine_prompt(tok, text, B=PS):
    """model/SEMANTICS.md §4: encode (adds BOS), pad so that len+1 is a
    multiple of B, decode to text, encode again (adds BOS again)."""
    ids = tok.encode(text)
    L = len(ids) + 1
    if L % B:
        ids += [tok.id(tt.PAD)] * (B - L % B)
    again = tok.encode(tok.decode(ids))
    assert again == [tok.id(tt.BOS)] + ids, "prompt round trip"
    assert len(again) % B == 0
    return again


def score_cases(w, tok, model):
    V = model.W["lm_head.weight"].shape[0]
    plain_ids = list(range(0, tok.size - len(tt.ADDED)))  # byte/merge ids only
    specs = [
        ("score_p1", 701, 1, [16], None),
        ("score_p3_equal", 702, 3, [16, 16, 16], None),
        ("score_p3_unequal", 703, 3, [16, 11, 23], None),
        ("score_p2_yarn", 704, 2, [16, 16], {"factor": 2.0, "original_max_position_embeddings": 9280,
                                              "beta_fast": 32.0, "beta_slow": 1.0}),
    ]
    for name, seed, P, lens, yarn in specs:
        g = gen(seed)

        def rnd(n):
            return [plain_ids[int(i)] for i in torch.randint(0, len(plain_ids), (n,), generator=g)]
        body = rnd(22)
        prompt = [tok.id(tt.BOS), tok.id(tt.BOS), tok.id(tt.USER)] + body + [tok.id(tt.ASSISTANT), tok.id(tt.THINK)]
        prompt += [tok.id(tt.PAD)] * ((PS - len(prompt) % PS) % PS)
        Lp = len(prompt)
        paths = []
        unequal = len(set(lens)) > 1
        for i, n in enumerate(lens):
            start = tok.id("<think%d>" % (i + 1))
            if unequal:   # training style: every path ends with its end token
                paths.append([start] + rnd(n - 2) + [start + 1])
            else:         # engine style: equal lengths, cut mid-thought
                paths.append([start] + rnd(n - 1))
        summ = [tok.id(tt.SUMMARY)] + rnd(7)
        n = max(lens)
        ids = prompt + sum(paths, []) + summ
        out = {}
        for which, base in (("logits_engine", 2 * Lp + n), ("logits_training", Lp + n)):
            pos, seg, lab = ref.parathinker_layout(Lp, lens, len(summ), base)
            out[which] = ("F32", f32(model.forward(ids, pos, seg, lab, kv_bf16=True, yarn=yarn)))
        if name == "score_p3_equal":
            cross_check_kernels(model, ids, Lp, lens, len(summ))
        tokens_rel = "model/%s.json" % name
        with open(os.path.join(w.out, tokens_rel), "w") as f:
            f.write(json_lines({"prompt": prompt, "paths": paths, "summary": summ}))
        scal = {"P": P, "Lp": Lp, "path_lens": lens, "n": n, "summary_len": len(summ),
                "summary_base_engine": 2 * Lp + n, "summary_base_training": Lp + n,
                "yarn_factor": yarn["factor"] if yarn else 1.0, "kv_cache_dtype": "BF16",
                "vocab_size": V}
        if yarn:
            scal.update({"yarn_original_max": 9280, "beta_fast": 32.0, "beta_slow": 1.0})
        w.case(name, "score", "model", seed, scal, {}, out, LOGITS_TOL,
               extra={"tokens": tokens_rel, "model_dir": "tiny-model"})


def cross_check_kernels(model, ids, Lp, lens, sum_len):
    """Self-check: the kernel-level semantics (phase1, summary, decode over a paged pool with
    shuffled pages) reproduce the model's dense masked attention, layer by layer."""
    n = max(lens)
    pos, seg, lab = ref.parathinker_layout(Lp, lens, sum_len, 2 * Lp + n)
    _, per_layer = model.forward(ids, pos, seg, lab, kv_bf16=True, return_kv=True)
    sm = 1.0 / math.sqrt(model.D)
    for q, k, v, o in per_layer:
        parts = [(0, Lp)]
        off = Lp
        for L in lens:
            parts.append((off, L))
            off += L
        parts.append((off, sum_len))
        npages = pages_needed([p[1] for p in parts]) + 2
        perm = torch.randperm(npages, generator=gen(9)).tolist()
        kc = torch.zeros(npages, PS, model.Hkv, model.D, dtype=DT)
        vc = torch.zeros_like(kc)
        plists = []
        for start, L in parts:
            pages, perm = perm[:(L + PS - 1) // PS], perm[(L + PS - 1) // PS:]
            for t in range(L):
                kc[pages[t // PS], t % PS] = k[start + t]
                vc[pages[t // PS], t % PS] = v[start + t]
            plists.append(pages)
        # phase 1: last token of each path
        indptr, indices, last = csr(plists[1:-1], lens)
        qs = torch.stack([q[s + L - 1] for s, L in parts[1:-1]])
        r = ref.phase1(qs, kc, vc, plists[0], Lp, indptr, indices, last, sm)
        want = torch.stack([o[s + L - 1] for s, L in parts[1:-1]])
        assert torch.allclose(r["o"], want, atol=1e-10)
        # summary: all summary queries at once
        seg_indptr, indices, last = csr(plists, [p[1] for p in parts])
        os_, _ = ref.summary(q[off:off + sum_len], kc, vc, seg_indptr, indices, last, sm)
        assert torch.allclose(os_, o[off:off + sum_len], atol=1e-10)
        # decode: the prompt's last token over the prompt
        indptr, indices, last = csr([plists[0]], [Lp])
        od, _ = ref.decode(q[Lp - 1:Lp], kc, vc, indptr, indices, last, sm)
        assert torch.allclose(od, o[Lp - 1:Lp], atol=1e-10)


# ------------------------------------------------------------------------------------------------
# model-level: the released engine's flow (greedy)
# ------------------------------------------------------------------------------------------------
PROMPT_TEMPLATE = (tt.USER + "{} You FIRST think about the reasoning process as an internal monologue"
                   "     and then summarize the reasoning process to get the final answer. The summary"
                   " process MUST BE enclosed     within <summary> </summary> tags. The final answer MUST"
                   " BE put in \\boxed{{}}." + tt.ASSISTANT + tt.THINK)
SUMMARY_TEXT = "By analyzing multiple reasoning processes above, I concluded that: The final answer is"


class Incremental:
    """K/V-keeping evaluation used only to *drive* the greedy flow quickly; every decision is
    re-verified afterwards with one naive full-sequence forward (ref.Model.forward)."""

    def __init__(self, model):
        self.m = model
        self.k = [None] * model.L
        self.v = [None] * model.L
        self.labels = []
        self.w, self.ms = ref.rope_freqs(model.D, model.theta)

    def add(self, ids, pos, seg, labels):
        m, W, D = self.m, self.m.W, self.m.D
        T = len(ids)
        ids = torch.as_tensor(ids, dtype=torch.long)
        pos = torch.as_tensor(pos, dtype=torch.long)
        seg = torch.as_tensor(seg, dtype=torch.long)
        allowed = ref.collator_mask(self.labels + list(labels))[len(self.labels):]
        self.labels += list(labels)
        x = W["model.embed_tokens.weight"][ids]
        for l in range(m.L):
            p = "model.layers.%d." % l
            h = ref.rmsnorm(x, W[p + "input_layernorm.weight"], m.eps)
            q = (h @ W[p + "self_attn.q_proj.weight"].T + W[p + "self_attn.q_proj.bias"]).view(T, m.Hq, D)
            k = (h @ W[p + "self_attn.k_proj.weight"].T + W[p + "self_attn.k_proj.bias"]).view(T, m.Hkv, D)
            v = (h @ W[p + "self_attn.v_proj.weight"].T + W[p + "self_attn.v_proj.bias"]).view(T, m.Hkv, D)
            e = W[p + "self_attn.seg_embeddings.weight"][seg]
            k, v = k + e[:, None, :], v + e[:, None, :]
            q = ref.apply_rope(q, pos, self.w, self.ms)
            k = ref.bf16_round(ref.apply_rope(k, pos, self.w, self.ms))
            v = ref.bf16_round(v)
            self.k[l] = k if self.k[l] is None else torch.cat([self.k[l], k])
            self.v[l] = v if self.v[l] is None else torch.cat([self.v[l], v])
            o, _ = ref.attend(q, self.k[l], self.v[l], allowed, 1.0 / math.sqrt(D))
            x = x + o.reshape(T, m.Hq * D) @ W[p + "self_attn.o_proj.weight"].T
            h = ref.rmsnorm(x, W[p + "post_attention_layernorm.weight"], m.eps)
            x = x + (torch.nn.functional.silu(h @ W[p + "mlp.gate_proj.weight"].T)
                     * (h @ W[p + "mlp.up_proj.weight"].T)) @ W[p + "mlp.down_proj.weight"].T
        h = ref.rmsnorm(x, W["model.norm.weight"], m.eps)
        return h @ W["lm_head.weight"].T


def margin(row):
    t = torch.topk(row, 2).values
    return float(t[0] - t[1])


def run_flow(tok, model, question, P, max_tokens=48, summary_max=128, B=PS, verify=True):
    """model/SEMANTICS.md §4, §6, §9 under greedy decoding."""
    think_ids = [tok.id("<think%d>" % k) for k in range(1, 9)]
    STOP = set(stop_ids(tok))
    REPLACE = set(think_ids) | {tok.id(tt.SUMMARY)}
    PADID, THINK, SUMM, ENDS = tok.id(tt.PAD), tok.id(tt.THINK), tok.id(tt.SUMMARY), tok.id(tt.END_SUMMARY)
    template = tok.encode(tt.SUMMARY + SUMMARY_TEXT, add_special_tokens=False)
    assert template[0] == SUMM
    prompt = engine_prompt(tok, PROMPT_TEMPLATE.format(question), B)
    Lp = len(prompt)
    run = Incremental(model)
    run.add(prompt, list(range(Lp)), [0] * Lp, [ref.PROMPT_LABEL] * Lp)   # sampled token discarded
    out = [[think_ids[i]] for i in range(P)]
    padding = [False] * P
    reason = [None] * P
    decisions = []   # (path index or 'S', index of the processed token in its part, chosen raw argmax)
    while True:
        logits = run.add([o[-1] for o in out], [Lp + len(o) - 1 for o in out],
                         [i + 1 for i in range(P)], [i + 2 for i in range(P)])
        for i in range(P):
            last, ol = out[i][-1], len(out[i])
            if last in STOP:
                if ol % B == 0:
                    reason[i] = "stop"
                else:
                    padding[i] = True
            elif padding[i] and ol % B == 0:
                reason[i] = "stop"
                padding[i] = False
            elif ol == max_tokens:
                reason[i] = "length"
        if any(r is not None for r in reason):
            break
        for i in range(P):
            s = int(torch.argmax(logits[i]))
            if not padding[i]:
                decisions.append((i, len(out[i]) - 1, s, margin(logits[i])))
            t = s
            if s in REPLACE:
                t = THINK
            elif s in STOP:
                t = think_ids[i] + 1
            if padding[i]:
                t = PADID
            out[i].append(t)
    n = len(out[0])
    assert all(len(o) == n for o in out) and n % B == 0
    summ = [SUMM]
    t = 0
    while True:
        logits = run.add([summ[-1]], [2 * Lp + n + t], [0], [ref.SUMMARY_LABEL])
        if t + 1 < len(template):
            tok_out = template[t + 1]
        else:
            tok_out = int(torch.argmax(logits[0]))
            decisions.append(("S", t, tok_out, margin(logits[0])))
        if tok_out in STOP:
            summ.append(ENDS)
            break
        summ.append(tok_out)
        t += 1
        if t + 1 == summary_max:
            break
    res = {"question": question, "P": P, "Lp": Lp, "n": n, "prompt": prompt, "paths": out,
           "finish_reason": reason, "summary": summ, "template": template,
           "min_margin": min(d[3] for d in decisions), "decisions": decisions}
    if verify:
        verify_flow(model, res)
    return res


def verify_flow(model, res):
    """One naive full-sequence forward over prompt | paths | processed summary tokens with the
    collator mask; every greedy decision must be its argmax, margins are taken from it."""
    Lp, n, P = res["Lp"], res["n"], res["P"]
    proc_summ = res["summary"][:-1]
    ids = res["prompt"] + sum(res["paths"], []) + proc_summ
    pos, seg, lab = ref.parathinker_layout(Lp, [n] * P, len(proc_summ), 2 * Lp + n)
    logits = model.forward(ids, pos, seg, lab, kv_bf16=True)
    mins = []
    for who, idx, chosen, mg in res["decisions"]:
        row = Lp + idx + (who * n if who != "S" else P * n)
        r = logits[row]
        assert int(torch.argmax(r)) == chosen, "full forward disagrees with the driven flow"
        m2 = margin(r)
        assert abs(m2 - mg) < 1e-6
        mins.append(m2)
    res["min_margin"] = min(mins)


FLOW_QUESTIONS = ["What is 2 + 3?", "What is 6 times 7?", "Solve 3x + 7 = 22 for x.",
                  "What is the sum of the first ten positive integers?"]
STOP_BOOSTS = [1.0, 1.1, 1.2, 1.3, 1.4, 1.5]


def flow_ok(r, max_tokens):
    """A path finished by a stop token (after at least one full page of thinking), before the cap,
    and every greedy decision has a top-1/top-2 margin > 0.05."""
    return r["min_margin"] > 0.05 and "stop" in r["finish_reason"] and PS < r["n"] < max_tokens


def choose_model_and_flow(tok, max_tokens):
    """Deterministic search over (stop boost, question), in list order: the first pair whose P=3
    and P=2 greedy flows pass flow_ok (P=2 only needs the margin). Falls back to the pair with
    the largest P=3 min margin."""
    best = None
    for boost in STOP_BOOSTS:
        cfg, bits, w64 = make_model(tok, boost)
        model = ref.Model(cfg, w64)
        for q in FLOW_QUESTIONS:
            r = run_flow(tok, model, q, 3, max_tokens, verify=False)
            if flow_ok(r, max_tokens):
                r2 = run_flow(tok, model, q, 2, max_tokens, verify=False)
                if r2["min_margin"] > 0.05:
                    return boost, q, cfg, bits, model
            if best is None or r["min_margin"] > best[0]:
                best = (r["min_margin"], boost, q)
    _, boost, q = best
    cfg, bits, w64 = make_model(tok, boost)
    return boost, q, cfg, bits, ref.Model(cfg, w64)


def json_lines(doc):
    """One top-level key per line, values compact."""
    return "{\n" + ",\n".join(" %s: %s" % (json.dumps(k), json.dumps(v, ensure_ascii=False))
                               for k, v in doc.items()) + "\n}\n"


def flow_cases(w, tok, model, boost, question, max_tokens):
    for P in (3, 2):
        r = run_flow(tok, model, question, P, max_tokens)
        name = "flow_p%d" % P
        out_ids = sum(r["paths"], []) + r["summary"]
        stops = stop_ids(tok)
        doc = {
            "question": question,
            "prompt_text": PROMPT_TEMPLATE.format(question),
            "prompt_ids": r["prompt"],
            "Lp": r["Lp"],
            "P": P,
            "n": r["n"],
            "paths": r["paths"],
            "finish_reason": r["finish_reason"],
            "summary": r["summary"],
            "output_ids": out_ids,
            "text": tok.decode(out_ids),
            "summary_text": tok.decode(r["summary"]),
            "min_margin": round(r["min_margin"], 6),
            "num_greedy_decisions": len(r["decisions"]),
            "engine": {
                "block_size": PS,
                "max_tokens": max_tokens,
                "summary_max_tokens": 128,
                "sampling": "greedy (argmax over all vocab_size logits)",
                "ignore_eos": True,
                "stop_tokens": [tt.END_THINK] + ["</think%d>" % k for k in range(1, 9)] + [tt.END_SUMMARY],
                "stop_ids": stops,
                "cot_token_ids": [tok.id("<think%d>" % k) for k in range(1, 9)][:P],
                "think_token_id": tok.id(tt.THINK),
                "pad_token_id": tok.id(tt.PAD),
                "summary_token_ids": r["template"],
                "summary_template_text": tt.SUMMARY + SUMMARY_TEXT,
                "summary_base": "2*Lp+n",
                "summary_base_value": 2 * r["Lp"] + r["n"],
                "rope": "plain (theta 10000, no YaRN)",
                "kv_cache_dtype": "BF16",
                "termination": "first-finish",
                "lm_head_stop_boost": boost,
            },
        }
        rel = "model/%s.json" % name
        with open(os.path.join(w.out, rel), "w", encoding="utf-8") as f:
            f.write(json_lines(doc))
        w.cases.append({"name": name, "kind": "flow", "file": rel, "model_dir": "tiny-model",
                        "seed": MODEL_SEED, "scalars": {"P": P, "Lp": r["Lp"], "n": r["n"],
                                                        "max_tokens": max_tokens, "min_margin": doc["min_margin"]},
                          "tolerance": {"rtol": 0.0, "atol": 0.0}, "compare": "token ids exact"})


# ------------------------------------------------------------------------------------------------
def self_checks(tok):
    assert ref.yarn_low_high(128, 10000.0, 9280, 32.0, 1.0) == (26, 51)
    for s in ["What is 12 + 30? Let me think.", "h\u00e9llo w\u00f6rld  \n\n x\ty", PROMPT_TEMPLATE.format("Q?"),
              "<think3>a</think3><vllm_pad><summary> \\boxed{5}</summary>"]:
        assert tok.decode(tok.encode(s, add_special_tokens=False)) == s
    x = torch.randn(1000, dtype=DT) * 10
    a = bf16_vals(bf16_bits(x))
    assert torch.equal(a, ref.bf16_round(x))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    out = args.out
    for sub in ("kernels", "model", "tiny-model"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    tok = tt.Tokenizer()
    self_checks(tok)
    w = Writer(out)
    kernel_cases(w)
    decode_attention_cases(w)
    ragged_cases(w)
    max_tokens = 48
    boost, question, cfg, bits, model = choose_model_and_flow(tok, max_tokens)
    write_model(out, tok, cfg, bits)
    score_cases(w, tok, model)
    flow_cases(w, tok, model, boost, question, max_tokens)
    manifest = {
        "version": 1,
        "generator": "reference/generate.py",
        "tolerance_rule": "|got - want| <= atol + rtol * |want|; NaN never passes; equal infinities pass",
        "tiny_model": {"dir": "tiny-model", "vocab_size": cfg["vocab_size"], "tokenizer_size": tok.size,
                       "special_ids": {c: tok.id(c) for c, _ in tt.ADDED},
                       "lm_head_stop_boost": boost},
        "cases": w.cases,
    }
    with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
    print("%d cases written to %s" % (len(w.cases), out))


if __name__ == "__main__":
    main()
