#!/usr/bin/env python3
"""Validates Eventos' Kubernetes manifests offline, as the API server and the
SpinKube webhooks would: every object against its strict JSON schema (Kubernetes
1.34 for built-in kinds, the CRD's openAPIV3Schema with unknown fields refused for
custom resources) and the CRD's CEL rules (cel.py), the rules the webhooks
enforce, and consistency with spin.toml.

usage: validate.py (--overlay DIR | --rendered FILE) [--schemas k8s/schemas] [--manifest spin.toml]
Prints one line per problem ("Kind/name: field: message") and exits 1 if any.
"""

import argparse
import copy
import hashlib
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from cel import cel_errors

K8S_VERSION_DIR = "kubernetes/v1.34.0-local-strict"
MAX_SPINAPP_NAME = 52
TEMPLATE = re.compile(r"\{\{\s*([a-z][a-z0-9_]*)\s*\}\}")


def render(overlay):
    out = subprocess.run(["kubectl", "kustomize", overlay], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"kubectl kustomize {overlay} failed:\n{out.stderr}")
    return out.stdout


def name_of(obj):
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


# ---- schemas ----------------------------------------------------------------

class Schemas:
    def __init__(self, root):
        self.root = Path(root)
        defs = json.loads((self.root / K8S_VERSION_DIR / "_definitions.json").read_text())
        self.registry = Registry().with_resource(defs["$id"], Resource.from_contents(defs))
        self.crds = {}
        for path in self.root.glob("*.yaml"):
            # libyaml's parser where PyYAML has it: the CRDs are megabytes of YAML.
            crd = yaml.load(path.read_text(), Loader=YAML_LOADER)
            for version in crd["spec"]["versions"]:
                if version.get("served"):
                    key = (crd["spec"]["group"], version["name"], crd["spec"]["names"]["kind"])
                    self.crds[key] = (crd["spec"]["scope"], version["schema"]["openAPIV3Schema"])

    def crd_schema(self, obj):
        """The openAPIV3Schema of a custom resource's CRD; None for a built-in kind."""
        group, _, version = obj.get("apiVersion", "").rpartition("/")
        crd = self.crds.get((group, version, obj.get("kind", "")))
        return crd[1] if crd else None

    def validator(self, obj):
        group, _, version = obj.get("apiVersion", "").rpartition("/")
        kind = obj.get("kind", "")
        crd = self.crds.get((group, version, kind))
        if crd:
            return Draft202012Validator(strict_crd_schema(crd[1])), crd[0]
        short = group.split(".")[0] if group else ""
        file = self.root / K8S_VERSION_DIR / f"{kind.lower()}{'-' + short if short else ''}-{version}.json"
        if not file.exists():
            return None, None
        return Draft202012Validator(json.loads(file.read_text()), registry=self.registry), "Namespaced"


