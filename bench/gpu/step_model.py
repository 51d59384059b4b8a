"""The decode step's time model: what a decode step of ParaThinker-1.5B should take on a card,
kernel by kernel, before any device has measured it. NOTES.md's prediction table is its output;
bench/gpu/decoder_report.py prints its predictions beside the measured steps.

Each graph node of a step costs max(its bytes / (copy bandwidth x its efficiency), the latency of
a dependent node in a graph). The efficiencies and the node latency are assumptions (below, each
with its reason); the byte counts are exact. Shapes: P paths of `own` tokens each after a shared
prompt of `prompt` tokens. The floor reads the prompt once for all paths; the prediction reads it
as the kernels do: once per cascade item of up to CASCADE_ROWS query rows (below).

  python3 bench/gpu/step_model.py                  # the markdown table for NOTES.md
  python3 bench/gpu/step_model.py --math fma       # the same with the gemv on the CUDA cores
  python3 bench/gpu/step_model.py --json FILE      # predictions for decoder_report.py
"""
import json
import sys

CONFIG = {"hidden": 1536, "intermediate": 8960, "layers": 28, "heads": 12, "kv_heads": 2, "head_dim": 128,
          "vocab": 151936}

# Copy bandwidth (read + write counted, large device-to-device copy) and multiprocessors.
CARDS = {"H100": {"copy_gbps": 3000, "sms": 132, "ghz": 1.98}, "H200": {"copy_gbps": 4300, "sms": 132, "ghz": 1.98}}

# Assumptions (not measured), each against the copy bandwidth:
GEMV_EFFICIENCY = 0.85       # several 16-byte loads in flight per lane, activations in shared memory
# Lane instructions per weight byte of ptk_gemv, counted from its compiled slice loop (PTX, sm_90a)
# plus staging and epilogue, at m = 1, 8, 16 (bench/gpu/predictions/gemv.md); issued at 85% of 128
# lane instructions per clock per SM. On the CUDA cores (fma) they grow with the rows. On the
# tensor cores (mma, what the library runs unless PTK_GEMV_MATH=fma) the products and the sum over
# k are two mma.sync per 16 weight bytes at any m, and what grows is the staging: every block
# stages all m rows, so it weighs m / 32 (the rows of a group) against the weights, and norming a
# row as it is staged costs ~9 instructions a value. Every block owns 32 weight rows; the small
# projections (qkv, o, down) split k among several blocks per group instead of owning fewer rows
# (kernels/ptk/gemv_layout.h), so their counts are the 32-row ones of gate_up and lm_head.
GEMV_INSTRUCTIONS_PER_BYTE = {
    "fma": {kind: {1: 2.5, 8: 7.5, 16: 14.1} for kind in ("normed", "bf16")},
    "mma": {"normed": {1: 2.3, 8: 3.0, 16: 3.8}, "bf16": {1: 2.1, 8: 2.3, 16: 2.2}},
}
GEMV_MATH = "mma"
ISSUE_EFFICIENCY = 0.85
ATTENTION_EFFICIENCY = 0.85  # single-query GQA kernel, 2 blocks per SM after split-KV (predictions/decode-attention.md)
# The decode kernel reads a shared prompt once per cascade item, whose rows are up to this many
# (kernels/ptk/variants.h): 64 / 6 = 10 paths of the model, so P = 16 reads it twice. A cascade
# item's math runs on the tensor cores: about 450 warp instructions per 32-token tile and warp
# (estimated from the source: 96 mma, 192 shared loads, the softmax), 48 B/clk/SM with three warps
# of rows (P = 8; four at 10 paths: 36 B/clk/SM), above the 23 B/clk/SM of the copy bandwidth, so it is taken at ATTENTION_EFFICIENCY.
CASCADE_ROWS = 64
NODE_LATENCY_US = 2.0        # a dependent kernel in a graph: launch, ramp and drain of a small grid
# Sampling (ptk_sample, many blocks per row): a node latency per launch (greedy 2, a temperature 3,
# top-k and top-p 4 more each), plus the draw's arithmetic per logit (three splitmix64 rounds in
# 64-bit multiplies, two double-precision logs: about 2.3 SM clocks, estimated, not counted) over as
# many SMs as the rows' blocks fill, plus the thresholds' radix select: 8 passes over the rows (4
# digits each for top-k and top-p) by the same blocks, each bound by its L2 reads or by its
# arithmetic per logit (key, prefix test, for top-p an exp, and a shared-memory add that lanes of a
# warp landing in one bin serialize: about 0.25 SM clocks with the conflicts of the first digit,
# where logits crowd a few exponents; estimated, not counted).
SAMPLE_LAUNCHES = {"greedy": 2, "temperature": 3, "top_k_top_p": 11}
DRAW_CLOCKS_PER_LOGIT = 2.3
SELECT_PASSES = 8
SELECT_CLOCKS_PER_LOGIT = 0.25
HOST_US = 30.0               # plan updates (from pinned mirrors: one copy for RoPE, one per array for attention), graph launch, sampling keys, sync
# L2-to-SM bandwidth, the same GH100 L2 on both cards: about 2.4x the H100's copy bandwidth, at 85%.
# Every block of a gemv stages all its input rows, for its share of k, from L2 (f32 where it norms
# them, bf16 else): the input is read once per group of 32 weight rows. A split gemv also writes
# and reads its blocks' sums through L2 (32 x m floats a block).
L2_GBPS = 7200
# lm_head norms its rows as it stages them up to this many (CudaBackend.HEAD_NORMS_MAX_ROWS),
# else the rows are normed by a node of their own and staged as bf16.
HEAD_NORMS_MAX_ROWS = 8
GEMV_ROWS, GEMV_SLICE, GEMV_MIN_BLOCKS = 32, 256, 2 * 132  # kernels/ptk/gemv_layout.h

