#!/usr/bin/env bash
# End-to-end check of the CUDA backend on a lent GPU machine, with the Java runtime and jars that
# bench/prepare-carry.sh put in .carry/ (carry ".carry" with the run):
#   1. `ptk score` on the tiny checkpoint with --backend cuda and --backend cpu; the logits compared
#      (max abs/rel difference, numpy) for each scored vector case; then greedy `ptk generate` of
#      each flow vector's question on both backends: the same tokens are expected (the CPU backend
#      reproduces the reference flows exactly; see FlowVectorTest);
#   2. a random checkpoint of the real 1.5B shape (`ptk init-random`), then `ptk bench-decode`:
#      one decode step for P = 1, 2, 4, 8, 16 at contexts 1K, 4K, 16K, as JSON;
#   3. `ptk bench-request` on that checkpoint: whole P = 8 requests against the same number of
#      tokens from 8 independent sequences, with device memory after each request;
#   4. the P-scaling drawn as a PNG when python3 has matplotlib.
# Everything lands in $OUT (or build/e2e-check). Takes about 3-5 minutes; --quick: P = 1, 8, 16 at 4K.
set -uo pipefail
paths=1,2,4,8,16 contexts=1024,4096,16384
[[ "${1:-}" == "--quick" ]] && { paths=1,8,16; contexts=4096; }
cd "$(dirname "$0")/../.."
root=$(pwd)
out=${OUT:-$root/build/e2e-check}
mkdir -p "$out"
export LD_LIBRARY_PATH="${CUDA_HOME:-/usr/local/cuda}/lib64:${LD_LIBRARY_PATH:-}"
# cuBLAS (prefill GEMMs) may live only in the Python environment's wheels (nvidia-cublas).
if ! ldconfig -p 2>/dev/null | grep -q libcublas.so && [[ ! -e ${CUDA_HOME:-/usr/local/cuda}/lib64/libcublas.so ]]; then
  wheel_lib=$(python3 -c "import nvidia.cublas, os; print(os.path.join(list(nvidia.cublas.__path__)[0], 'lib'))" 2>/dev/null) \
    && export LD_LIBRARY_PATH="$wheel_lib:$LD_LIBRARY_PATH"