def strict_crd_schema(schema):
    """The API server refuses unknown fields; JSON Schema only does with additionalProperties: false."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if not isinstance(node, dict):
            return
        if node.get("x-kubernetes-int-or-string"):
            node.pop("type", None)
            node.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
        if "properties" in node and not node.get("x-kubernetes-preserve-unknown-fields"):
            node.setdefault("additionalProperties", False)
        for key in ("properties",):
            for child in node.get(key, {}).values():
                walk(child)
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                walk(node[key])
        for key in ("anyOf", "allOf", "oneOf"):
            for child in node.get(key, []):
                walk(child)

    walk(schema)
    # Every object has these, whether its CRD's schema lists them (some generators leave them out).
    properties = schema.setdefault("properties", {})
    properties["metadata"] = {"type": "object"}
    properties.setdefault("apiVersion", {"type": "string"})
    properties.setdefault("kind", {"type": "string"})
    return schema


def schema_errors(objects, schemas):
    for obj in objects:
        validator, _ = schemas.validator(obj)
        if validator is None:
            yield f"{name_of(obj)}: no schema for {obj.get('apiVersion')} {obj.get('kind')}"
            continue
        for error in sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path)):
            field = ".".join(str(p) for p in error.absolute_path) or "(object)"
            yield f"{name_of(obj)}: {field}: {error.message}"


# ---- webhook rules ------------------------------------------------------------

UNITS = {"": 1, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def quantity(text):
    match = re.fullmatch(r"([0-9.]+)([KMGT]i?|k)?", str(text))
    if not match:
        return None
    return float(match.group(1)) * UNITS[match.group(2) or ""]


def webhook_errors(objects):
    executors = {(o["metadata"].get("namespace"), o["metadata"]["name"]) for o in objects if o.get("kind") == "SpinAppExecutor"}
    for app in (o for o in objects if o.get("kind") == "SpinApp"):
        spec, meta = app.get("spec", {}), app["metadata"]
        where = name_of(app)
        if len(meta["name"]) > MAX_SPINAPP_NAME:
            yield f"{where}: metadata.name: longer than {MAX_SPINAPP_NAME} characters"
        if spec.get("enableAutoscaling"):
            if "replicas" in spec:
                yield f"{where}: spec.replicas: must be absent when enableAutoscaling is true"
        elif isinstance(spec.get("replicas", 1), int) and spec.get("replicas", 1) < 1:
            yield f"{where}: spec.replicas: must be at least 1 unless enableAutoscaling is true"
        if (meta.get("namespace"), spec.get("executor")) not in executors:
            yield f"{where}: spec.executor: no SpinAppExecutor {spec.get('executor')!r} in namespace {meta.get('namespace')!r}"
        invocation = spec.get("invocationLimits", {}).get("memory")
        limit = spec.get("resources", {}).get("limits", {}).get("memory")
        if invocation is not None:
            if limit is None:
                yield f"{where}: spec.invocationLimits.memory: set, but resources.limits.memory is not"
            elif quantity(invocation) is None or quantity(limit) is None:
                yield f"{where}: spec.invocationLimits.memory: {invocation!r} is not a memory quantity"
            elif quantity(invocation) > quantity(limit):
                yield f"{where}: spec.invocationLimits.memory: {invocation} exceeds resources.limits.memory {limit}"


# ---- the node runtime (runtime-class-manager) ---------------------------------------

SHIM_PREFIX = "containerd-shim-"


def shim_binary(location):
    """`containerd-shim-spin-v2` from `.../containerd-shim-spin-v2-linux-x86_64.tar.gz`."""
    archive = location.rsplit("/", 1)[-1]
    return re.sub(r"-linux-[a-z0-9_]+\.tar\.gz$", "", archive)


def runtime_errors(objects):
    """What runtime-class-manager's Shim controller does with a Shim, and what
    containerd then calls the runtime: a RuntimeClass must name that handler."""
    handlers, node_selectors = {}, {}
    for shim in (o for o in objects if o.get("kind") == "Shim"):
        where, spec = name_of(shim), shim.get("spec", {})
        strategy = spec.get("rolloutStrategy", {}).get("type")
        if strategy != "recreate":
            yield f"{where}: spec.rolloutStrategy.type: {strategy!r}: runtime-class-manager implements only 'recreate' (it installs nothing for 'rolling')"
        fetch = spec.get("fetchStrategy", {})
        if "anonHttp" in fetch or "type" in fetch:
            yield f"{where}: spec.fetchStrategy: 'type'/'anonHttp' are deprecated; list platforms[] with os, arch and location"
        locations = [p.get("location", "") for p in fetch.get("platforms", [])] + [fetch.get("anonHttp", {}).get("location", "")]
        binaries = {shim_binary(location) for location in locations if location}
        for binary in binaries:
            if not binary.startswith(SHIM_PREFIX):
                yield f"{where}: spec.fetchStrategy: {binary!r} is not a containerd shim ({SHIM_PREFIX}*)"
                continue
            handler = binary.removeprefix(SHIM_PREFIX)
            declared = spec.get("runtimeClass", {}).get("handler")
            if declared != handler:
                yield f"{where}: spec.runtimeClass.handler: {declared!r}, but containerd knows the runtime as {handler!r}"
            handlers[spec.get("runtimeClass", {}).get("name")] = handler
            node_selectors[spec.get("runtimeClass", {}).get("name")] = spec.get("nodeSelector") or {}
    for runtime_class in (o for o in objects if o.get("kind") == "RuntimeClass"):
        expected = handlers.get(runtime_class["metadata"]["name"])
        if expected and runtime_class.get("handler") != expected:
            yield f"{name_of(runtime_class)}: handler: {runtime_class.get('handler')!r}, but the Shim installs {expected!r}"
        # runtime-class-manager gives the RuntimeClass it makes the Shim's nodeSelector, so that
        # pods land only where the shim is installed; a RuntimeClass made here must do the same.
        wanted = node_selectors.get(runtime_class["metadata"]["name"])
        scheduled = runtime_class.get("scheduling", {}).get("nodeSelector") or {}
        if wanted is not None and scheduled != wanted:
            yield (f"{name_of(runtime_class)}: scheduling.nodeSelector: {scheduled or None!r}, but the shim is installed "
                   f"only on nodes with {wanted!r}: pods would land on nodes without it")


def disruption_errors(objects):
    """CloudNativePG's PodDisruptionBudget (on unless `enablePDB: false`) keeps the
    primary from being evicted: with one instance, no node could ever be drained."""
    for cluster in (o for o in objects if o.get("kind") == "Cluster"):
        spec = cluster.get("spec", {})
        if spec.get("instances", 1) == 1 and spec.get("enablePDB", True):
            yield f"{name_of(cluster)}: spec.enablePDB: a budget on a single instance blocks every node drain"


LIVENESS_PATH = "/.well-known/spin/health"


def liveness_errors(objects):
    """A liveness probe that reaches a component (and so its database) restarts
    every pod of a domain whenever its database is down; Spin answers this one itself."""
    for app in (o for o in objects if o.get("kind") == "SpinApp"):
        path = app.get("spec", {}).get("checks", {}).get("liveness", {}).get("httpGet", {}).get("path")
        if path is not None and path != LIVENESS_PATH:
            yield f"{name_of(app)}: spec.checks.liveness.httpGet.path: {path!r} reaches the component; use {LIVENESS_PATH}"


def route_prefixes(manifest):
    """(prefix, component) for every public route of spin.toml."""
    for trigger in manifest.get("trigger", {}).get("http", []):
        route = trigger.get("route")
        if isinstance(route, str):
            yield route.removesuffix("/...").rstrip("/") or "/", trigger["component"]


# The KEDA HTTP add-on's interceptor: (namespace, Service), where a sleeping domain's traffic goes.
INTERCEPTOR = ("keda", "keda-add-ons-http-interceptor-proxy")


def backend_of(route, rule):
    """(namespace, Service) of a rule's first backend."""
    ref = (rule.get("backendRefs") or [{}])[0]
    return ref.get("namespace", route["metadata"].get("namespace")), ref.get("name")


