#!/usr/bin/env python3
"""A stand-in Kubernetes API for `make deploy DRY_RUN=...` where no cluster is at
hand: it answers discovery for the built-in kinds Eventos deploys and for every
CRD under k8s/schemas, and takes writes only as dry runs (`dryRun=All`),
storing nothing. Of what a real API server judges, it applies the rules the
deploy has broken before: an object's annotations may hold at most 256 KiB in
all, and a Secret's or ConfigMap's data at most 1 MiB (what the API server
answers "Too long" to), and it tells server-side apply (a PATCH of
`application/apply-patch+yaml` under a field manager) from a client-side one.
It also stands in for spin-operator's validating webhook, which looks a
SpinApp's executor up in the operator's cache: a SpinApp is refused while its
executor is unknown, or younger than the cache's lag (a second here). The
webhook runs on dry runs too (`sideEffects: None`), and an executor written as a
dry run never reaches the cache: only executors that exist (SEED.yaml) count. It is no
API server: schemas, CEL rules, defaults and immutability are the real one's
(see k8s/README.md), and k8s/validate.py's offline.

usage: kube-dry-run-api.py PORT_FILE [SEED.yaml]
  listens on 127.0.0.1, an ephemeral port, written to PORT_FILE once it accepts;
  objects in SEED.yaml exist (GET finds them, DELETE may remove them). Every
  request about an object is printed, one line each:
    looked up PATH | applied KIND NAMESPACE/NAME MANAGER | created KIND NAMESPACE/NAME
    deleted KIND NAMESPACE/NAME | refused KIND NAMESPACE/NAME: WHY
  and every object written is printed after its line as `body JSON`.
"""

import base64
import json
import re
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import yaml

YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

SCHEMAS = Path(__file__).resolve().parent.parent / "k8s" / "schemas"

# The API server's limits (apimachinery's TotalAnnotationSizeLimitB, and the
# data limit of Secrets and ConfigMaps).
ANNOTATIONS_LIMIT = 256 * 1024
DATA_LIMIT = 1024 * 1024
# How long spin-operator's cache may take to hold an executor just written.
WEBHOOK_CACHE_LAG_SECONDS = 1.0

# (group, version, kind, plural, namespaced) of the built-in kinds in k8s/ and runtime-class/.
BUILT_IN = [
    ("", "v1", "Namespace", "namespaces", False),
    ("", "v1", "ConfigMap", "configmaps", True),
    ("", "v1", "Secret", "secrets", True),
    ("", "v1", "Service", "services", True),
    ("apps", "v1", "Deployment", "deployments", True),
    ("batch", "v1", "Job", "jobs", True),
    ("batch", "v1", "CronJob", "cronjobs", True),
    ("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", True),
    ("node.k8s.io", "v1", "RuntimeClass", "runtimeclasses", False),
]


def crd_kinds():
    for path in sorted(SCHEMAS.glob("*.yaml")):
        # libyaml's parser where PyYAML has it: the CRDs are megabytes of YAML.
        crd = yaml.load(path.read_text(), Loader=YAML_LOADER)
        spec = crd["spec"]
        for version in spec["versions"]:
            if version.get("served"):
                yield (spec["group"], version["name"], spec["names"]["kind"], spec["names"]["plural"],
                       spec["scope"] == "Namespaced")


KINDS = BUILT_IN + list(crd_kinds())


def resource_list(group, version):
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": [
            {"name": plural, "singularName": kind.lower(), "namespaced": namespaced, "kind": kind,
             "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}
            for g, v, kind, plural, namespaced in KINDS if (g, v) == (group, version)
        ],
    }


def group_list():
    groups = {}
    for group, version, *_ in KINDS:
        if group:
            groups.setdefault(group, [])
            if version not in groups[group]:
                groups[group].append(version)
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [
            {"name": name, "versions": [{"groupVersion": f"{name}/{v}", "version": v} for v in versions],
             "preferredVersion": {"groupVersion": f"{name}/{versions[0]}", "version": versions[0]}}
            for name, versions in groups.items()
        ],
    }


OBJECT = re.compile(r"^/(?:api/v1|apis/[^/]+/[^/]+)(?:/namespaces/([^/]+))?/([a-z]+)(?:/([^/]+))?$")
KIND_OF = {plural: kind for _, _, kind, plural, _ in KINDS}
PLURAL_OF = {kind: plural for _, _, kind, plural, _ in KINDS}


def path_of(obj):
    meta = obj.get("metadata", {})
    return (meta.get("namespace") or "", PLURAL_OF.get(obj.get("kind"), ""), meta.get("name"))


def too_long(obj):
    """Why the API server would refuse `obj` as too long, or None."""
    annotations = obj.get("metadata", {}).get("annotations") or {}
    size = sum(len(k) + len(v or "") for k, v in annotations.items())
    if size > ANNOTATIONS_LIMIT:
        return f"metadata.annotations: Too long: must have at most {ANNOTATIONS_LIMIT} bytes (these hold {size})"
    if obj.get("kind") == "Secret":
        size = sum(len(base64.b64decode(v)) for v in (obj.get("data") or {}).values())
    elif obj.get("kind") == "ConfigMap":
        size = sum(len(v) for v in (obj.get("data") or {}).values())
    else:
        size = 0
    if size > DATA_LIMIT:
        return f"data: Too long: must have at most {DATA_LIMIT} bytes (it holds {size})"
    return None


