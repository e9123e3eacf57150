#!/usr/bin/env bash
# The node runtime a SpinKube node runs, on this machine, as root: containerd
# 1.7.34 with containerd-shim-spin v0.24.0 (`NODE_BIN` names their folder), its
# root, state and socket under DIR, and a docker-registry on loopback holding
# the application as `eventos registry push` makes it, pulled by `ctr`.
#
#   scripts/node.sh start DIR   prints NODE_SOCKET=... and NODE_IMAGE=... once it is up
#   scripts/node.sh stop DIR    kills every task, stops containerd and the registry,
#                               unmounts what the shims mounted, removes DIR
#
# `start` also makes the first start of the artifact (which compiles its
# components) unless --no-first-start is given after DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
command=${1:?usage: scripts/node.sh start|stop DIR}
dir=$(mkdir -p "${2:?usage: scripts/node.sh start|stop DIR}" && cd "$2" && pwd)
socket="$dir/containerd.sock"
: "${NODE_BIN:?NODE_BIN must name the folder of containerd-1.7.34, ctr-1.7.34 and containerd-shim-spin-v2}"
NODE_BIN=$(cd "$NODE_BIN" && pwd)
ctr() { "$NODE_BIN/ctr-1.7.34" --address "$socket" -n k8s.io "$@"; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
listens() { for _ in $(seq 1 600); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

case "$command" in
start)
  mkdir -p "$dir/registry"
  PATH="$NODE_BIN:$PATH" setsid "$NODE_BIN/containerd-1.7.34" --root "$dir/root" --state "$dir/state" --address "$socket" \
    >"$dir/containerd.log" 2>&1 </dev/null &
  echo $! >"$dir/containerd.pid"
  registry_port=$(free_port)
  printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$dir/registry" "$registry_port" >"$dir/registry.yml"
  setsid docker-registry serve "$dir/registry.yml" >"$dir/registry.log" 2>&1 </dev/null &
  echo $! >"$dir/registry.pid"
  for _ in $(seq 1 300); do ctr version >/dev/null 2>&1 && break; sleep 0.1; done
  listens "$registry_port" || { echo "node: docker-registry did not start (see $dir/registry.log)" >&2; exit 1; }
  image="127.0.0.1:$registry_port/eventos:node"
  target/release/eventos registry push --insecure --no-build "$image" >/dev/null
  ctr image pull --plain-http "$image" >/dev/null
  if [ "${3:-}" != --no-first-start ]; then
    port=$(free_port)
    ctr run -d --net-host --runtime io.containerd.spin.v2 --env "SPIN_HTTP_LISTEN_ADDR=127.0.0.1:$port" "$image" first-start / >/dev/null
    listens "$port" || { echo "node: the first container did not start (see $dir/containerd.log)" >&2; exit 1; }
    ctr task kill -s SIGKILL first-start >/dev/null 2>&1 || true
    for _ in $(seq 1 100); do ctr task rm first-start >/dev/null 2>&1 && break; sleep 0.05; done
    ctr container rm first-start >/dev/null 2>&1 || true
  fi
  echo "NODE_SOCKET=$socket"
  echo "NODE_IMAGE=$image"
  ;;
stop)
  for task in $(ctr task ls -q 2>/dev/null); do
    ctr task kill -s SIGKILL "$task" 2>/dev/null || true
    ctr task rm -f "$task" >/dev/null 2>&1 || true
  done
  for container in $(ctr container ls -q 2>/dev/null); do ctr container rm "$container" >/dev/null 2>&1 || true; done
  for pid in "$dir/containerd.pid" "$dir/registry.pid"; do
    [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null || true
  done
  sleep 0.5
  # A shim outlives containerd (as it must on a node): end those of this node, and what they mounted.
  pkill -KILL -f -- "-address $socket" 2>/dev/null || true
  sleep 0.5
  { grep " $dir/" /proc/mounts || true; } | cut -d" " -f2 | sort -r | while read -r mount; do umount "$mount" 2>/dev/null || true; done
  rm -rf "$dir"
  ;;
*)
  echo "usage: scripts/node.sh start|stop DIR [--no-first-start]" >&2
  exit 2
  ;;
esac
