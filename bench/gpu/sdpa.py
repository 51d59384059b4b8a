"""PyTorch SDPA decode on contiguous K/V: the "no paging" peer of ptk's paged decode.

Writes "P ctx microseconds" lines (one query per sequence, 12 query heads over 2 kv heads,
head_dim 128, bf16), timed like ptk_bench: CUDA events, warm-up, median of 7 timings of R runs,
K/V rotating through copies that exceed 3x L2.
Usage: python3 sdpa.py OUT [--quick]
"""
import math
import sys

import torch
import torch.nn.functional as F

HQ, HKV, D = 12, 2, 128


def sdpa_gqa():
    """SDPA with grouped-query heads, or None when this PyTorch lacks enable_gqa."""
    try:
        q = torch.zeros(1, HQ, 1, D, device="cuda", dtype=torch.bfloat16)
        k = torch.zeros(1, HKV, 4, D, device="cuda", dtype=torch.bfloat16)
        F.scaled_dot_product_attention(q, k, k, enable_gqa=True)
        return lambda q, k, v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
    except TypeError:
        return None


def time_us(run, reps):
    for i in range(3):
        run(i)
    torch.cuda.synchronize()
    times = []
    for _ in range(7):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        for i in range(reps):
            run(i)
        b.record()
        b.synchronize()
        times.append(1000.0 * a.elapsed_time(b) / reps)
    return sorted(times)[len(times) // 2]


def main():
    out = sys.argv[1]
    quick = "--quick" in sys.argv
    paths = [1, 8] if quick else [1, 2, 4, 8, 16]
    ctxs = [512, 8192] if quick else [512, 1024, 2048, 4096, 8192, 16384, 32768]
    l2 = torch.cuda.get_device_properties(0).L2_cache_size
    attend = sdpa_gqa()
    lines = []
    for P in paths:
        for ctx in ctxs:
            kv_bytes = 2 * P * HKV * ctx * D * 2
            sets = max(1, math.ceil(3 * l2 / kv_bytes))
            q = torch.randn(P, HQ, 1, D, device="cuda", dtype=torch.bfloat16)
            ks = [torch.randn(P, HKV, ctx, D, device="cuda", dtype=torch.bfloat16) for _ in range(sets)]
            vs = [torch.randn(P, HKV, ctx, D, device="cuda", dtype=torch.bfloat16) for _ in range(sets)]
            if attend is None:  # old PyTorch: heads expanded beforehand (SDPA then reads 6x the bytes)
                ks = [k.repeat_interleave(HQ // HKV, dim=1) for k in ks]
                vs = [v.repeat_interleave(HQ // HKV, dim=1) for v in vs]
                run = lambda i: F.scaled_dot_product_attention(q, ks[i % sets], vs[i % sets])
            else:
                run = lambda i: attend(q, ks[i % sets], vs[i % sets])
            lines.append("%d %d %.3f\n" % (P, ctx, time_us(run, max(sets, 20))))
            del ks, vs
    with open(out, "w") as f:
        f.writelines(lines)
    print("torch %s SDPA (%s): %d shapes" % (torch.__version__, "enable_gqa" if attend else "expanded heads", len(lines)))


if __name__ == "__main__":
    main()
