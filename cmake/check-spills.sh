#!/usr/bin/env bash
# Fails if any attention or merge kernel spills registers, from a build log made with -Xptxas=-v
# (cmake/PtkWarnings.cmake adds it). Prints registers, stack and spills per kernel and arch.
# Usage: cmake/check-spills.sh <build-log> [kernel-name-regex]
set -euo pipefail
log=${1:?usage: check-spills.sh <build-log> [kernel-regex]}
pattern=${2:-attention_kernel|merge_partials_kernel|merge_states_kernel}
demangle() { if command -v c++filt >/dev/null; then c++filt; else cat; fi; }

# ptxas prints, per entry: "Compiling entry function 'NAME' for 'ARCH'", then "Function properties
# for NAME" followed by "N bytes stack frame, S bytes spill stores, L bytes spill loads", then
# "Used R registers".
awk -v pat="$pattern" '
  /Compiling entry function/ { match($0, /function .[^'\'']+/); fn = substr($0, RSTART + 10, RLENGTH - 10)
                               match($0, /for .sm_[0-9a-z]+/); arch = substr($0, RSTART + 5, RLENGTH - 5) }
  /Function properties for/  { props = $NF }
  /bytes spill stores/       { if (props == fn) { stack[fn, arch] = $1; st[fn, arch] = $5; ld[fn, arch] = $9 } }
  /Used [0-9]+ registers/    { match($0, /Used [0-9]+/); regs[fn, arch] = substr($0, RSTART + 5, RLENGTH - 5)
                               if (!((fn, arch) in seen)) { seen[fn, arch] = 1; order[n++] = fn SUBSEP arch } }
  END {
    bad = 0; found = 0
    for (i = 0; i < n; i++) {
      split(order[i], k, SUBSEP)
      if (k[1] !~ pat) continue
      found++
      spill = st[k[1], k[2]] + ld[k[1], k[2]]
      printf "%-8s %4s regs %4s B stack %4s B spill stores %4s B spill loads  %s\n", k[2], regs[k[1], k[2]],
             stack[k[1], k[2]] + 0, st[k[1], k[2]] + 0, ld[k[1], k[2]] + 0, k[1]
      if (spill > 0) bad++
    }
    if (found == 0) { print "check-spills: no matching kernel in the log (built without -Xptxas=-v?)" > "/dev/stderr"; exit 2 }
    if (bad > 0) { printf "check-spills: %d kernel(s) spill registers\n", bad > "/dev/stderr"; exit 1 }
    printf "check-spills: %d kernel builds, no spills\n", found
  }' "$log" | demangle
exit "${PIPESTATUS[0]}"
