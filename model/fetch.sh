#!/usr/bin/env bash
# Downloads the released ParaThinker-1.5B checkpoint (Hugging Face repo Leslie04/ParaThinker-1.5B)
# into DIR, in the layout `ptk` loads: config.json, generation_config.json, tokenizer.json,
# tokenizer_config.json and model.safetensors (or, if the repo is sharded, the index and its shards).
#
#   model/fetch.sh DIR            # needs curl and internet access; about 3.6 GB
#   HF_TOKEN=...  HF_ENDPOINT=https://hf-mirror.com  model/fetch.sh DIR   # optional auth / mirror
#
# Files already present are kept (curl resumes a partial download).
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
DIR="$1"
REPO="${PTK_MODEL_REPO:-Leslie04/ParaThinker-1.5B}"
BASE="${HF_ENDPOINT:-https://huggingface.co}/$REPO/resolve/main"
AUTH=()
if [[ -n "${HF_TOKEN:-}" ]]; then AUTH=(-H "Authorization: Bearer $HF_TOKEN"); fi
mkdir -p "$DIR"

# get FILE [optional]: downloads BASE/FILE into DIR/FILE; returns 1 on HTTP 404 when optional.
get() {
  local file="$1" optional="${2:-}" code
  if [[ -s "$DIR/$file" ]]; then return 0; fi
  echo "fetch: $file"
  code=$(curl -sSL "${AUTH[@]}" -C - -o "$DIR/$file.part" -w '%{http_code}' "$BASE/$file" || true)
  if [[ "$code" == 200 || "$code" == 206 || "$code" == 416 ]]; then
    mv "$DIR/$file.part" "$DIR/$file"
    return 0
  fi
  rm -f "$DIR/$file.part"
  if [[ -n "$optional" && "$code" == 404 ]]; then return 1; fi
  echo "fetch: $BASE/$file answered HTTP $code" >&2
  exit 1
}

get config.json
get generation_config.json optional || echo "fetch: no generation_config.json (defaults apply)"
get tokenizer.json
get tokenizer_config.json optional || true
if ! get model.safetensors optional; then
  get model.safetensors.index.json
  for shard in $(grep -o '"[^"]*\.safetensors"' "$DIR/model.safetensors.index.json" | tr -d '"' | sort -u); do
    get "$shard"
  done
fi
echo "fetch: done; try: ptk tokenize --model $DIR --chat 'What is 2 + 3?'"
