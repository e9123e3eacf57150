#!/usr/bin/env bash
# Fuzzes the running platform against openapi.yaml with schemathesis and all of
# its checks (schemathesis.toml names the rules JSON Schema cannot state). Starts
# its own platform on a free port with throwaway databases, and stops it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
examples=${1:-200}
seed=${SEED:-1}
prefix="fuzz_$$"
coproc HOST { exec target/release/eventos up --no-build --ephemeral --listen 127.0.0.1:0 --prefix "$prefix" 2>target/fuzz-host.log; }
read -r line <&"${HOST[0]}"
base=${line#eventos: serving }
trap 'kill "$HOST_PID" 2>/dev/null || true' EXIT
# An admin's token on every request, so that every operation is fuzzed past who may ask.
token=$(target/release/eventos token --sub "fuzz-$$" --email "fuzz-$$@example.com" --role admin)
# Speed is `make bench`'s to measure (`all` would hold each answer to 10 s);
# a request unanswered for a minute still fails.
st --config-file schemathesis.toml run openapi.yaml --url "$base" --checks all \
  --max-response-time 60 --request-timeout 60 \
  --header "Authorization: Bearer $token" \
  --max-examples "$examples" --seed "$seed" --report-dir target/fuzz
