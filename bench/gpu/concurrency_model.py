"""Throughput of R ParaThinker requests decoded together on one card, predicted from the decode
step model (step_model.py): R requests of P paths make one step of R x P rows. A step reads the
weights once for every row and each request's KV (its own prompt: requests share nothing here), so
while weights dominate, R requests cost little more per step than one.

Assumptions beyond step_model's: above ptk_gemv's 16 rows the projections run on cuBLAS tensor-core
GEMMs, memory-bound at these row counts (m <= 128 against k = 1536..8960), at GEMM_EFFICIENCY of
the copy bandwidth; attention, the small nodes, sampling and the host cost as in step_model, with
every row's bytes counted.

  python3 bench/gpu/concurrency_model.py      # the markdown table for NOTES.md
"""
import step_model as sm

GEMM_EFFICIENCY = 0.80  # cuBLAS bf16 GEMM at 32..128 rows: weight reads dominate, tiles fill the chip


def _rows_step(card, requests, paths, prompt, own, c):
    """Node by node as step_model, with R requests' KV and rows, GEMMs beyond 16 rows."""
    bw = sm.CARDS[card]["copy_gbps"] * 1e3
    rows = requests * paths
    one = sm.nodes_per_layer(c, paths, prompt, own)
    us = 0.0
    for name, nbytes in one:
        if "gemv" in name:
            t = nbytes / (bw * GEMM_EFFICIENCY)
            if rows <= 16:  # the tuner runs whichever of ptk_gemv and cuBLAS is faster
                issue = sm.CARDS[card]["sms"] * 128 * sm.CARDS[card]["ghz"] * 1e3 * sm.ISSUE_EFFICIENCY
                t = min(t, max(nbytes / (bw * sm.GEMV_EFFICIENCY), nbytes * sm.gemv_instructions_per_byte(rows) / issue))
        else:
            t = requests * nbytes / (bw * sm.ATTENTION_EFFICIENCY)  # per-row bytes, R requests' KV
        us += max(t, sm.NODE_LATENCY_US)
    us *= c["layers"]
    lm = c["vocab"] * c["hidden"] * 2
    us += max(lm / (bw * (GEMM_EFFICIENCY if rows > 16 else sm.GEMV_EFFICIENCY)), sm.NODE_LATENCY_US)  # as above, roughly
    us += 3 * sm.NODE_LATENCY_US + sm.sample_us(card, rows, "temperature") + sm.HOST_US
    return us


def floor_us(card, requests, paths, prompt, own):
    """Weights once, every request's KV (prompt once per request, every path's own tokens)."""
    one = sm.step(card, paths, prompt, own)
    weights_and_kv_us = one["floor_ms"] * 1e3
    kv_us = sm.CONFIG["layers"] * (prompt + paths * own) * sm.CONFIG["kv_heads"] * sm.CONFIG["head_dim"] * 4 / (
        sm.CARDS[card]["copy_gbps"] * 1e3)
    return weights_and_kv_us + (requests - 1) * kv_us


def table():
    print("| card | P | tokens per path (prompt 512) | requests | step ms | tokens/s | x one request | x at the floor |")
    print("|---|---|---|---|---|---|---|---|")
    for card in sm.CARDS:
        for own in (256, 1024, 4096):
            base = None
            for r in (1, 2, 4, 8):
                us = _rows_step(card, r, 8, 512, own, sm.CONFIG)
                rate = r * 8 / (us / 1e6)
                base = base or rate
                floor_gain = r * floor_us(card, 1, 8, 512, own) / floor_us(card, r, 8, 512, own)
                print(f"| {card} | 8 | {own} | {r} | {us / 1e3:.2f} | {rate:.0f} | {rate / base:.2f} | {floor_gain:.2f} |")


if __name__ == "__main__":
    table()
