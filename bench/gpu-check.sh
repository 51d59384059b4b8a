#!/usr/bin/env bash
# One prepared run on a lent GPU machine (H100/H200): build, validate every kernel vector, run
# compute-sanitizer (memcheck, racecheck) on the kernel tests and memcheck on the decoder ops, measure the card's copy bandwidth
# and time every kernel (PyTorch SDPA beside paged decode when torch is there), run the decoder end
# to end on the CUDA backend against the CPU backend and time full decode steps of the real 1.5B
# shape (bench/gpu/e2e-check.sh, with the Java runtime of bench/prepare-carry.sh), write one JSON
# under bench/results/ and print a short table. Needs: CUDA toolkit (nvcc, compute-sanitizer),
# cmake >= 3.24, a C++ compiler; optional: python3 with torch. No network. About 8-10 minutes.
#
# Prepare here, then carry .carry:   mvn -q -o package && bench/prepare-carry.sh
#   bench/gpu-check.sh [--quick]      (--quick: fewer benchmark shapes)
# Logs and the JSON are also copied to $OUT when it is set.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
quick=""
[[ "${1:-}" == "--quick" ]] && quick="--quick"
out=${OUT:-$root/build/gpu-check}
mkdir -p "$out" bench/results
status=()   # "step: result" lines for the summary
failed=0
step() { echo; echo "== $* ($(date +%T))"; }
record() { status+=("$1: $2"); [[ "$2" == ok* || "$2" == skipped* ]] || failed=1; }

# --- tools ------------------------------------------------------------------------------------
cuda_home=${CUDA_HOME:-/usr/local/cuda}
export PATH="$cuda_home/bin:$PATH"
step "machine"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader || true
nvcc --version | tail -1
cmake --version | head -1
jobs=$(nproc)
arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d .)
case "$arch" in
  90) archs="90a-real" ;;
  80) archs="80-real" ;;
  *) archs="80-real;90a-real" ;;
esac
have_torch=0
if command -v python3 >/dev/null && timeout 60 python3 -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
  have_torch=1
fi
echo "architectures: $archs; torch with CUDA: $have_torch"

# --- build ------------------------------------------------------------------------------------
step "build"
build=build/gpu
if timeout 120 cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DPTK_BENCH=ON -DCMAKE_CUDA_ARCHITECTURES="$archs" \
     > "$out/configure.log" 2>&1 &&
   timeout 240 cmake --build "$build" -j "$jobs" > "$out/build.log" 2>&1; then
  record build ok
else
  tail -30 "$out/configure.log" "$out/build.log"
  record build FAILED
  printf '%s\n' "${status[@]}"
  exit 1
fi
if bash cmake/check-spills.sh "$out/build.log" > "$out/spills.txt" 2>&1; then record "no spills" ok; else record "no spills" FAILED; fi
cat "$out/spills.txt"

# --- validation -------------------------------------------------------------------------------
step "tests and kernel vectors"
export PTK_TEST_VECTORS="${PTK_TEST_VECTORS:-$root/test-vectors}"
timeout 120 ctest --test-dir "$build" --output-on-failure > "$out/ctest.log" 2>&1
rc=$?
tail -15 "$out/ctest.log"
if [[ $rc != 0 ]]; then
  record ctest FAILED
elif grep -q "(Skipped)" "$out/ctest.log"; then
  record ctest "FAILED (tests skipped on a GPU machine: $(grep -o '[a-z_]* (Skipped)' "$out/ctest.log" | tr '\n' ' '))"
else
  record ctest ok
fi
vectors="$build/native/tests/test_vectors"
"$vectors" > "$out/vectors.txt" 2>&1
rc=$?
grep -E "^gpu|FAIL|skipped|test_vectors" "$out/vectors.txt"
case $rc in 0) record "kernel vectors" ok ;; 77) record "kernel vectors" "FAILED (skipped: no device?)" ;; *) record "kernel vectors" FAILED ;; esac

step "compute-sanitizer"
for tool in memcheck racecheck; do
  if timeout 100 compute-sanitizer --tool "$tool" --error-exitcode 1 "$vectors" > "$out/sanitizer-$tool.txt" 2>&1; then
    record "$tool" ok
  else
    record "$tool" FAILED
  fi
  grep -E "ERROR SUMMARY|RACECHECK SUMMARY|Error|Hazard" "$out/sanitizer-$tool.txt" | head -10