def webhook_refusal(obj, executors):
    """spin-operator's refusal of a SpinApp whose executor its cache does not hold yet."""
    if obj.get("kind") != "SpinApp":
        return None
    executor = obj.get("spec", {}).get("executor")
    first_seen = executors.get((obj.get("metadata", {}).get("namespace"), executor))
    if first_seen is None or time.monotonic() - first_seen < WEBHOOK_CACHE_LAG_SECONDS:
        return (f'admission webhook "vspinapp.kb.io" denied the request: spec.executor: '
                f'Invalid value: "{executor}": executor does not exist in namespace')
    return None


class Handler(BaseHTTPRequestHandler):
    store = {}
    # (namespace, name) of each SpinAppExecutor that exists: since when.
    executors = {}

    def answer(self, status, document):
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def failure(self, code, reason, message):
        self.answer(code, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason,
                           "message": message, "code": code})

    def target(self):
        """(namespace, plural, name) of the object the request is about, and its query."""
        url = urlsplit(self.path)
        match = OBJECT.match(url.path)
        return (match.groups() if match else None), parse_qs(url.query)

    def do_GET(self):
        path = urlsplit(self.path).path
        if path == "/api":
            return self.answer(200, {"kind": "APIVersions", "versions": ["v1"],
                                     "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]})
        if path == "/apis":
            return self.answer(200, group_list())
        if path == "/api/v1":
            return self.answer(200, resource_list("", "v1"))
        match = re.fullmatch(r"/apis/([^/]+)/([^/]+)", path)
        if match and resource_list(*match.groups())["resources"]:
            return self.answer(200, resource_list(*match.groups()))
        target, _ = self.target()
        if target and target[2]:
            print(f"looked up {path}", flush=True)
            key = (target[0] or "", target[1], target[2])
            if key in self.store:
                return self.answer(200, self.store[key])
        self.failure(404, "NotFound", f"{path} not found")

    def written(self, verb):
        """The object a dry-run write carries, or None once refused."""
        target, query = self.target()
        if target is None or query.get("dryRun") != ["All"]:
            self.failure(405, "MethodNotAllowed", "this API stores nothing: only dry runs (dryRun=All) are taken")
            return None
        length = int(self.headers.get("Content-Length") or 0)
        obj = yaml.safe_load(self.rfile.read(length)) if length else {}
        kind = obj.get("kind") or KIND_OF.get(target[1], "?")
        where = f"{kind} {target[0] or ''}/{obj.get('metadata', {}).get('name') or target[2]}"
        why = too_long(obj)
        if why:
            print(f"refused {where}: {why}", flush=True)
            self.failure(422, "Invalid", f"{kind} is invalid: {why}")
            return None
        why = webhook_refusal({**obj, "metadata": {**obj.get("metadata", {}), "namespace": target[0]}}, self.executors)
        if why:
            print(f"refused {where}: {why}", flush=True)
            self.failure(403, "Forbidden", why)
            return None
        manager = query.get("fieldManager", ["(none)"])[0]
        print(f"{verb} {where}" + (f" {manager}" if verb == "applied" else ""), flush=True)
        print(f"body {json.dumps(obj)}", flush=True)
        return obj

    def do_PATCH(self):
        if self.headers.get("Content-Type") != "application/apply-patch+yaml":
            return self.failure(415, "UnsupportedMediaType", "only server-side apply patches are taken here")
        obj = self.written("applied")
        if obj is not None:
            self.answer(200, obj)

    def do_POST(self):
        obj = self.written("created")
        if obj is not None:
            self.answer(201, obj)

    def do_DELETE(self):
        target, query = self.target()
        key = target and (target[0] or "", target[1], target[2])
        length = int(self.headers.get("Content-Length") or 0)
        options = json.loads(self.rfile.read(length)) if length else {}
        # kubectl sends a delete's dry run in its DeleteOptions body.
        if query.get("dryRun") != ["All"] and options.get("dryRun") != ["All"]:
            return self.failure(405, "MethodNotAllowed", "this API stores nothing: only dry runs (dryRun=All) are taken")
        if key not in self.store:
            return self.failure(404, "NotFound", f"{self.path} not found")
        print(f"deleted {self.store[key].get('kind')} {key[0]}/{key[2]}", flush=True)
        self.answer(200, {"kind": "Status", "apiVersion": "v1", "status": "Success", "code": 200})

    def log_message(self, *args):
        pass


def main():
    if len(sys.argv) > 2:
        for obj in yaml.safe_load_all(Path(sys.argv[2]).read_text()):
            if obj:
                Handler.store[path_of(obj)] = obj
                if obj.get("kind") == "SpinAppExecutor":
                    Handler.executors[(obj["metadata"].get("namespace"), obj["metadata"]["name"])] = time.monotonic()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Path(sys.argv[1]).write_text(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
