#!/usr/bin/env bash
# The Spin halves of the black-box suite: the named test binaries again, with real
# Spin serving the same spin.toml and .wasm files (`EVENTOS_TEST_RUNTIME=spin`),
# once per referee: Spin 3.6.3 (`SPIN`, else `spin` on PATH; containerd-shim-spin
# v0.24) and Spin 4.0 (`SPIN4`; the shim v0.25 SpinKube installs today).
# A referee that is missing is skipped, but under CI=true it fails the run.
set -euo pipefail
spin3="${SPIN:-$(command -v spin || true)}"
spin4="${SPIN4:-}"
# Test binaries by name, then (after `--`) what the test binaries are given: a filter.
tests=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do tests+=(--test "$1"); shift; done

for referee in "SPIN:$spin3" "SPIN4:$spin4"; do
  variable=${referee%%:*} spin=${referee#*:}
  if [ -z "$spin" ] || [ ! -x "$spin" ]; then
    if [ "${CI:-}" = true ]; then
      echo "make test: no Spin CLI in $variable under CI=true: a referee is missing" >&2
      exit 1
    fi
    echo "make test: no Spin CLI in $variable: its half of the black-box tests is skipped"
    continue
  fi
  echo "make test: the black-box tests again, on $("$spin" --version | cut -d" " -f1,2)"
  EVENTOS_TEST_RUNTIME=spin SPIN="$spin" "${CARGO:-cargo}" test --release -p eventos ${tests[@]+"${tests[@]}"} "$@"
done
