#!/usr/bin/env bash
# The node half of the black-box suite: the named test files again, every domain
# in a container of its own under containerd-shim-spin v0.24 (Spin 3.6.3), as a
# SpinKube node runs the SpinApps (`EVENTOS_TEST_RUNTIME=node`; see
# host/tests/support/node.rs). `NODE_BIN` names the folder of containerd-1.7.34,
# ctr-1.7.34 and containerd-shim-spin-v2; containerd needs root. A node that is
# missing is skipped, but under CI=true it fails the run.
#
# The node serves every test file in turn: containerd (its root, state and
# socket under target/node, the shim found on its PATH) and a docker-registry
# on loopback are started once, the application pushed (`eventos registry
# push`), pulled (`ctr image pull`) and its components compiled by a first
# container; when the tests are done, every task, containerd and the registry
# are stopped and the folder removed.
set -euo pipefail
cd "$(dirname "$0")/.."
tests=()
for name in "$@"; do tests+=(--test "$name"); done

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
dir="$PWD/target/node/$$"
socket="$dir/containerd.sock"
mkdir -p "$dir/registry"
ctr() { "$NODE_BIN/ctr-1.7.34" --address "$socket" -n k8s.io "$@"; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
listens() { for _ in $(seq 1 600); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

stop_node() {
  local status=$?
  for task in $(ctr task ls -q 2>/dev/null); do
    ctr task kill -s SIGKILL "$task" 2>/dev/null || true
    ctr task rm -f "$task" >/dev/null 2>&1 || true
  done
  for container in $(ctr container ls -q 2>/dev/null); do ctr container rm "$container" >/dev/null 2>&1 || true; done
  kill "${containerd:-}" "${registry:-}" 2>/dev/null || true
  wait 2>/dev/null || true
  # A shim outlives containerd (as it must on a node): end those of this node, and what they mounted.
  pkill -KILL -f -- "-address $socket" 2>/dev/null || true
  sleep 0.5
  { grep " $dir/" /proc/mounts || true; } | cut -d" " -f2 | sort -r | while read -r mount; do umount "$mount" 2>/dev/null || true; done
  rm -rf "$dir"
  exit "$status"
}
trap stop_node EXIT

PATH="$NODE_BIN:$PATH" "$NODE_BIN/containerd-1.7.34" --root "$dir/root" --state "$dir/state" --address "$socket" >"$dir/containerd.log" 2>&1 &
containerd=$!
registry_port=$(free_port)
printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$dir/registry" "$registry_port" >"$dir/registry.yml"
docker-registry serve "$dir/registry.yml" >"$dir/registry.log" 2>&1 &
registry=$!
for _ in $(seq 1 300); do ctr version >/dev/null 2>&1 && break; sleep 0.1; done
listens "$registry_port" || { echo "make test: docker-registry did not start (see $dir/registry.log)" >&2; exit 1; }
image="127.0.0.1:$registry_port/eventos:test"
target/release/eventos registry push --insecure --no-build "$image" >/dev/null
ctr image pull --plain-http "$image" >/dev/null
# The first start of an artifact compiles its components: once, before any test.
port=$(free_port)
ctr run -d --net-host --runtime io.containerd.spin.v2 --env "SPIN_HTTP_LISTEN_ADDR=127.0.0.1:$port" "$image" first-start / >/dev/null
listens "$port" || { echo "make test: the node's first container did not start (see $dir/containerd.log)" >&2; exit 1; }
ctr task kill -s SIGKILL first-start >/dev/null 2>&1 || true
for _ in $(seq 1 100); do ctr task rm first-start >/dev/null 2>&1 && break; sleep 0.05; done
ctr container rm first-start >/dev/null 2>&1 || true

echo "make test: the black-box tests again, on the node (containerd 1.7.34, containerd-shim-spin v0.24.0)"
EVENTOS_TEST_RUNTIME=node NODE_BIN="$NODE_BIN" NODE_SOCKET="$socket" NODE_IMAGE="$image" \
  "${CARGO:-cargo}" test --release -p eventos "${tests[@]}"