def page_host_errors(objects, manifest):
    """The status page calls every domain's API on its own origin: on each host
    whose HTTPRoute serves the page (`/` to status), every route of spin.toml must
    reach its component, through the interceptor (whose InterceptorRoute must
    match that host) or directly. A path goes to the longest PathPrefix that holds it."""
    interceptor_routes = {o["metadata"]["name"]: o for o in objects if o.get("kind") == "InterceptorRoute"}
    for route in (o for o in objects if o.get("kind") == "HTTPRoute"):
        namespace = route["metadata"].get("namespace")
        backends = {}
        for rule in route.get("spec", {}).get("rules", []):
            for match in rule.get("matches") or [{"path": {"type": "PathPrefix", "value": "/"}}]:
                if match.get("path", {}).get("type", "PathPrefix") == "PathPrefix":
                    backends.setdefault(match["path"].get("value", "/"), backend_of(route, rule))
        if backends.get("/") != (namespace, "status"):
            continue
        for host in route["spec"].get("hostnames", []):
            for prefix, component in route_prefixes(manifest):
                matching = [p for p in backends if prefix == p or prefix.startswith(p.rstrip("/") + "/") or p == "/"]
                backend = backends[max(matching, key=len)] if matching else None
                where = f"{name_of(route)}: spec.rules[hostname={host}]"
                if backend == (namespace, component):
                    continue
                target = interceptor_routes.get(component)
                if backend != INTERCEPTOR or target is None:
                    yield f"{where}: {prefix} reaches {backend!r}, not {component!r}; the status page on {host} calls it"
                    continue
                hosts = {h for r in target["spec"].get("rules", []) for h in r.get("hosts", [])}
                if host not in hosts:
                    yield f"{name_of(target)}: spec.rules: no rule matches host {host!r}, where the status page calls {prefix}"


def retired_ingress_errors(objects):
    """ingress-nginx, the controller an `nginx` Ingress needs, was retired upstream
    in March 2026 (no more fixes, security ones included): the platform's hosts
    are HTTPRoutes on a Gateway."""
    for ingress in (o for o in objects if o.get("kind") == "Ingress"):
        if ingress.get("spec", {}).get("ingressClassName", "nginx") == "nginx":
            yield f"{name_of(ingress)}: spec.ingressClassName: ingress-nginx is retired; route through the Gateway (HTTPRoute)"


def reference_grant_errors(objects):
    """A route may send to a Service of another namespace only where a
    ReferenceGrant of that namespace lets routes of its own namespace do so;
    otherwise the Gateway refuses the reference (RefNotPermitted)."""
    grants = [o for o in objects if o.get("kind") == "ReferenceGrant"]
    for route in (o for o in objects if o.get("kind") == "HTTPRoute"):
        namespace = route["metadata"].get("namespace")
        for i, rule in enumerate(route.get("spec", {}).get("rules", [])):
            for ref in rule.get("backendRefs", []):
                target = ref.get("namespace", namespace)
                if target == namespace:
                    continue
                granted = any(
                    grant["metadata"].get("namespace") == target
                    and any(f.get("kind") == "HTTPRoute" and f.get("namespace") == namespace for f in grant["spec"].get("from", []))
                    and any(t.get("kind") == "Service" and t.get("name") in (None, ref.get("name")) for t in grant["spec"].get("to", []))
                    for grant in grants
                )
                if not granted:
                    yield (f"{name_of(route)}: spec.rules[{i}].backendRefs: Service {target}/{ref.get('name')} is in another "
                           f"namespace, and no ReferenceGrant there lets HTTPRoutes of {namespace} reach it")


MIGRATION_VERSION = re.compile(r"WHERE version = '(\d{4})'")


def program_suffix(program):
    """`-<newest version>-<first 8 hex of the program's SHA-256>`."""
    return f"-{max(MIGRATION_VERSION.findall(program))}-{hashlib.sha256(program.encode()).hexdigest()[:8]}"


def migration_job_errors(objects):
    """A Job's pod template is immutable, and its ConfigMap's name (kustomize's hash)
    is in it: each migration Job must be named after the program it runs, its newest
    migration and its digest, so that any change to the program comes as a new Job."""
    suffixes = {}
    for config in (o for o in objects if o.get("kind") == "ConfigMap"):
        programs = [p for p in config.get("data", {}).values() if MIGRATION_VERSION.search(p)]
        if programs:
            suffixes[config["metadata"]["name"]] = program_suffix("".join(programs))
    for job in (o for o in objects if o.get("kind") == "Job"):
        volumes = job.get("spec", {}).get("template", {}).get("spec", {}).get("volumes", [])
        for volume in volumes:
            suffix = suffixes.get(volume.get("configMap", {}).get("name"))
            if suffix and not job["metadata"]["name"].endswith(suffix):
                yield (f"{name_of(job)}: metadata.name: must end in {suffix} (its newest migration and the program's "
                       f"digest), so that applying a changed program makes a new Job")


