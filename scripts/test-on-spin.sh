#!/usr/bin/env bash
# The Spin half of the black-box suite: the named test files again, with real Spin
# serving the same spin.toml and .wasm files (`EVENTOS_TEST_RUNTIME=spin`).
# Spin is `SPIN` if set, else `spin` on PATH; without it only this half is skipped.
set -euo pipefail
spin="${SPIN:-$(command -v spin || true)}"
if [ -z "$spin" ] || [ ! -x "$spin" ]; then
  echo "make test: no Spin CLI (set SPIN or put spin on PATH): the Spin half of the black-box tests is skipped"
  exit 0
fi
echo "make test: the black-box tests again, on $("$spin" --version | cut -d" " -f1,2)"
tests=()
for name in "$@"; do tests+=(--test "$name"); done
EVENTOS_TEST_RUNTIME=spin SPIN="$spin" exec "${CARGO:-cargo}" test --release -p eventos "${tests[@]}"
