#!/usr/bin/env bash
# One ParaThinker-1.5B decode step on the CPU backend (P = 1, 4, 8) against the floor set by this
# machine's read bandwidth, measured in the same JMH run. Writes bench/results/cpu-decode-DATE.json.
# Usage: bench/cpu-decode.sh [checkpoint-dir]   (default: random BF16 weights of the real shapes)
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q package -DskipTests -pl bench -am
java --add-modules jdk.incubator.vector -Dptk.commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  -cp "bench/target/classes:bench/target/lib/*" dev.ptk.bench.CpuDecodeReport "$@"