API_SERVER_PORTS = {443, 6443}


def egress_ports(policies, labels):
    """The ports pods with `labels` may reach anywhere (rules without `to`, or
    to an ipBlock: the API server is no pod a selector could name)."""
    ports = set()
    for policy in policies:
        selector = policy.get("spec", {}).get("podSelector", {}).get("matchLabels", {})
        if not selector.items() <= labels.items():
            continue
        for rule in policy["spec"].get("egress", []):
            if all("ipBlock" in peer for peer in rule.get("to", [])):
                ports |= {p.get("port") for p in rule.get("ports", [])}
    return ports


def api_server_errors(objects):
    """Under default deny, pods that work through the Kubernetes API must be let
    out to it: each CloudNativePG cluster's instance manager, and the Keycloak
    operator, which `k8s/README.md` installs beside the Keycloak it runs."""
    policies = [o for o in objects if o.get("kind") == "NetworkPolicy"]
    talkers = [(f"Cluster/{o['metadata']['name']}'s instances", {"cnpg.io/cluster": o["metadata"]["name"]})
               for o in objects if o.get("kind") == "Cluster"]
    if any(o.get("kind") == "Keycloak" for o in objects):
        talkers.append(("the Keycloak operator", {"app.kubernetes.io/name": "keycloak-operator"}))
    for who, labels in talkers:
        if not egress_ports(policies, labels) & API_SERVER_PORTS:
            yield (f"NetworkPolicy: egress: no policy lets {who} ({labels}) reach the Kubernetes API "
                   f"(TCP 443 or 6443); default deny cuts it off")


def issuer_errors(objects):
    """Components accept tokens whose `iss` is their `auth_issuer`, letter for
    letter: it must be the issuer Keycloak writes, its hostname and realm."""
    issuers = {
        f"{keycloak['spec'].get('hostname', {}).get('hostname', '').rstrip('/')}/realms/{realm['spec']['realm'].get('realm')}"
        for keycloak in objects if keycloak.get("kind") == "Keycloak"
        for realm in objects
        if realm.get("kind") == "KeycloakRealmImport" and realm["spec"].get("keycloakCRName") == keycloak["metadata"]["name"]
    }
    for config in (o for o in objects if o.get("kind") == "ConfigMap"):
        issuer = config.get("data", {}).get("auth_issuer")
        if issuer is not None and issuer not in issuers:
            yield f"{name_of(config)}: data.auth_issuer: {issuer!r} is not an issuer of this platform's Keycloak ({', '.join(sorted(issuers)) or 'none'})"


def telemetry_errors(objects):
    """Spin exports to the endpoints of the executor's `otel` block, and the status
    page asks the Prometheus at its `prometheus_url`: each must be a Service of
    this rendering (`<name>.<namespace>.svc.cluster.local`) with that port, or
    the telemetry goes nowhere."""
    services = {
        (o["metadata"]["name"], o["metadata"].get("namespace")): {p.get("port") for p in o.get("spec", {}).get("ports", [])}
        for o in objects if o.get("kind") == "Service"
    }
    endpoints = [
        (f"{name_of(executor)}: spec.deploymentConfig.otel.{key}", url)
        for executor in objects if executor.get("kind") == "SpinAppExecutor"
        for key, url in executor.get("spec", {}).get("deploymentConfig", {}).get("otel", {}).items()
    ] + [
        (f"{name_of(app)}: spec.variables.prometheus_url", binding.get("value"))
        for app in objects if app.get("kind") == "SpinApp"
        for binding in app.get("spec", {}).get("variables", []) if binding.get("name") == "prometheus_url"
    ]
    for where, url in endpoints:
        match = re.fullmatch(r"https?://([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local:(\d+)/?", url or "")
        if not match:
            yield f"{where}: {url!r} is not http://<service>.<namespace>.svc.cluster.local:<port>"
        elif int(match.group(3)) not in services.get((match.group(1), match.group(2)), set()):
            yield f"{where}: no Service {match.group(1)} in {match.group(2)} with port {match.group(3)}"


# What Spin sends to an OTLP endpoint: its spans, its metrics and the components' logs.
SPIN_SIGNALS = ("traces", "metrics", "logs")


def collector_errors(objects):
    """An OpenTelemetry Collector answers 404 to a signal it has no pipeline for:
    when an executor exports to OTLP, a collector of this rendering must take
    every signal Spin sends from its OTLP receiver."""
    if not any(e.get("spec", {}).get("deploymentConfig", {}).get("otel") for e in objects if e.get("kind") == "SpinAppExecutor"):
        return
    for config in (o for o in objects if o.get("kind") == "ConfigMap"):
        text = config.get("data", {}).get("config.yaml")
        collector = yaml.safe_load(text) if text and "receivers:" in text else None
        if not isinstance(collector, dict) or "otlp" not in collector.get("receivers", {}):
            continue
        pipelines = collector.get("service", {}).get("pipelines", {})
        for signal in SPIN_SIGNALS:
            if not any(name.split("/")[0] == signal and "otlp" in p.get("receivers", []) for name, p in pipelines.items()):
                yield f"{name_of(config)}: data.config.yaml: service.pipelines: no {signal} pipeline from otlp; Spin sends {signal} and would be refused"