QKV, O, GATE_UP, DOWN = ("qkv gemv (normed in, appended out)", "o gemv (added out)", "gate_up+silu gemv (normed in)",
                         "down gemv (added out)")
GEMV_KIND = {QKV: "normed", O: "bf16", GATE_UP: "normed", DOWN: "bf16", "lm_head": "normed"}  # bf16 past HEAD_NORMS_MAX_ROWS


def nodes_per_layer(c, paths, prompt, own):
    """(name, bytes) of each node of one layer, in launch order."""
    h, inter, hd = c["hidden"], c["intermediate"], c["head_dim"]
    qkv = (c["heads"] + 2 * c["kv_heads"]) * hd
    rows = paths
    paths_per_item = max(1, CASCADE_ROWS // (c["heads"] // c["kv_heads"]))
    read = -(-paths // paths_per_item) * prompt + paths * own
    kv_bytes = read * c["kv_heads"] * hd * 2 * 2  # K and V, bf16
    partial = rows * c["heads"] * (hd + 1) * 4 * 2 * 8                # ~8 splits per row, written and read
    # The merge is fused: the block that finishes a row's splits last merges them (one node).
    # The residual adds and norms ride on the gemvs (ptk_gemv_add, ptk_gemv_rmsnorm*): the o and
    # down gemvs read and write the f32 residual, the qkv and gate/up gemvs read it and norm it.
    residual = rows * h * 4
    # qkv's gemv also appends (ptk_gemv_rmsnorm_rope_append): q out, K and V into the cache.
    append = rows * qkv * 2
    return [
        (QKV, qkv * h * 2 + residual + append),
        ("attention", kv_bytes + partial),
        (O, h * c["heads"] * hd * 2 + 2 * residual),
        (GATE_UP, 2 * inter * h * 2 + residual),
        (DOWN, h * inter * 2 + 2 * residual),
    ]


def gemv_splits(n, k):
    """Blocks per group of 32 weight rows (gemv_layout.h's gemv_splits)."""
    groups, slices = -(-n // GEMV_ROWS), -(-k // GEMV_SLICE)
    return min(-(-GEMV_MIN_BLOCKS // groups), slices)


def gemv_staging_bytes(c, rows):
    """Bytes each gemv node moves through L2 besides its weights: the staged input (groups x rows x
    k x bytes per value, whatever the splits) and a split gemv's sums (written and read)."""
    def staged(n, k, value_bytes):
        groups, splits = -(-n // GEMV_ROWS), gemv_splits(n, k)
        sums = 2 * groups * splits * GEMV_ROWS * rows * 4 if splits > 1 else 0
        return groups * rows * k * value_bytes + sums
    h, inter, qd = c["hidden"], c["intermediate"], c["heads"] * c["head_dim"]
    qkv = (c["heads"] + 2 * c["kv_heads"]) * c["head_dim"]
    return {QKV: staged(qkv, h, 4), O: staged(h, qd, 2), GATE_UP: staged(2 * inter, h, 4), DOWN: staged(h, inter, 2),
            "lm_head": staged(c["vocab"], h, 4 if rows <= HEAD_NORMS_MAX_ROWS else 2)}


def gemv_instructions_per_byte(m, kind="bf16", math=None):
    """Linear between the counted row counts."""
    pts = sorted(GEMV_INSTRUCTIONS_PER_BYTE[math or GEMV_MATH][kind].items())
    for (m0, i0), (m1, i1) in zip(pts, pts[1:]):
        if m <= m1:
            return i0 + (i1 - i0) * (max(m, m0) - m0) / (m1 - m0)
    return pts[-1][1]


def sample_us(card, rows, sampling, c=CONFIG):
    us = SAMPLE_LAUNCHES[sampling] * NODE_LATENCY_US
    if sampling == "greedy":
        return us
    splits = max(1, min(64, -(-2 * CARDS[card]["sms"] // rows)))
    sm_clocks_us = min(CARDS[card]["sms"], rows * splits) * CARDS[card]["ghz"] * 1e3  # SM clocks a us
    logits = rows * c["vocab"]
    us += logits * DRAW_CLOCKS_PER_LOGIT / sm_clocks_us
    if sampling == "top_k_top_p":
        us += SELECT_PASSES * max(logits * 4 / (L2_GBPS * 1e3), logits * SELECT_CLOCKS_PER_LOGIT / sm_clocks_us)
    return us


def step(card, paths, prompt, own, sampling="temperature", c=CONFIG):
    """One decode step; sampling as the released engine samples (temperature 0.5, no top-k/top-p)."""
    bw = CARDS[card]["copy_gbps"] * 1e3  # bytes per microsecond
    issue = CARDS[card]["sms"] * 128 * CARDS[card]["ghz"] * 1e3 * ISSUE_EFFICIENCY  # lane instructions per microsecond
    l2 = L2_GBPS * 1e3
    staging = gemv_staging_bytes(c, paths)
    kinds = {}

    def node(name, nbytes):
        if "gemv" in name or name == "lm_head":
            kind = "bf16" if name == "lm_head" and paths > HEAD_NORMS_MAX_ROWS else GEMV_KIND[name]
            us = max(nbytes / (bw * GEMV_EFFICIENCY), nbytes * gemv_instructions_per_byte(paths, kind) / issue,
                     (nbytes + staging[name]) / (l2 * GEMV_EFFICIENCY), NODE_LATENCY_US)
        else:
            us = max(nbytes / (bw * ATTENTION_EFFICIENCY), NODE_LATENCY_US)
        k = kinds.setdefault(name, {"bytes": 0, "us": 0.0, "nodes": 0})
        k["bytes"] += nbytes
        k["us"] += us
        k["nodes"] += 1

    node("embedding", paths * c["hidden"] * 6)  # and the first layer's norm parts
    for _ in range(c["layers"]):
        for name, nbytes in nodes_per_layer(c, paths, prompt, own):
            node(name, nbytes)
    if paths <= HEAD_NORMS_MAX_ROWS:
        node("lm_head", c["vocab"] * c["hidden"] * 2 + paths * c["hidden"] * 4)  # norms the residual rows as it reads them
    else:
        node("rmsnorm_rows", paths * c["hidden"] * 6)
        node("lm_head", c["vocab"] * c["hidden"] * 2)
    total_us = sum(k["us"] for k in kinds.values()) + sample_us(card, paths, sampling) + HOST_US
    weights = 2 * (c["layers"] * (c["hidden"] * ((c["heads"] + 2 * c["kv_heads"]) * c["head_dim"])
                                  + c["hidden"] * c["heads"] * c["head_dim"] + 3 * c["hidden"] * c["intermediate"])
                   + c["vocab"] * c["hidden"])
    kv = c["layers"] * (prompt + paths * own) * c["kv_heads"] * c["head_dim"] * 4
    floor_us = (weights + kv) / bw
    return {"card": card, "paths": paths, "prompt": prompt, "own": own, "predicted_ms": total_us / 1e3,
            "floor_ms": floor_us / 1e3, "ratio": total_us / floor_us, "nodes": sum(k["nodes"] for k in kinds.values()),
            "kernels": kinds}


def table():
    print("| card | P | tokens per path (prompt 512) | floor ms | predicted ms | x floor | nodes | weights ms | attention ms | small nodes ms |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for card in CARDS:
        for paths in (1, 8, 16):
            for own in (1024, 4096, 16384):
                s = step(card, paths, 512, own)
                k = s["kernels"]
                w = sum(v["us"] for n, v in k.items() if "gemv" in n or n == "lm_head") / 1e3
                a = k["attention"]["us"] / 1e3
                small = s["predicted_ms"] - w - a
                print(f"| {card} | {paths} | {own} | {s['floor_ms']:.3f} | {s['predicted_ms']:.3f} | {s['ratio']:.2f} | "
                      f"{s['nodes']} | {w:.3f} | {a:.3f} | {small:.3f} |")


def sampling_table():
    print("\n| card | rows | greedy us | temperature us | top-k + top-p us |")
    print("|---|---|---|---|---|")
    for card in CARDS:
        for rows in (1, 8, 16):
            us = [sample_us(card, rows, kind) for kind in ("greedy", "temperature", "top_k_top_p")]
            print(f"| {card} | {rows} | " + " | ".join(f"{u:.1f}" for u in us) + " |")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--json":
        # bench-decode's shape: a shared prompt of `context` tokens and one token per path.
        out = [step(card, p, ctx, 1) for card in CARDS for p in (1, 2, 4, 8, 16) for ctx in (1024, 4096, 16384)]
        json.dump({"assumptions": {"gemv_math": GEMV_MATH, "gemv_efficiency": GEMV_EFFICIENCY, "gemv_instructions_per_byte": GEMV_INSTRUCTIONS_PER_BYTE, "attention_efficiency": ATTENTION_EFFICIENCY,
                                   "node_latency_us": NODE_LATENCY_US, "l2_gbps": L2_GBPS, "sample_launches": SAMPLE_LAUNCHES, "select_passes": SELECT_PASSES, "select_clocks_per_logit": SELECT_CLOCKS_PER_LOGIT, "draw_clocks_per_logit": DRAW_CLOCKS_PER_LOGIT, "host_us": HOST_US},
                   "bench_decode": out}, open(sys.argv[2], "w"), indent=1)
    else:
        if len(sys.argv) == 3 and sys.argv[1] == "--math":
            GEMV_MATH = sys.argv[2]
        table()
        sampling_table()
