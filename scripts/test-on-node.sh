#!/usr/bin/env bash
# The node half of the black-box suite: the named test binaries again, every domain
# in a container of its own under containerd-shim-spin v0.24 (Spin 3.6.3), as a
# SpinKube node runs the SpinApps (`EVENTOS_TEST_RUNTIME=node`; see
# host/tests/support/node.rs). `NODE_BIN` names the folder of containerd-1.7.34,
# ctr-1.7.34 and containerd-shim-spin-v2; containerd needs root. A node that is
# missing is skipped, but under CI=true it fails the run.
#
# One node serves every test file in turn (scripts/node.sh: containerd with its
# root, state and socket under target/node, the shim on its PATH, a
# docker-registry on loopback, the application pushed, pulled and started once
# to compile its components); when the tests are done, it is taken down.
set -euo pipefail
cd "$(dirname "$0")/.."
# Test binaries by name, then (after `--`) what the test binaries are given: a filter.
tests=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do tests+=(--test "$1"); shift; done

missing=""
if [ -z "${NODE_BIN:-}" ]; then
  missing="no NODE_BIN"
elif [ ! -x "$NODE_BIN/containerd-1.7.34" ] || [ ! -x "$NODE_BIN/ctr-1.7.34" ] || [ ! -x "$NODE_BIN/containerd-shim-spin-v2" ]; then
  missing="NODE_BIN ($NODE_BIN) lacks containerd-1.7.34, ctr-1.7.34 or containerd-shim-spin-v2"
elif [ "$(id -u)" != 0 ]; then
  missing="containerd needs root"
elif ! command -v docker-registry >/dev/null 2>&1; then
  missing="no docker-registry (make setup installs it)"
fi
if [ -n "$missing" ]; then
  if [ "${CI:-}" = true ]; then
    echo "make test: the node half cannot run under CI=true: $missing" >&2
    exit 1
  fi
  echo "make test: the node half is skipped: $missing"
  exit 0
fi

NODE_BIN=$(cd "$NODE_BIN" && pwd)
export NODE_BIN
dir="$PWD/target/node/$$"
trap 'status=$?; scripts/node.sh stop "$dir"; exit $status' EXIT
node=$(scripts/node.sh start "$dir")
export "${node%%$'\n'*}" "${node#*$'\n'}"

echo "make test: the black-box tests again, on the node (containerd 1.7.34, containerd-shim-spin v0.24.0)"
EVENTOS_TEST_RUNTIME=node "${CARGO:-cargo}" test --release -p eventos ${tests[@]+"${tests[@]}"} "$@"
