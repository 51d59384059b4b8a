#!/usr/bin/env bash
# The CPU matmul kernels alone (ptk/cpu.h) on the 1.5B shapes against the read-bandwidth floor
# and the path's multiply-add peak, measured in the same run.
# Usage: bench/cpu/matmul-bench.sh [threads]   (PTK_CPU_ISA forces a path)
set -euo pipefail
cd "$(dirname "$0")/../.."
cmake -S . -B build/cpu -DPTK_CUDA=OFF -DCMAKE_BUILD_TYPE=Release -Wno-dev > /dev/null
cmake --build build/cpu -j2 --target ptk > /dev/null
g++ -O2 -mavx2 -std=c++17 -pthread -Inative/include -Ibuild/cpu/include bench/cpu/matmul_bench.cpp \
  -Lbuild/cpu/native -lptk -Wl,-rpath,"$PWD/build/cpu/native" -o build/cpu/matmul_bench
build/cpu/matmul_bench "${1:-$(nproc)}"
