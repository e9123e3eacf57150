#!/usr/bin/env bash
# `make deploy`: push the application, pin its digest in the overlay, apply it,
# and wait until every domain is rolled out.
#
#   REGISTRY   where to push: host[:port][/path] (the artifact is $REGISTRY/eventos)
#   OVERLAY    k8s/overlays/<OVERLAY> (dev)
#   TAG        the tag pushed beside the digest (the commit, else latest)
#   INSECURE=1 the registry speaks plain HTTP (a registry on this machine)
#   IMAGE      deploy this pinned reference (registry/eventos@sha256:...) instead of
#              pushing: how to roll back to what ran before
#   DRY_RUN=1  kubectl apply --dry-run=client: plan every object, change nothing
#   DRY_RUN=server
#              the same server-side apply the deploy makes, with --dry-run=server:
#              the API server judges every object (schemas, CEL rules, defaults,
#              immutable fields, size limits) and stores nothing
#   ROTATE_DB_CA=1
#              replace the databases' CA: the pods trust the old and the new CA,
#              then CloudNativePG reissues every server certificate from the new one
#   VALIDATE   kubectl's --validate for server applies (strict: the server refuses
#              unknown fields); false against a stand-in that serves no OpenAPI
#   EVENTOS    the eventos binary (target/release/eventos)
#
# Objects are applied server-side under the field manager `eventos`, so none
# carries a `last-applied-configuration` copy of itself (an annotation the API
# server limits to 256 KiB in all).
set -euo pipefail
cd "$(dirname "$0")/.."

[ -n "${IMAGE:-}" ] || : "${REGISTRY:?set REGISTRY, such as REGISTRY=registry.example.com/team}"
OVERLAY=${OVERLAY:-dev}
TAG=${TAG:-$(git rev-parse --short HEAD 2>/dev/null || echo latest)}
EVENTOS=${EVENTOS:-target/release/eventos}
NAMESPACE=eventos-system
PINNED_DIR=target/deploy/$OVERLAY
[ -d "k8s/overlays/$OVERLAY" ] || { echo "deploy: no overlay k8s/overlays/$OVERLAY" >&2; exit 2; }

server_side=(--server-side --field-manager=eventos --force-conflicts "--validate=${VALIDATE:-strict}")
case "${DRY_RUN:-}" in
  "") apply_flags=("${server_side[@]}") ;;
  server) apply_flags=("${server_side[@]}" --dry-run=server) ;;
  # A plan without a server of record to validate against: k8s/validate.py below
  # has checked every object against its schema.
  1) apply_flags=(--dry-run=client --validate=false) ;;
  *) echo "deploy: DRY_RUN is 1 (a client-side plan) or server (the server judges, stores nothing)" >&2; exit 2 ;;
esac
change_flags=()
[ -z "${DRY_RUN:-}" ] || change_flags=("--dry-run=${DRY_RUN/1/client}")
say() { echo "deploy: $*"; }
apply() { kubectl apply "${apply_flags[@]}" "$@"; }

if [ -n "${IMAGE:-}" ]; then
  pinned=$IMAGE
  [[ "$pinned" == *@sha256:* ]] || { echo "deploy: IMAGE must be pinned: registry/eventos@sha256:..." >&2; exit 2; }
else
  say "pushing $REGISTRY/eventos:$TAG"
  pinned=$("$EVENTOS" registry push "$REGISTRY/eventos:$TAG" --no-build ${INSECURE:+--insecure})
  say "pushed $pinned"