def development_sign_in_errors(objects):
    """`auth_dev_key` lets the status page sign in anyone as anything: it is for
    a developer's own machine, and no deployment may hand it to a component."""
    for app in (o for o in objects if o.get("kind") == "SpinApp"):
        for binding in app.get("spec", {}).get("variables", []):
            if binding.get("name") == "auth_dev_key":
                yield f"{name_of(app)}: spec.variables.auth_dev_key: the development sign-in signs in anyone; a deployment never sets it"


def order_errors(objects):
    """`kubectl apply` creates objects in the order given, and spin-operator's
    webhook refuses a SpinApp whose SpinAppExecutor does not exist yet."""
    seen = set()
    for obj in objects:
        meta = obj.get("metadata", {})
        if obj.get("kind") == "SpinAppExecutor":
            seen.add((meta.get("namespace"), meta.get("name")))
        elif obj.get("kind") == "SpinApp":
            executor = (meta.get("namespace"), obj.get("spec", {}).get("executor"))
            if executor not in seen:
                yield f"{name_of(obj)}: spec.executor: SpinAppExecutor {executor[1]!r} comes after this SpinApp; the webhook would refuse it"


# ---- consistency with spin.toml ----------------------------------------------------

def component_needs(manifest, component):
    """Application variables a component's bindings and allowed hosts refer to."""
    decl = manifest["component"][component]
    texts = list(decl.get("variables", {}).values()) + decl.get("allowed_outbound_hosts", [])
    return {name for text in texts for name in TEMPLATE.findall(text)}


# The host of each connection-string key CloudNativePG writes into `<cluster>-app`.
CNPG_URI_HOSTS = {
    "uri": "{cluster}-rw.{namespace}:5432",
    "fqdn-uri": "{cluster}-rw.{namespace}.svc.cluster.local:5432",
}


def database_host_errors(app, bound):
    """Spin checks a database address against allowed_outbound_hosts letter for
    letter: the host CloudNativePG writes into the Secret key a SpinApp reads must
    be the very `<domain>_db_host` the component's allow-list is made of."""
    namespace = app["metadata"].get("namespace")
    for variable, binding in bound.items():
        if not variable.endswith("_db_url"):
            continue
        ref = binding.get("valueFrom", {}).get("secretKeyRef")
        host_variable = variable.removesuffix("_url") + "_host"
        declared = bound.get(host_variable, {}).get("value")
        if not ref or not ref.get("name", "").endswith("-app") or declared is None:
            continue
        pattern = CNPG_URI_HOSTS.get(ref.get("key"))
        if pattern is None:
            yield f"{name_of(app)}: spec.variables.{variable}: key {ref.get('key')!r} of a CloudNativePG Secret is not a connection URI"
            continue
        written = pattern.format(cluster=ref["name"].removesuffix("-app"), namespace=namespace)
        if written != declared:
            yield (f"{name_of(app)}: spec.variables.{host_variable}: {declared!r}, but the {ref['key']!r} Spin connects with "
                   f"names {written!r}: Spin would refuse the address as not permitted")


# Spin keeps up to this many connections per database address in each process
# (`CONNECTION_POOL_SIZE`, crates/factor-outbound-pg/src/client.rs of Spin 3.6.3):
# each replica of a domain may hold that many to its Cluster.
SPIN_POOL_SIZE = 64
# What else a Cluster must take besides its domain's replicas: CloudNativePG's own
# connections (the instance manager, streaming replicas), the migration Job,
# superuser_reserved_connections (3 by default) and room for an operator's psql.
CLUSTER_RESERVE = 10
# PostgreSQL's default max_connections, and KEDA's default maxReplicaCount.
DEFAULT_MAX_CONNECTIONS = 100
DEFAULT_MAX_REPLICAS = 100


def connection_budget_errors(objects):
    """Every replica a domain may scale to can open Spin's whole pool to its
    database: the most replicas (the ScaledObject's maxReplicaCount, or the
    SpinApp's replicas) times SPIN_POOL_SIZE, plus CLUSTER_RESERVE, must fit the
    Cluster's max_connections, or under load PostgreSQL turns connections away
    (too many clients) and the domain answers 503."""
    clusters = {o["metadata"]["name"]: o for o in objects if o.get("kind") == "Cluster"}
    scaled = {o.get("spec", {}).get("scaleTargetRef", {}).get("name"): o for o in objects if o.get("kind") == "ScaledObject"}
    for app in (o for o in objects if o.get("kind") == "SpinApp"):
        spec = app.get("spec", {})
        refs = [v.get("valueFrom", {}).get("secretKeyRef", {}).get("name", "") for v in spec.get("variables", [])
                if v.get("name", "").endswith("_db_url")]
        for cluster in (clusters.get(ref.removesuffix("-app")) for ref in refs if ref.endswith("-app")):
            if cluster is None:
                continue
            scaler = scaled.get(app["metadata"]["name"])
            if spec.get("enableAutoscaling") and scaler is not None:
                replicas, where = scaler["spec"].get("maxReplicaCount", DEFAULT_MAX_REPLICAS), f"{name_of(scaler)}: spec.maxReplicaCount"
            else:
                replicas, where = spec.get("replicas", 1), f"{name_of(app)}: spec.replicas"
            parameters = cluster.get("spec", {}).get("postgresql", {}).get("parameters", {})
            limit = int(parameters.get("max_connections", DEFAULT_MAX_CONNECTIONS))
            needed = replicas * SPIN_POOL_SIZE + CLUSTER_RESERVE
            if needed > limit:
                yield (f"{where}: {replicas} replicas × {SPIN_POOL_SIZE} connections + {CLUSTER_RESERVE} = {needed} "
                       f"exceed {name_of(cluster)}'s max_connections {limit}: under load PostgreSQL would turn connections away")


