#!/usr/bin/env python3
"""An empty Kubernetes API for `kubectl apply --dry-run=client` where no cluster
is at hand: it answers discovery for the built-in kinds Eventos deploys and for
every CRD under k8s/schemas, and "not found" for every object, so kubectl plans
to create each one and prints it. Nothing is stored; every other call is refused.

usage: kube-discovery.py PORT_FILE   (listens on 127.0.0.1, an ephemeral port,
       written to PORT_FILE once it accepts; each object looked up is printed)
"""

import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

SCHEMAS = Path(__file__).resolve().parent.parent / "k8s" / "schemas"

# (group, version, kind, plural, namespaced) of the built-in kinds in k8s/ and runtime-class/.
BUILT_IN = [
    ("", "v1", "Namespace", "namespaces", False),
    ("", "v1", "ConfigMap", "configmaps", True),
    ("", "v1", "Secret", "secrets", True),
    ("", "v1", "Service", "services", True),
    ("batch", "v1", "Job", "jobs", True),
    ("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", True),
    ("networking.k8s.io", "v1", "Ingress", "ingresses", True),
    ("node.k8s.io", "v1", "RuntimeClass", "runtimeclasses", False),
]


def crd_kinds():
    for path in sorted(SCHEMAS.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
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


OBJECT = re.compile(r"^/(?:api/v1|apis/[^/]+/[^/]+)(?:/namespaces/[^/]+)?/[a-z]+/[^/]+$")


class Handler(BaseHTTPRequestHandler):
    def answer(self, status, document):
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?")[0]
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
        if OBJECT.match(path):
            print(f"looked up {path}", flush=True)
        self.answer(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound",
                          "message": f"{path} not found", "code": 404})

    def do_POST(self):
        self.answer(405, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 405,
                          "message": "this API stores nothing: use --dry-run=client"})

    do_PUT = do_PATCH = do_DELETE = do_POST

    def log_message(self, *args):
        pass


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Path(sys.argv[1]).write_text(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
