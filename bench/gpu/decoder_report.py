"""Folds the decoder's decode-step timings (ptk bench-decode) into the GPU check's JSON and prints
them against their floor: (weights + KV bytes read per step) / the copy bandwidth measured in the
same run, and the start-up timings of ptk_gemv against cuBLAS per projection. Also measures the card's bf16 matmul rate when torch is there, the compute ceiling.

and the whole-request comparison of ptk bench-request when its JSON is given.

  python3 bench/gpu/decoder_report.py RESULT.json BENCH_DECODE.json CONFIG.json [BENCH_REQUEST.json]
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import step_model  # noqa: E402  (the predictions, beside the measurements)

result_file, decode_file, config_file = sys.argv[1:4]
request_file = sys.argv[4] if len(sys.argv) > 4 else None
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
# The card the model has figures for (H100, H200), from the name the benchmark read.
model_card = next((c for c in step_model.CARDS if c in result.get("card", "")), None)
print(f"decode step on the {layers}-layer shape, floor = (weights {weight_bytes / 1e9:.3f} GB + KV) / "
      f"{result['copy_bandwidth_gbps']:.0f} GB/s")
print(f"{'P':>3} {'context':>8} {'ms':>9} {'floor ms':>9} {'x floor':>8} {'vs P=1':>7} {'vs P x 1-path':>13} "
      f"{'predicted ms':>12} {'nodes':>6}")
for r in decode["results"]:
    # The fewest bytes a step must read: the shared prompt once for every path, and each path's token.
    floor_ms = (weight_bytes + (r["context"] + r["paths"]) * kv_bytes_per_token) / bandwidth * 1e3
    predicted = step_model.step(model_card, r["paths"], r["context"], 1) if model_card else None
    if predicted:
        r["predicted_ms"] = predicted["predicted_ms"]
        r["predicted_nodes"] = predicted["nodes"]
    r["floor_ms"] = floor_ms
    r["ratio_to_floor"] = r["median_ms"] / floor_ms
    base = p1.get(r["context"])
    if base:
        r["time_vs_one_path"] = r["median_ms"] / base
        r["speedup_vs_independent_paths"] = r["paths"] * base / r["median_ms"]
    print(f"{r['paths']:>3} {r['context']:>8} {r['median_ms']:>9.3f} {floor_ms:>9.3f} {r['ratio_to_floor']:>8.2f} "
          f"{r.get('time_vs_one_path', float('nan')):>7.2f} {r.get('speedup_vs_independent_paths', float('nan')):>13.2f} "
          f"{r.get('predicted_ms', float('nan')):>12.3f} {r.get('graph_nodes', '?'):>6}")

# ptk_gemv against cuBLAS at the decode shapes, as the CUDA backend timed them at start-up.
by_projection = {}
for t in decode.get("matmul", []):
    by_projection.setdefault(t["projection"], []).append(t)
if by_projection:
    print(f"{'projection':>10} {'n x k':>13} {'gemv rows':>10} " + " ".join(f"{'cuBLAS/gemv m=' + str(m):>15}" for m in (1, 8, 16)))
for name, ts in by_projection.items():
    ts.sort(key=lambda t: t["rows"])
    gemv_rows = [t["rows"] for t in ts if t["runs"] == "gemv"]
    ratios = {t["rows"]: t["cublas_us"] / t["gemv_us"] for t in ts if t["gemv_us"] > 0}
    span = f"{min(gemv_rows)}..{max(gemv_rows)}" if gemv_rows else "none"
    print(f"{name:>10} {str(ts[0]['n']) + 'x' + str(ts[0]['k']):>13} {span:>10} "
          + " ".join(f"{ratios.get(m, float('nan')):>15.2f}" for m in (1, 8, 16)))

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

request = None
if request_file:
    try:
        request = json.load(open(request_file))
    except (OSError, ValueError) as e:
        print(f"bench-request result not read: {e}")
if request:
    print(f"whole request, P = {request['paths']}, prompt {request['prompt_tokens']}, {request['max_tokens']} tokens per path: "
          f"{request['median_speedup']:.2f}x the throughput of {request['paths']} independent sequences (median)")
    if "device_free_change_bytes" in request:
        print(f"device free memory from the first to the last request: {request['device_free_change_bytes'] / 2**20:+.1f} MiB")

result["decoder"] = decode
if request:
    result["decoder"]["request"] = request
result["decoder"]["weight_bytes"] = weight_bytes
json.dump(result, open(result_file, "w"), indent=1)