done
ops="$build/native/tests/test_decoder_ops"
if timeout 60 compute-sanitizer --tool memcheck --error-exitcode 1 "$ops" > "$out/sanitizer-ops.txt" 2>&1; then
  record "memcheck decoder ops" ok
else
  record "memcheck decoder ops" FAILED
fi
grep -E "ERROR SUMMARY|Error" "$out/sanitizer-ops.txt" | head -5

# --- timings ----------------------------------------------------------------------------------
step "benchmarks"
# Stay within ~8 minutes: a slow start (build, sanitizers) leaves time for fewer shapes only.
(( SECONDS > 300 )) && [[ -z $quick ]] && { echo "late start ($SECONDS s): quick benchmark set"; quick="--quick"; }
torch_args=()
if [[ $have_torch == 1 ]]; then
  if timeout 100 python3 bench/gpu/sdpa.py "$out/torch-sdpa.txt" $quick; then
    torch_args=(--torch "$out/torch-sdpa.txt")
    record "torch sdpa" ok
  else
    record "torch sdpa" FAILED
  fi
else
  record "torch sdpa" "skipped (no torch with CUDA)"
fi
if commit=$(git rev-parse --short=12 HEAD 2>/dev/null); then
  git diff --quiet HEAD 2>/dev/null || commit="$commit+dirty"
else
  commit=unknown
fi
date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
card=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 | tr ' ' '-' | tr -cd 'A-Za-z0-9-')
json="bench/results/${card:-gpu}-$(date -u +%Y%m%d-%H%M%S).json"
if timeout 150 "$build/bench/gpu/ptk_bench" $quick --json "$json" --commit "$commit" --date "$date" ${torch_args[@]+"${torch_args[@]}"} \
     > "$out/bench.txt" 2>&1; then
  record benchmarks "ok ($json)"
  cp "$json" "$out/"
else
  record benchmarks FAILED
fi
cat "$out/bench.txt"
# The gemv on the CUDA cores too: the tensor-core form is the default on the model's word alone
# (ptk/decoder.h, bench/gpu/NOTES.md version 5); the two sets of gemv lines, side by side, decide it.
if PTK_GEMV_MATH=fma timeout 60 "$build/bench/gpu/ptk_bench" --gemv-only $quick --json "${json%.json}-gemv-fma.json" \
     --commit "$commit" --date "$date" > "$out/bench-gemv-fma.txt" 2>&1; then
  record "gemv fma" "ok (${json%.json}-gemv-fma.json)"
  cp "${json%.json}-gemv-fma.json" "$out/"
else
  record "gemv fma" FAILED
fi
grep -h "^gemv" "$out/bench.txt" "$out/bench-gemv-fma.txt" | sort -k3,5 -k2,2 || true

# --- the decoder end to end --------------------------------------------------------------------
step "decoder end to end (CUDA backend against the CPU backend; decode steps of the 1.5B shape)"
if [[ -x .carry/jre/bin/java ]]; then
  e2e_quick=""
  (( SECONDS > 420 )) && { echo "late ($SECONDS s): quick end-to-end set"; e2e_quick="--quick"; }
  if OUT="$out/e2e" timeout 300 bash bench/gpu/e2e-check.sh $e2e_quick > "$out/e2e.txt" 2>&1; then
    record "end to end" ok
  else
    record "end to end" FAILED
  fi
  cat "$out/e2e.txt"
  # One result file: the decoder's figures go into the kernels' JSON.
  if [[ -f $json && -s $out/e2e/bench-decode.json ]] && command -v python3 >/dev/null; then
    python3 bench/gpu/decoder_report.py "$json" "$out/e2e/bench-decode.json" model/parathinker-1.5b.config.json \
      "$out/e2e/bench-request.json" && cp "$json" "$out/"
    [[ -f $out/e2e/decode-scaling.png ]] && cp "$out/e2e/decode-scaling.png" "${json%.json}-decode-scaling.png"
  fi
else
  record "end to end" "FAILED (no .carry/jre: run bench/prepare-carry.sh here and carry .carry)"
fi

echo
echo "== summary ($SECONDS s)"
printf '  %s\n' "${status[@]}"
exit $failed
