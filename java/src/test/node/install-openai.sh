#!/usr/bin/env bash
# Installs the official OpenAI client library for Node.js into build/openai-client/, for the server
# tests that drive `ptk serve` as a user's program would. Version 6 is the newest that runs on the
# Node.js 20 these machines have (7.x requires Node.js 22). Idempotent.
set -euo pipefail
VERSION=6.30.1
ROOT="$(cd "$(dirname "$0")/../../../.." && pwd)"
DEST="$ROOT/build/openai-client"
if [[ -f "$DEST/node_modules/openai/package.json" ]] && grep -q "\"version\": \"$VERSION\"" "$DEST/node_modules/openai/package.json"; then
  exit 0
fi
mkdir -p "$DEST"
npm install --prefix "$DEST" --no-audit --no-fund --no-save --silent "openai@$VERSION"