# The Secrets `make deploy` fills (scripts/deploy.sh): the databases' CA, and the
# trust bundle (public roots + that CA) the executor mounts into every Spin pod.
DATABASE_CA_SECRET = "eventos-db-ca"
TRUST_BUNDLE_SECRET = "eventos-ca-certificates"


def certificate_names(cluster):
    """The DNS names of a CloudNativePG server certificate: the services' short
    names (older operators stop at `.svc`) plus spec.certificates.serverAltDNSNames."""
    name, namespace = cluster["metadata"]["name"], cluster["metadata"].get("namespace")
    names = set()
    for service in (f"{name}-rw", f"{name}-r", f"{name}-ro"):
        names |= {service, f"{service}.{namespace}", f"{service}.{namespace}.svc"}
    return names | set(cluster.get("spec", {}).get("certificates", {}).get("serverAltDNSNames", []))


def database_tls_errors(objects):
    """A CloudNativePG URI carries no sslmode, so Spin connects with TLS and verifies
    the server's name and chain against the pod's trust store: the executor must
    mount the bundle that trusts the databases' CA, every cluster's certificate
    must come from that CA, and it must name the host the SpinApp connects to."""
    executors = {o["metadata"]["name"]: o for o in objects if o.get("kind") == "SpinAppExecutor"}
    clusters = {o["metadata"]["name"]: o for o in objects if o.get("kind") == "Cluster"}
    for app in (o for o in objects if o.get("kind") == "SpinApp"):
        executor = executors.get(app.get("spec", {}).get("executor"))
        for binding in app.get("spec", {}).get("variables", []):
            ref = binding.get("valueFrom", {}).get("secretKeyRef", {})
            cluster = clusters.get(ref.get("name", "").removesuffix("-app"))
            if not binding["name"].endswith("_db_url") or cluster is None or ref.get("key") not in CNPG_URI_HOSTS:
                continue
            where = f"{name_of(app)}: spec.variables.{binding['name']}"
            trusted = (executor or {}).get("spec", {}).get("deploymentConfig", {}).get("caCertSecret")
            if trusted != TRUST_BUNDLE_SECRET:
                yield (f"{where}: Spin verifies {cluster['metadata']['name']}'s certificate, but the executor mounts "
                       f"{trusted!r}, not {TRUST_BUNDLE_SECRET!r} (deploymentConfig.caCertSecret)")
            issuer = cluster.get("spec", {}).get("certificates", {}).get("serverCASecret")
            if issuer != DATABASE_CA_SECRET:
                yield (f"{name_of(cluster)}: spec.certificates.serverCASecret: {issuer!r}; the Spin pods trust "
                       f"only {DATABASE_CA_SECRET!r}")
            host = CNPG_URI_HOSTS[ref["key"]].format(cluster=cluster["metadata"]["name"],
                                                     namespace=app["metadata"].get("namespace")).rsplit(":", 1)[0]
            if host not in certificate_names(cluster):
                yield (f"{name_of(cluster)}: spec.certificates.serverAltDNSNames: the server certificate does not "
                       f"name {host!r}, the host {name_of(app)} connects to")


def pod_specs(obj):
    """The pod spec of a Job or a CronJob, with where it sits."""
    if obj.get("kind") == "Job":
        return [("spec.template.spec", obj.get("spec", {}).get("template", {}).get("spec", {}))]
    if obj.get("kind") == "CronJob":
        spec = obj.get("spec", {}).get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec", {})
        return [("spec.jobTemplate.spec.template.spec", spec)]
    return []


def job_trust_errors(objects):
    """A Job that verifies a database's certificate (`PGSSLROOTCERT`) must trust what
    the Spin pods trust, the bundle of the databases' CA and, while a rotation runs,
    the CA it replaces: trusting the CA's own Secret, it trusts only the new CA
    while the databases still serve certificates of the old one."""
    for obj in objects:
        for where, spec in pod_specs(obj):
            volumes = {v.get("name"): v for v in spec.get("volumes", [])}
            for container in spec.get("initContainers", []) + spec.get("containers", []):
                root = next((e.get("value") for e in container.get("env", []) if e.get("name") == "PGSSLROOTCERT"), None)
                if root is None:
                    continue
                mount = next((m for m in container.get("volumeMounts", []) if root.startswith(m.get("mountPath", "") + "/")), None)
                secret = volumes.get((mount or {}).get("name"), {}).get("secret", {}).get("secretName")
                if secret != TRUST_BUNDLE_SECRET:
                    yield (f"{name_of(obj)}: {where}.containers[{container.get('name')}]: PGSSLROOTCERT {root} comes from "
                           f"{secret!r}, not {TRUST_BUNDLE_SECRET!r}: during a CA rotation it would refuse the databases' "
                           f"certificates of the old CA")


