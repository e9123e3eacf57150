#!/usr/bin/env bash
# Keycloak's operator imports a realm only while Keycloak has no realm of that
# name (a KeycloakRealmImport "only supports creation of new realms"): a client
# or role the realm import gains later would never reach a running Keycloak.
# This brings them: given the rendered manifests and the KeycloakRealmImport as
# the cluster held it before this deploy (JSON; empty when there was none), it
# imports into the running realm the clients and realm roles it lacks, as a
# partial import that leaves what exists as it is (`kcadm.sh create
# partialImport`, `ifResourceExists: SKIP`, in the Keycloak pod, as its initial
# admin), with the realm import's placeholders filled from their Secrets as the
# operator fills them. Under DRY_RUN it says what it would import, and imports nothing.
#
# usage: scripts/realm-update.sh RENDERED.yaml BEFORE.json WORKDIR  (NAMESPACE in the environment)
set -euo pipefail
rendered=$1 before=$2 work=$3
NAMESPACE=${NAMESPACE:-eventos-system}
[ -s "$before" ] || exit 0

# What the import gained over the one the cluster held (clients by clientId,
# realm roles by name): `realm;clients;roles` on stdout, the partial import and
# its placeholders in WORKDIR.
summary=$(python3 - "$rendered" "$before" "$work" <<'EOF'
import json, sys, yaml
rendered, before, work = sys.argv[1:]
now = next(o for o in yaml.safe_load_all(open(rendered)) if o and o["kind"] == "KeycloakRealmImport")["spec"]
was = json.load(open(before))["spec"]["realm"]
realm = now["realm"]
known_clients = {c["clientId"] for c in was.get("clients", [])}
known_roles = {r["name"] for r in was.get("roles", {}).get("realm", [])}
clients = [c for c in realm.get("clients", []) if c["clientId"] not in known_clients]
roles = [r for r in realm.get("roles", {}).get("realm", []) if r["name"] not in known_roles]
if clients or roles:
    json.dump({"ifResourceExists": "SKIP", "clients": clients, "roles": {"realm": roles}}, open(f"{work}/partial.json", "w"))
    json.dump(now.get("placeholders", {}), open(f"{work}/placeholders.json", "w"))
    print(";".join([realm["realm"], " ".join(c["clientId"] for c in clients) or "none", " ".join(r["name"] for r in roles) or "none"]))
EOF
)
[ -n "$summary" ] || exit 0
IFS=';' read -r realm clients roles <<<"$summary"
echo "deploy: the realm $realm exists, and its import gained clients: $clients; realm roles: $roles"
echo "deploy: importing them into the running realm (kcadm.sh create partialImport -r $realm, ifResourceExists SKIP)"
if [ -n "${DRY_RUN:-}" ]; then
  echo "deploy: dry run: the partial import is planned, not made"
  exit 0
fi

python3 - "$work" "$NAMESPACE" <<'EOF'
import base64, json, subprocess, sys
work, namespace = sys.argv[1:]
text = open(f"{work}/partial.json").read()
for name, source in json.load(open(f"{work}/placeholders.json")).items():
    ref = source["secret"]
    encoded = subprocess.run(["kubectl", "-n", namespace, "get", "secret", ref["name"], "-o", f"jsonpath={{.data.{ref['key']}}}"],
                             capture_output=True, text=True, check=True).stdout
    text = text.replace("${" + name + "}", base64.b64decode(encoded).decode())
open(f"{work}/partial.json", "w").write(text)
EOF
admin() { kubectl -n "$NAMESPACE" get secret keycloak-initial-admin -o "jsonpath={.data.$1}" | base64 -d; }
kubectl -n "$NAMESPACE" exec -i keycloak-0 -- /opt/keycloak/bin/kcadm.sh create partialImport \
  --no-config --server http://localhost:8080 --realm master --user "$(admin username)" --password "$(admin password)" \
  -r "$realm" -f - <"$work/partial.json"
echo "deploy: imported into the realm $realm"
