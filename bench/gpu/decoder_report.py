"""Folds the decoder's decode-step timings (ptk bench-decode) into the GPU check's JSON and prints
them against their floor: (weights + KV bytes read per step) / the copy bandwidth measured in the
same run. Also measures the card's bf16 matmul rate when torch is there, the compute ceiling.

  python3 bench/gpu/decoder_report.py RESULT.json BENCH_DECODE.json CONFIG.json
"""
import json
import sys

result_file, decode_file, config_file = sys.argv[1:4]
result = json.load(open(result_file))
decode = json.load(open(decode_file))
cfg = json.load(open(config_file))

h, layers, inter, vocab = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["intermediate_size"], cfg["vocab_size"]
head_dim = h // cfg["num_attention_heads"]
kv = cfg["num_key_value_heads"] * head_dim
per_layer = h * h * 2 + 2 * kv * h + 3 * h * inter  # q, o, k, v, gate/up/down (biases are noise)
weight_bytes = 2 * (layers * per_layer + vocab * h)  # bf16; lm_head once, the embedding one row
kv_bytes_per_token = layers * 2 * kv * 2
bandwidth = result["copy_bandwidth_gbps"] * 1e9

p1 = {r["context"]: r["median_ms"] for r in decode["results"] if r["paths"] == 1}
print(f"decode step on the {layers}-layer shape, floor = (weights {weight_bytes / 1e9:.3f} GB + KV) / "
      f"{result['copy_bandwidth_gbps']:.0f} GB/s")
print(f"{'P':>3} {'context':>8} {'ms':>9} {'floor ms':>9} {'x floor':>8} {'vs P=1':>7} {'vs P x 1-path':>13}")
for r in decode["results"]:
    floor_ms = (weight_bytes + r["paths"] * (r["context"] + 1) * kv_bytes_per_token) / bandwidth * 1e3
    r["floor_ms"] = floor_ms
    r["ratio_to_floor"] = r["median_ms"] / floor_ms
    base = p1.get(r["context"])
    if base:
        r["time_vs_one_path"] = r["median_ms"] / base
        r["speedup_vs_independent_paths"] = r["paths"] * base / r["median_ms"]
    print(f"{r['paths']:>3} {r['context']:>8} {r['median_ms']:>9.3f} {floor_ms:>9.3f} {r['ratio_to_floor']:>8.2f} "
          f"{r.get('time_vs_one_path', float('nan')):>7.2f} {r.get('speedup_vs_independent_paths', float('nan')):>13.2f}")

try:
    import torch

    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(10):
        a @ b
    end.record()
    torch.cuda.synchronize()
    tflops = 10 * 2 * 8192**3 / (start.elapsed_time(end) / 1e3) / 1e12
    result["bf16_matmul_tflops"] = tflops
    print(f"bf16 matmul 8192^3 (torch): {tflops:.0f} TFLOP/s")
except Exception as e:  # no torch or no GPU: the figure is simply absent
    print(f"bf16 matmul rate not measured: {e}")

result["decoder"] = decode
result["decoder"]["weight_bytes"] = weight_bytes
json.dump(result, open(result_file, "w"), indent=1)