fi
digest=${pinned##*@}
running=$(kubectl -n "$NAMESPACE" get spinapp users -o 'jsonpath={.spec.image}' 2>/dev/null || true)
[ -z "$running" ] || say "the cluster runs $running now; to return to it: make deploy IMAGE=$running"

# The overlay with the image pinned to what was just pushed (target/ is not committed:
# commit such a file to a GitOps repository instead).
mkdir -p "$PINNED_DIR"
cat > "$PINNED_DIR/kustomization.yaml" <<EOF
# Made by scripts/deploy.sh: k8s/overlays/$OVERLAY with the image pinned by digest.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
sortOptions:
  order: fifo
resources:
  - ../../../k8s/overlays/$OVERLAY
images:
  - name: registry.example.com/eventos/eventos
    newName: ${pinned%@*}
    digest: $digest
EOF
say "pinned $PINNED_DIR/kustomization.yaml to $digest"
python3 k8s/validate.py --overlay "$PINNED_DIR" | tail -1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
kubectl kustomize "$PINNED_DIR" > "$work/rendered.yaml"
kubectl create namespace "$NAMESPACE" --dry-run=client -o yaml | apply -f -

# The databases' CA (k8s/base/databases.yaml): made once, here, kept by the
# cluster and read back on every later deploy. Its key is SEC1 (`EC PRIVATE
# KEY`), the one form CloudNativePG parses (pkg/certs: x509.ParseECPrivateKey).
make_ca() {
  openssl ecparam -name prime256v1 -genkey -noout -out "$work/ca.key"
  openssl req -x509 -new -key "$work/ca.key" -days 3650 -subj "/CN=eventos databases" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out "$work/ca.crt"
  kubectl -n "$NAMESPACE" create secret generic eventos-db-ca \
    --from-file=ca.crt="$work/ca.crt" --from-file=ca.key="$work/ca.key" --dry-run=client -o yaml | apply -f -
}
kubectl -n "$NAMESPACE" get secret eventos-db-ca -o 'jsonpath={.data.ca\.crt}' 2>/dev/null | base64 -d > "$work/current.crt" || true
: > "$work/previous.crt"
if [ ! -s "$work/current.crt" ]; then
  say "making the databases' CA (eventos-db-ca)"
  make_ca
elif [ "${ROTATE_DB_CA:-}" = 1 ]; then
  say "rotating the databases' CA: the pods trust the old and the new one meanwhile"
  cp "$work/current.crt" "$work/previous.crt"
  make_ca
else
  say "the databases' CA exists; reusing it"
  cp "$work/current.crt" "$work/ca.crt"
fi

# The secret of the Keycloak client the webhook-dispatch CronJob signs in as
# (k8s/base/webhook-dispatch.yaml): made once, here, at random; the realm import
# and the CronJob read it from the cluster.
if ! kubectl -n "$NAMESPACE" get secret eventos-dispatcher >/dev/null 2>&1; then
  say "making the webhook dispatcher's client secret (eventos-dispatcher)"
  kubectl -n "$NAMESPACE" create secret generic eventos-dispatcher \
    --from-literal=client-secret="$(openssl rand -hex 32)" --dry-run=client -o yaml | apply -f -
fi

# The trust bundle the executor mounts as every Spin pod's CA file: what the pods
# verify is the databases (their only TLS peers; every other call stays inside the
# cluster over HTTP), so it holds the databases' CA, and the one it replaces
# while a rotation runs: a few KiB, whatever the machine deploying has.
cat "$work/ca.crt" "$work/previous.crt" > "$work/ca-certificates.crt"
kubectl -n "$NAMESPACE" create secret generic eventos-ca-certificates \
  --from-file=ca-certificates.crt="$work/ca-certificates.crt" --dry-run=client -o yaml | apply -f -

# spin-operator's webhook refuses a SpinApp whose executor it has not seen yet,
# and its cache may lag a moment behind an executor created by the same apply:
# the executor goes first, and the rest is applied again while the webhook refuses.
# The realm import as the cluster holds it before this deploy (scripts/realm-update.sh).
kubectl -n "$NAMESPACE" get keycloakrealmimport eventos-realm -o json >"$work/realm-before.json" 2>/dev/null \
  || : >"$work/realm-before.json"

apply -f "$work/rendered.yaml" -l app.kubernetes.io/component=executor
judged="$work/rendered.yaml"
if [ "${DRY_RUN:-}" = server ] && ! kubectl -n "$NAMESPACE" get spinappexecutor containerd-shim-spin >/dev/null 2>&1; then
  # The webhook runs on dry runs too, and an executor applied as a dry run never
  # reaches spin-operator's cache: on a cluster without the executor, the server
  # would refuse every SpinApp for a reason a real deploy does not meet.
  judged="$work/without-spinapps.yaml"
  python3 -c 'import sys, yaml
objects = [o for o in yaml.safe_load_all(sys.stdin) if o]
for app in (o for o in objects if o["kind"] == "SpinApp"):
    print("deploy: SpinApp/%s: not judged by the server: the executor does not exist on this cluster yet, and a dry-run one never reaches the webhook; k8s/validate.py judged it" % app["metadata"]["name"], file=sys.stderr)
yaml.safe_dump_all([o for o in objects if o["kind"] != "SpinApp"], sys.stdout)' < "$work/rendered.yaml" > "$judged"
fi
for attempt in 1 2 3 4 5; do
  if apply -f "$judged" 2> "$work/apply.err"; then
    break
  fi
  cat "$work/apply.err" >&2
  if [ "$attempt" = 5 ] || ! grep -qi "executor" "$work/apply.err"; then
    exit 1
  fi
  say "the executor is not known to the webhook yet; applying again"
  sleep 3
done

NAMESPACE=$NAMESPACE scripts/realm-update.sh "$work/rendered.yaml" "$work/realm-before.json" "$work"

if [ -s "$work/previous.crt" ]; then
  # CloudNativePG renews a server certificate only when it expires or its names
  # change (pkg/certs), never because its CA did: without its Secret, it issues a
  # new one from the new CA at once.
  say "restarting the Spin pods on the bundle that trusts both CAs"
  apps=$(kubectl -n "$NAMESPACE" get spinapps -o 'jsonpath={.items[*].metadata.name}' 2>/dev/null || true)
  for app in $apps; do
    kubectl -n "$NAMESPACE" rollout restart "deployment/$app" ${change_flags[@]+"${change_flags[@]}"}
  done
  # Only pods that trust the new CA may meet a certificate it signed.
  [ -n "${DRY_RUN:-}" ] || for app in $apps; do kubectl -n "$NAMESPACE" rollout status "deployment/$app" --timeout=5m; done
  for cluster in $(python3 -c 'import sys, yaml; print(*(o["metadata"]["name"] for o in yaml.safe_load_all(sys.stdin) if o and o["kind"] == "Cluster"))' < "$work/rendered.yaml"); do
    kubectl -n "$NAMESPACE" delete secret "$cluster-server" --ignore-not-found ${change_flags[@]+"${change_flags[@]}"}
  done
  say "CloudNativePG reissues each server certificate from the new CA; the next deploy drops the old CA from the bundle"
fi

if [ -n "${DRY_RUN:-}" ]; then
  say "dry run: nothing was changed"
  exit 0
fi

say "waiting for the migrations"
if kubectl -n "$NAMESPACE" get jobs -l app.kubernetes.io/component=migrations -o name | grep -q .; then
  kubectl -n "$NAMESPACE" wait --for=condition=complete job -l app.kubernetes.io/component=migrations --timeout=10m
fi
for app in $(kubectl -n "$NAMESPACE" get spinapps -o 'jsonpath={.items[*].metadata.name}'); do
  say "waiting for $app"
  kubectl -n "$NAMESPACE" rollout status "deployment/$app" --timeout=5m
done
say "deployed $pinned"