# Variables a deployment leaves at spin.toml's default on purpose: an empty
# development key is no development sign-in, and without the telemetry
# component there is no Prometheus for the status page to ask.
LEFT_AT_DEFAULT = {"auth_dev_key", "prometheus_url"}


def consistency_errors(objects, manifest):
    services = {o["metadata"]["name"] for o in objects if o.get("kind") == "Service"}
    services |= {o["metadata"]["name"] for o in objects if o.get("kind") == "SpinApp"}
    configmaps = {o["metadata"]["name"]: o.get("data", {}) for o in objects if o.get("kind") == "ConfigMap"}
    apps = {o["metadata"]["name"]: o for o in objects if o.get("kind") == "SpinApp"}
    allowed_by_app = {}
    for name, app in apps.items():
        where = name_of(app)
        components = app.get("spec", {}).get("components", [])
        bound = {v["name"]: v for v in app.get("spec", {}).get("variables", [])}
        needs = set()
        allowed = []
        for component in components:
            if component not in manifest.get("component", {}):
                yield f"{where}: spec.components: {component!r} is not a component of spin.toml"
                continue
            needs |= component_needs(manifest, component)
            allowed += manifest["component"][component].get("allowed_outbound_hosts", [])
        allowed_by_app[name] = allowed
        for variable in sorted(needs - set(bound) - LEFT_AT_DEFAULT):
            yield f"{where}: spec.variables: {variable!r} is used by its component but not bound"
        for variable in sorted(set(bound) - set(manifest.get("variables", {}))):
            yield f"{where}: spec.variables: {variable!r} is not a variable of spin.toml"
        yield from database_host_errors(app, bound)
        for variable, binding in bound.items():
            if not variable.endswith("_url") or variable.endswith("_db_url"):
                continue
            url = binding.get("value")
            ref = binding.get("valueFrom", {}).get("configMapKeyRef")
            if ref:
                url = configmaps.get(ref["name"], {}).get(ref["key"])
                if url is None:
                    yield f"{where}: spec.variables.{variable}: ConfigMap {ref['name']!r} has no key {ref['key']!r}"
                    continue
            host = re.sub(r"^https?://", "", url or "").split(":")[0].split("/")[0]
            service = host.split(".")[0]
            if service not in services:
                yield f"{where}: spec.variables.{variable}: {url!r} names Service {service!r}, which does not exist"
    for policy in (o for o in objects if o.get("kind") == "NetworkPolicy"):
        app = policy["spec"].get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name")
        if app not in apps:
            continue
        allowed = " ".join(allowed_by_app.get(app, []))
        for i, rule in enumerate(policy["spec"].get("egress", [])):
            for peer in rule.get("to", []):
                labels = peer.get("podSelector", {}).get("matchLabels", {})
                field = f"spec.egress[{i}]"
                if "cnpg.io/cluster" in labels:
                    database = labels["cnpg.io/cluster"].removesuffix("-db")
                    if f"{{{{ {database}_db_host }}}}" not in allowed:
                        yield f"{name_of(policy)}: {field}: database {labels['cnpg.io/cluster']} is not in {app}'s allowed_outbound_hosts"
                elif "app.kubernetes.io/name" in labels:
                    target = labels["app.kubernetes.io/name"]
                    if f"{{{{ {target}_url }}}}" not in allowed:
                        yield f"{name_of(policy)}: {field}: peer {target} is not in {app}'s allowed_outbound_hosts"
                elif labels.get("app.kubernetes.io/component") == "interceptor":
                    if "_url }}" not in allowed:
                        yield f"{name_of(policy)}: {field}: {app} declares no peers, so it has no business with the interceptor"
                elif "ipBlock" in peer:
                    yield from webhook_egress_errors(name_of(policy), field, app, allowed, peer["ipBlock"])
                else:
                    yield f"{name_of(policy)}: {field}: egress to {peer} matches no allowed_outbound_hosts entry of {app}"


# The cluster's own networks (and link-local metadata endpoints): a webhook
# receiver is named by whoever registers it, so egress to "the internet" must
# not reach into the cluster through them.
PRIVATE_NETWORKS = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"]


def webhook_egress_errors(where, field, app, allowed, block):
    """An ipBlock egress is for webhook receivers: only for an app that may
    deliver them (`{{ webhook_hosts }}`), and never to private networks."""
    if "{{ webhook_hosts }}" not in allowed:
        yield f"{where}: {field}: egress to {block.get('cidr')} matches no allowed_outbound_hosts entry of {app}"
        return
    if block.get("cidr") == "0.0.0.0/0":
        missing = [net for net in PRIVATE_NETWORKS if net not in block.get("except", [])]
        if missing:
            yield f"{where}: {field}: webhook egress to 0.0.0.0/0 must except the private networks {', '.join(missing)}"



def policy_allows(policies, source, target, port):
    """Whether, under default deny, pods labelled `source` may open TCP `port` on
    pods labelled `target` in the same namespace: it takes an egress rule of a
    policy selecting the source and an ingress rule of one selecting the target."""
    def selects(policy, labels):
        return policy["spec"].get("podSelector", {}).get("matchLabels", {}).items() <= labels.items()

    def admits(rule, side, labels):
        peers = rule.get(side)
        local = [p for p in peers or [] if "namespaceSelector" not in p and "ipBlock" not in p]
        peer_ok = peers is None or any(
            p.get("podSelector", {}).get("matchLabels", {}).items() <= labels.items() for p in local)
        ports = rule.get("ports")
        return peer_ok and (not ports or any(p.get("port") == port for p in ports))

    out = any(admits(r, "to", target) for p in policies if selects(p, source) for r in p["spec"].get("egress", []))
    into = any(admits(r, "from", source) for p in policies if selects(p, target) for r in p["spec"].get("ingress", []))
    return out and into