fi
java=.carry/jre/bin/java
[[ -x $java ]] || { echo "e2e-check: $java missing: run bench/prepare-carry.sh and carry .carry" >&2; exit 1; }
# An array, not a function: `timeout` runs programs, not shell functions.
ptk=("$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss4m -cp ".carry/lib/*" dev.ptk.cli.Main)
failed=0

echo "== environment"
"${ptk[@]}" info 2>&1 | tee "$out/info.txt"

echo "== score: cuda against cpu on the tiny checkpoint"
for case in score_p1 score_p3_equal score_p3_unequal; do
  input=test-vectors/model/$case.json
  for backend in cpu cuda; do
    if ! timeout 120 "${ptk[@]}" score --model test-vectors/tiny-model --input "$input" --backend "$backend" \
        --out "$out/$case.$backend.npy" > "$out/$case.$backend.log" 2>&1; then
      echo "$case $backend: FAILED"; tail -5 "$out/$case.$backend.log"; failed=1
    fi
  done
  if [[ -f $out/$case.cpu.npy && -f $out/$case.cuda.npy ]]; then
    python3 - "$out/$case.cpu.npy" "$out/$case.cuda.npy" "$case" <<'PY' || failed=1
import sys, numpy as np
cpu, gpu = np.load(sys.argv[1]), np.load(sys.argv[2])
d = np.abs(cpu - gpu)
tol = 0.05 + 0.05 * np.abs(cpu)  # bf16 activations on the GPU, f32 on the CPU
same_argmax = (cpu.argmax(-1) == gpu.argmax(-1)).mean()
ok = cpu.shape == gpu.shape and np.all(np.isfinite(gpu)) and np.all(d <= tol)
print(f"{sys.argv[3]}: shape {gpu.shape}, max abs diff {d.max():.4g}, argmax agreement {same_argmax:.3f}: {'ok' if ok else 'MISMATCH'}")
sys.exit(0 if ok else 1)
PY
  fi
done

echo "== greedy generate: cuda against cpu on the flow vectors' questions"
for flow in flow_p3 flow_p2; do
  mapfile -t args < <(python3 -c "import json, sys; f = json.load(open(sys.argv[1]))
print(f['question']); print(f['P']); print(f['engine']['max_tokens'])" "test-vectors/model/$flow.json")
  question=${args[0]} paths=${args[1]} max_tokens=${args[2]}
  for backend in cpu cuda; do
    timeout 120 "${ptk[@]}" generate --model test-vectors/tiny-model --paths "$paths" --max-tokens "$max_tokens" \
      --temperature 0 --quiet --backend "$backend" "$question" > "$out/$flow.$backend.txt" 2> "$out/$flow.$backend.log" \
      || { echo "$flow $backend: FAILED"; tail -5 "$out/$flow.$backend.log"; failed=1; }
  done
  if cmp -s "$out/$flow.cpu.txt" "$out/$flow.cuda.txt"; then
    echo "$flow: same tokens on cuda and cpu: ok"
  else
    echo "$flow: cuda and cpu DIFFER:"; diff -a "$out/$flow.cpu.txt" "$out/$flow.cuda.txt" | head -8; failed=1
  fi
done

echo "== bench-decode on a random 1.5B checkpoint"
# The tiny tokenizer gives bench-request its control tokens (ids < 448, inside the 1.5B vocabulary).
model=${TMPDIR:-/tmp}/ptk-random-1.5b
if [[ ! -f $model/model.safetensors || ! -f $model/tokenizer.json ]]; then
  rm -rf "$model"
  timeout 300 "${ptk[@]}" init-random --config model/parathinker-1.5b.config.json --out "$model" --seed 1 \
    --tokenizer test-vectors/tiny-model/tokenizer.json || failed=1
fi
if timeout 300 "${ptk[@]}" bench-decode --model "$model" --backend cuda --paths "$paths" --contexts "$contexts" \
    --steps 20 > "$out/bench-decode.json" 2> "$out/bench-decode.log"; then
  cat "$out/bench-decode.json"
else
  echo "bench-decode: FAILED"; tail -20 "$out/bench-decode.log"; failed=1
fi

echo "== bench-request: P = 8 requests against 8 independent sequences, memory across requests"
if timeout 240 "${ptk[@]}" bench-request --model "$model" --backend cuda --paths 8 --prompt-tokens 1024 --max-tokens 1024 \
    --requests 2 --quiet > "$out/bench-request.json" 2> "$out/bench-request.log"; then
  grep '^bench-request' "$out/bench-request.log"
else
  echo "bench-request: FAILED"; tail -20 "$out/bench-request.log"; failed=1
fi

if [[ -s $out/bench-decode.json ]] && python3 -c "import matplotlib" 2>/dev/null; then
  python3 - "$out/bench-decode.json" "$out/decode-scaling.png" <<'PY'
import json, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
r = json.load(open(sys.argv[1]))
for c in sorted({x["context"] for x in r["results"]}):
    pts = sorted((x["paths"], x["median_ms"]) for x in r["results"] if x["context"] == c)
    plt.plot([p for p, _ in pts], [m for _, m in pts], marker="o", label=f"context {c}")
plt.xscale("log", base=2); plt.xlabel("paths P"); plt.ylabel("decode step (ms, median)")
plt.title(r["backend"]); plt.legend(); plt.grid(alpha=0.3)
plt.savefig(sys.argv[2], dpi=120)
print("wrote", sys.argv[2])
PY
fi
echo "== e2e-check: $([[ $failed == 0 ]] && echo ok || echo FAILED)"
exit $failed
