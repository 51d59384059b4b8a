#!/usr/bin/env bash
# The CPU backend on ParaThinker-1.5B against this machine's limits, measured in one session:
#   1. the matmul kernels alone (bench/cpu/matmul_bench): read bandwidth, the multiply-add peak of
#      the path in use, and each projection shape at 1..512 rows, with f32 activations and again
#      with bf16 activations (PTK_CPU_ACTIVATIONS=bf16);
#   2. JMH: a decode step at P = 1, 2, 4, 8, 16 against its floor (bytes over the bandwidth
#      measured in the same run), prefill of 512 and 2048-token prompts against the peak, both on
#      the best path and in both activation precisions, and prefill again on the AVX-512F path
#      (the one before AMX) to compare with;
#   3. `ptk generate` end to end on a random checkpoint of the real shape (P = 8), in both precisions;
#   4. the read bandwidth again, right before JMH (the floor takes the session's highest).
# Writes bench/results/cpu-decode-DATE.json and .png.
# Usage: bench/cpu-decode.sh [checkpoint-dir]   (default: random weights in build/random-1.5b, made once)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build
step() { printf '\n=== %s\n' "$*"; }

step "build"
mvn -q -B -ntp package -DskipTests -pl bench -am
cmake -S . -B build/cpu -DPTK_CUDA=OFF -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null 2>&1
cmake --build build/cpu -j2 --target ptk >/dev/null
g++ -O2 -mavx2 -std=c++17 -pthread -Inative/include -Ibuild/cpu/include bench/cpu/matmul_bench.cpp \
  -Lbuild/cpu/native -lptk -Wl,-rpath,"$PWD/build/cpu/native" -o build/cpu/matmul_bench
bench=(java --add-modules jdk.incubator.vector -Dptk.commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  -cp "bench/target/classes:bench/target/lib/*" dev.ptk.bench.CpuDecodeReport)

step "matmul kernels"
build/cpu/matmul_bench "$(nproc)" build/cpu-kernels.json
build/cpu/matmul_bench "$(nproc)" build/cpu-kernels-bf16.json bf16

report_args=(--kernels build/cpu-kernels.json --kernels-bf16 build/cpu-kernels-bf16.json)
if PTK_CPU_ISA=avx512f build/cpu/matmul_bench 1 /dev/null >/dev/null 2>&1 \
    && [ "$(python3 -c 'import json; print(json.load(open("build/cpu-kernels.json"))["path"])')" != avx512f ]; then
  step "prefill on the AVX-512F path, to compare with"
  PTK_CPU_ISA=avx512f "${bench[@]}" --prefill-only build/cpu-prefill-avx512f.json
  report_args+=(--baseline build/cpu-prefill-avx512f.json)
fi

step "end to end: ptk generate, P = 8"
model=${1:-build/random-1.5b}
if [ ! -f "$model/model.safetensors" ]; then
  ./ptk init-random --config model/parathinker-1.5b.config.json --out "$model" --seed 1 --tokenizer test-vectors/tiny-model
fi
# Read the weights once first, so that neither run pays the page cache's first load.
cat "$model/model.safetensors" >/dev/null
./ptk generate --model "$model" --backend cpu --paths 8 --max-tokens 32 --seed 1 \
  "What is the sum of the first ten odd numbers?" 2> >(tee build/cpu-generate.err >&2) >/dev/null
grep -E '^prefill [0-9]+ tokens' build/cpu-generate.err | tail -1 > build/cpu-generate.txt
PTK_CPU_ACTIVATIONS=bf16 ./ptk generate --model "$model" --backend cpu --paths 8 --max-tokens 32 --seed 1 \
  "What is the sum of the first ten odd numbers?" 2> >(tee build/cpu-generate-bf16.err >&2) >/dev/null
grep -E '^prefill [0-9]+ tokens' build/cpu-generate-bf16.err | tail -1 > build/cpu-generate-bf16.txt
report_args+=(--generate build/cpu-generate.txt --generate-bf16 build/cpu-generate-bf16.txt)

step "read bandwidth again, right before the decode steps"
# The host is shared and its bandwidth moves by a third within minutes: the floor takes the
# highest rate read in the session (the kernels' step, this one, or JMH's own reader).
build/cpu/matmul_bench --bandwidth "$(nproc)" build/cpu-bandwidth.json
report_args+=(--bandwidth build/cpu-bandwidth.json)

step "JMH: decode steps, prefill, read bandwidth"
"${bench[@]}" "${report_args[@]}"