KEYCLOAK_PODS = {"app.kubernetes.io/instance": "keycloak"}


def webhook_dispatch_errors(objects, manifest):
    """A domain that sends webhooks (`{{ webhook_hosts }}` among its allowed hosts)
    leaves the deliveries that failed for the webhook-dispatch CronJob to retry:
    the CronJob must look in that domain's database (its DOMAINS, the
    `<domain>-db-app` Secret), and its pods must be let into that database, into
    Keycloak for a token, and out to the interceptor that wakes the domain."""
    senders = sorted(
        o["metadata"]["name"] for o in objects if o.get("kind") == "SpinApp"
        and any("{{ webhook_hosts }}" in host
                for component in o.get("spec", {}).get("components", [])
                for host in manifest.get("component", {}).get(component, {}).get("allowed_outbound_hosts", [])))
    if not senders:
        return
    jobs = [o for o in objects if o.get("kind") == "CronJob" and o["metadata"]["name"] == "webhook-dispatch"]
    if not jobs:
        yield f"CronJob/webhook-dispatch: missing: {', '.join(senders)} send webhooks, and nothing retries what fails"
        return
    job = jobs[0]
    pod = job["spec"]["jobTemplate"]["spec"]["template"]
    labels = pod.get("metadata", {}).get("labels", {})
    containers = pod["spec"].get("initContainers", []) + pod["spec"].get("containers", [])
    domains = " ".join(e.get("value", "") for c in containers for e in c.get("env", []) if e["name"] == "DOMAINS").split()
    secrets = {v["secret"]["secretName"] for v in pod["spec"].get("volumes", []) if "secret" in v}
    policies = [o for o in objects if o.get("kind") == "NetworkPolicy"]
    for domain in senders:
        if domain not in domains:
            yield f"{name_of(job)}: env DOMAINS: {domain} sends webhooks but is not looked at: its failed deliveries would never be retried"
        elif f"{domain}-db-app" not in secrets:
            yield f"{name_of(job)}: volumes: no {domain}-db-app Secret to read {domain}'s due deliveries with"
        if not policy_allows(policies, labels, {"cnpg.io/cluster": f"{domain}-db"}, 5432):
            yield f"NetworkPolicy: {name_of(job)}'s pods may not reach {domain}-db on TCP 5432 (egress and the database's ingress)"
    if not policy_allows(policies, labels, KEYCLOAK_PODS, 8080):
        yield f"NetworkPolicy: {name_of(job)}'s pods may not reach Keycloak on TCP 8080 for a token"
    if 8080 not in interceptor_egress_ports(policies, labels):
        yield f"NetworkPolicy: {name_of(job)}'s pods may not reach the KEDA interceptor on TCP 8080"


def interceptor_egress_ports(policies, labels):
    """The ports pods with `labels` may open on the KEDA interceptor."""
    ports = set()
    for policy in policies:
        if not policy["spec"].get("podSelector", {}).get("matchLabels", {}).items() <= labels.items():
            continue
        for rule in policy["spec"].get("egress", []):
            if any(p.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/component") == "interceptor"
                   for p in rule.get("to", [])):
                ports |= {p.get("port") for p in rule.get("ports", [])}
    return ports

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--overlay")
    source.add_argument("--rendered")
    here = Path(__file__).resolve().parent
    parser.add_argument("--schemas", default=str(here / "schemas"))
    parser.add_argument("--manifest", default=str(here.parent / "spin.toml"))
    args = parser.parse_args()
    text = render(args.overlay) if args.overlay else Path(args.rendered).read_text()
    objects = [o for o in yaml.load_all(text, Loader=YAML_LOADER) if o]
    manifest = tomllib.loads(Path(args.manifest).read_text())
    schemas = Schemas(args.schemas)
    problems = list(schema_errors(objects, schemas))
    problems += list(cel_errors(objects, schemas.crd_schema, name_of))
    problems += list(webhook_errors(objects))
    problems += list(runtime_errors(objects))
    problems += list(order_errors(objects))
    problems += list(disruption_errors(objects))
    problems += list(liveness_errors(objects))
    problems += list(page_host_errors(objects, manifest))
    problems += list(reference_grant_errors(objects))
    problems += list(retired_ingress_errors(objects))
    problems += list(migration_job_errors(objects))
    problems += list(database_tls_errors(objects))
    problems += list(api_server_errors(objects))
    problems += list(issuer_errors(objects))
    problems += list(development_sign_in_errors(objects))
    problems += list(telemetry_errors(objects))
    problems += list(collector_errors(objects))
    problems += list(consistency_errors(objects, manifest))
    problems += list(webhook_dispatch_errors(objects, manifest))
    problems += list(connection_budget_errors(objects))
    problems += list(job_trust_errors(objects))
    for problem in problems:
        print(problem)
    print(f"{len(objects)} objects, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
