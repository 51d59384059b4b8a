#!/usr/bin/env bash
# Prepares .carry/ for a GPU machine that has no Java: a trimmed Java runtime (jlink) in .carry/jre
# and the ptk jar with its runtime dependencies in .carry/lib. The DJL tokenizer jar bundles native
# libraries for every platform; only linux-x86_64's is kept.
# Kept under 64 MiB so that it travels with the working tree. Run after `mvn -q -o package`.
set -euo pipefail
cd "$(dirname "$0")/.."
jar=java/target/ptk-0.1.0.jar
[[ -f $jar ]] || { echo "prepare-carry: $jar missing: run mvn -q -o package first" >&2; exit 1; }
rm -rf .carry
mkdir -p .carry/lib

# JDK 21+ spells zip compression --compress=zip-6; JDK 17 only knows the levels 0-2 (2 = zip).
compress=--compress=2
jlink --help 2>&1 | grep -q 'zip-\[0-9\]' && compress=--compress=zip-6
jlink --add-modules java.base,java.logging,java.management,jdk.unsupported,jdk.incubator.vector,java.naming \
  --strip-debug --no-header-files --no-man-pages "$compress" --output .carry/jre

cp "$jar" .carry/lib/
for dep in javacpp cuda gson commons-io api jna slf4j-api; do
  cp java/target/lib/"$dep"-[0-9]*.jar .carry/lib/
done
python3 - java/target/lib/tokenizers-[0-9]*.jar .carry/lib/tokenizers.jar <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as src, zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as dst:
    for item in src.infolist():
        other_platform = item.filename.startswith("native/lib/") and item.filename.count("/") > 2 \
            and "/linux-x86_64/" not in item.filename
        if not other_platform:
            dst.writestr(item, src.read(item.filename))
PY
size=$(du -sm .carry | cut -f1)
echo "prepare-carry: .carry is ${size} MiB ($(ls .carry/lib | wc -l) jars)"
(( size < 64 )) || { echo "prepare-carry: over the 64 MiB carry limit" >&2; exit 1; }
