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
#   EVENTOS    the eventos binary (target/release/eventos)
set -euo pipefail
cd "$(dirname "$0")/.."

[ -n "${IMAGE:-}" ] || : "${REGISTRY:?set REGISTRY, such as REGISTRY=registry.example.com/team}"
OVERLAY=${OVERLAY:-dev}
TAG=${TAG:-$(git rev-parse --short HEAD 2>/dev/null || echo latest)}
EVENTOS=${EVENTOS:-target/release/eventos}
NAMESPACE=eventos-system
PINNED_DIR=target/deploy/$OVERLAY
[ -d "k8s/overlays/$OVERLAY" ] || { echo "deploy: no overlay k8s/overlays/$OVERLAY" >&2; exit 2; }

apply_flags=()
if [ "${DRY_RUN:-}" = 1 ]; then
  # Every object was checked against its schema by k8s/validate.py below;
  # a dry run has no API server of record to validate against.
  apply_flags=(--dry-run=client --validate=false)
fi
say() { echo "deploy: $*"; }

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
if python3 -c 'import jsonschema, yaml' 2>/dev/null; then
  python3 k8s/validate.py --overlay "$PINNED_DIR" | tail -1
else
  say "skipping k8s/validate.py (pip install jsonschema pyyaml to run it)"
fi

# The databases' CA and the trust bundle the Spin pods mount (k8s/base/databases.yaml).
# The cluster keeps the CA: it is made once, here, and read back on every later deploy.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
kubectl create namespace "$NAMESPACE" --dry-run=client -o yaml | kubectl apply "${apply_flags[@]}" -f -
if kubectl -n "$NAMESPACE" get secret eventos-db-ca -o 'jsonpath={.data.ca\.crt}' 2>/dev/null | base64 -d > "$work/ca.crt" \
   && [ -s "$work/ca.crt" ]; then
  say "the databases' CA exists; reusing it"
else
  say "making the databases' CA (eventos-db-ca)"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/CN=eventos databases" -keyout "$work/ca.key" -out "$work/ca.crt" 2>/dev/null
  kubectl -n "$NAMESPACE" create secret generic eventos-db-ca \
    --from-file=ca.crt="$work/ca.crt" --from-file=ca.key="$work/ca.key" --dry-run=client -o yaml \
    | kubectl apply "${apply_flags[@]}" -f -
fi
system_roots=/etc/ssl/certs/ca-certificates.crt
{ [ -f "$system_roots" ] && cat "$system_roots"; cat "$work/ca.crt"; } > "$work/ca-certificates.crt"
kubectl -n "$NAMESPACE" create secret generic eventos-ca-certificates \
  --from-file=ca-certificates.crt="$work/ca-certificates.crt" --dry-run=client -o yaml \
  | kubectl apply "${apply_flags[@]}" -f -

kubectl apply "${apply_flags[@]}" -k "$PINNED_DIR"
if [ "${DRY_RUN:-}" = 1 ]; then
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
