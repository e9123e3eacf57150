#!/usr/bin/env bash
# Installs what `make up` and `make test` need and a fresh machine may lack:
# the WebAssembly targets, rustfmt/clippy, and PostgreSQL's server binaries
# (used only when no server answers on 127.0.0.1:5432; the host then starts a
# private cluster under target/).
set -euo pipefail

installed_targets=$(rustup target list --installed 2>/dev/null || true)
for target in wasm32-wasip2 wasm32-wasip1; do
  if ! grep -qx "$target" <<<"$installed_targets"; then
    echo "setup: adding the $target Rust target"
    rustup target add "$target"
  fi
done

for component in rustfmt clippy; do
  if ! rustup component list --installed 2>/dev/null | grep -q "^$component"; then
    echo "setup: adding $component"
    rustup component add "$component"
  fi
done

# The host reaches PostgreSQL and HTTPS through OpenSSL (native-tls, as Spin does):
# building it needs OpenSSL's headers and pkg-config.
if ! pkg-config --exists openssl 2>/dev/null; then
  echo "setup: installing OpenSSL's headers and pkg-config for the host's TLS"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq libssl-dev pkg-config >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq libssl-dev pkg-config >/dev/null; }
fi

server_answers() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h 127.0.0.1 -p 5432
  else
    (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
  fi
}

if [ -z "${EVENTOS_PG_ADMIN_URL:-}" ] && ! server_answers; then
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
    echo "setup: no PostgreSQL server answers and none is installed; installing Debian's postgresql"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
  fi
fi

# The status page's browser test: Debian's Chromium driven by playwright-core;
# the identity tests' OpenID provider: oidc-provider.
if ! command -v chromium >/dev/null 2>&1; then
  echo "setup: installing Debian's chromium for the browser test"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
fi
browser_tests="$(dirname "$0")/../host/tests/browser"
if [ ! -d "$browser_tests/node_modules/playwright-core" ] || [ ! -d "$browser_tests/node_modules/oidc-provider" ]; then
  echo "setup: installing playwright-core and oidc-provider for the browser and identity tests"
  npm ci --prefix "$browser_tests" --no-audit --no-fund --silent
fi

# The Kubernetes manifests are rendered with kubectl's kustomize and validated
# with Python's jsonschema; the migration Job's script needs psql and pg_dump.
if ! command -v kubectl >/dev/null 2>&1; then
  echo "setup: installing kubectl"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq kubectl >/dev/null 2>&1 || apt-get install -y -qq kubernetes-client >/dev/null
fi
if ! command -v psql >/dev/null 2>&1 || ! command -v pg_dump >/dev/null 2>&1; then
  echo "setup: installing the PostgreSQL client"
  apt-get install -y -qq postgresql-client >/dev/null
fi
if ! python3 -c 'import jsonschema, referencing, yaml' >/dev/null 2>&1; then
  echo "setup: installing jsonschema and PyYAML for the manifest validator"
  python3 -m pip install --quiet 'jsonschema>=4.18' pyyaml
fi
if ! python3 -c 'import celpy' >/dev/null 2>&1; then
  echo "setup: installing cel-python for the manifest validator's CEL rules"
  python3 -m pip install --quiet 'cel-python==0.5.0'
fi

# `make deploy` and its test: a registry on loopback to push to (Debian's
# docker-registry, started by the test itself, never as a service) and openssl
# for the databases' CA.
if ! command -v docker-registry >/dev/null 2>&1 || ! command -v openssl >/dev/null 2>&1; then
  echo "setup: installing docker-registry and openssl for the deploy test"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq docker-registry openssl >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq docker-registry openssl >/dev/null; }
  # The package starts a registry for every user on :5000 where systemd runs; the test needs none.
  systemctl disable --now docker-registry >/dev/null 2>&1 || true
fi

# Spin's conformance suite runs its Redis and MQTT tests against servers of its
# own, on free ports (host/tests/host/conformance.rs, key_value_on_redis.rs): Debian's redis-server and mosquitto.
if ! command -v redis-server >/dev/null 2>&1 || ! command -v mosquitto >/dev/null 2>&1; then
  echo "setup: installing redis-server and mosquitto for Spin's conformance suite"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq redis-server mosquitto >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq redis-server mosquitto >/dev/null; }
  # Where systemd runs, the packages start services on the standard ports; the test needs none.
  systemctl disable --now redis-server mosquitto >/dev/null 2>&1 || true
fi

# The fuzz tests: schemathesis against openapi.yaml.
if ! command -v st >/dev/null 2>&1; then
  echo "setup: installing schemathesis"
  python3 -m pip install --quiet 'schemathesis==4.32.5'
fi

# The traces test decodes OTLP with OpenTelemetry's own protobuf definitions.
if ! python3 -c 'import opentelemetry.proto.collector.trace.v1.trace_service_pb2' >/dev/null 2>&1; then
  echo "setup: installing opentelemetry-proto for the traces test"
  python3 -m pip install --quiet 'opentelemetry-proto==1.45.2'
fi

# The benchmark's load generator (make bench, and its one-second check in make test).
if ! command -v wrk >/dev/null 2>&1; then
  echo "setup: installing wrk"
  apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
fi

# The metrics test scrapes the platform with a real Prometheus (Debian's).
if ! command -v prometheus >/dev/null 2>&1; then
  echo "setup: installing prometheus for the metrics test"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }
fi
