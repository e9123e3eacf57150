#!/usr/bin/env python3
"""`make bench`: Eventos against the limits of this machine, each row measured in
the same run as its reference. Loopback only, bounded in time.

Prints one table, writes it as JSON to target/bench/results.json, and writes it
into BENCHMARKS.md between its markers, with the date and the machine: the
figures there come from a run, never from a hand. A small cost (verifying a
token, exporting telemetry) is the median of several alternating without/with
pairs, printed with its spread.
usage: bench.py [--seconds 10] [--connections 16] [--pairs 5] [--quiet]
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

from node import node_bin, on_node
from on_sale import offline_verifications, room_joins, signed_code_of_a_sold_ticket

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from eventos_up import Platform, free_port  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EVENTOS = ROOT / "target/release/eventos"
NATIVE = ROOT / "target/release/native-reference"
PEER = ROOT / "target/release/native-peer"
OUT = ROOT / "target/bench"
ADMIN_URL = os.environ.get("EVENTOS_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")


# The requests that set the benchmark up are an admin's (`token()` fills this in).
AUTHORIZATION = {}


def token(subject, *roles):
    """A bearer token the local platform accepts (`eventos token`)."""
    command = [str(EVENTOS), "token", "--sub", subject, "--email", f"{subject}@bench.io"]
    for role in roles:
        command += ["--role", role]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


def api(base, method, path, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method, headers={**AUTHORIZATION, **(headers or {})})
    if data is not None:
        request.add_header("content-type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read()
        return json.loads(text) if text else None, response


def wait_for(url, limit=30.0):
    started = time.monotonic()
    while time.monotonic() - started < limit:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return time.monotonic() - started
        except OSError:
            time.sleep(0.002)
    sys.exit(f"bench: {url} never answered")


def rss_kib(pid, field="VmRSS"):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class Host(Platform):
    """The platform under measure: how long it takes to answer, and what the
    host's histogram of instantiations said when it stopped."""

    def __init__(self, prefix, started):
        # The bad webhook receivers of the on-sale row listen on this machine.
        super().__init__(prefix, OUT / "host.log", env={"SPIN_VARIABLE_WEBHOOK_HOSTS": "http://127.0.0.1:*"})
        self.started = started

    def start(self, env=None, args=()):
        """Process start to the first 200, in seconds."""
        started = time.monotonic()
        self.started.append(super().start(env, args))
        wait_for(f"{self.base}/api/users/health")
        return time.monotonic() - started

    def stop(self):
        """Graceful stop; returns the host's instantiation summary line."""
        super().stop()
        lines = [l for l in self.log_path.read_text().splitlines() if "instantiations:" in l]
        return lines[-1] if lines else ""


def stat_fields(pid):
    """A process's /proc stat after its name: field 0 is its state, 1 its parent,
    11 and 12 its user and system CPU ticks, 13 and 14 its reaped children's."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid):
    """User and system CPU time a process has used so far."""
    fields = stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def database_cpu_seconds():
    """CPU time this machine's PostgreSQL processes have used so far: the live
    ones', and what each postmaster's exited backends used."""
    total = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() != "postgres":
                continue
            fields = stat_fields(pid)
            parent = Path(f"/proc/{fields[1]}/comm").read_text().strip()
        except OSError:
            continue  # it exited meanwhile
        ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if parent != "postgres" else 0)
        total += ticks / os.sysconf("SC_CLK_TCK")
    return total


def wrk(url, seconds, connections, script=None, server_pid=None, header=None):
    """Load from wrk; with `server_pid`, also the server's CPU time per request,
    and the database's (every PostgreSQL process on this machine)."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if header:
        command[1:1] = ["-H", header]
    if script:
        command[1:1] = ["-s", script]
    cpu_before, database_before = (cpu_seconds(server_pid), database_cpu_seconds()) if server_pid else (0, 0)
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    cpu_used = cpu_seconds(server_pid) - cpu_before if server_pid else 0
    database_used = database_cpu_seconds() - database_before if server_pid else 0
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    def percentile(p):
        match = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(match.group(1)), match.group(2)
        return value * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rate, "p50_ms": percentile(50), "p99_ms": percentile(99), "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
            "server_cpu_us_per_request": cpu_used * 1e6 / requests if requests else 0,
            "database_cpu_us_per_request": database_used * 1e6 / requests if requests else 0}


def pgbench(database, sql, seconds, clients):
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write(sql)
    url = ADMIN_URL.replace("/postgres?", f"/{database}?")
    out = subprocess.run(["pgbench", "-n", "-M", "prepared", "-c", str(clients), "-j", "2", "-T", str(seconds), "-f", script.name, url],
                         capture_output=True, text=True)
    os.unlink(script.name)
    if out.returncode != 0:
        sys.exit(f"bench: pgbench failed:\n{out.stderr}")
    rate = float(re.search(r"tps = ([\d.]+)", out.stdout).group(1))
    latency = re.search(r"latency average = ([\d.]+) ms", out.stdout)
    return {"tps": rate, "latency_avg_ms": float(latency.group(1)) if latency else None}


def lua(path, text):
    Path(path).write_text(text)
    return str(path)


def main():
    host_processes = []
    prefix = f"bench_{os.getpid()}"
    try:
        return run(host_processes, prefix)
    finally:
        for process in host_processes:
            if process.poll() is None:
                process.kill()
        # Whatever happened, the benchmark's databases go.
        subprocess.run([str(EVENTOS), "drop", "--prefix", prefix], cwd=ROOT, capture_output=True)


def run(host_processes, prefix):
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--pairs", type=int, default=5, help="alternating without/with pairs per small cost")
    parser.add_argument("--quiet", action="store_true", help="check that every row is measured (all but the build row, which builds tickets again); print one line")
    args = parser.parse_args()
    secs, conns = args.seconds, args.connections
    OUT.mkdir(parents=True, exist_ok=True)
    for tool in ("wrk", "pgbench"):
        if not shutil.which(tool):
            sys.exit(f"bench: {tool} is missing (make setup installs it)")
    host = Host(prefix, host_processes)
    rows, results = [], {"machine": machine(), "seconds": secs, "connections": conns}

    # Restart to ready: a cold compile first (empty cache), then with the cache.
    shutil.rmtree(ROOT / "target/eventos-cache", ignore_errors=True)
    subprocess.run([str(EVENTOS), "migrate", "--prefix", prefix], cwd=ROOT, capture_output=True, check=True)
    cold = host.start()
    host.stop()
    warm = host.start()
    results["restart"] = {"cold_compile_ms": cold * 1000, "cached_ms": warm * 1000}
    time.sleep(1)
    results["memory"] = {"idle_rss_mib": rss_kib(host.process.pid) / 1024}

    base = host.base
    admin = token(f"bench-admin-{os.getpid()}", "admin")
    AUTHORIZATION["authorization"] = f"Bearer {admin}"
    as_admin = f"Authorization: Bearer {admin}"
    world = seed(base)
    # The single-row reference sells from one stock row; the buckets row's type
    # from eight, as every type did before the tickets' migration 0013.
    restock(f"{prefix}_tickets", world["reference_type"], 1)
    restock(f"{prefix}_tickets", world["eight_bucket_type"], 8)
    # The buyer of the order rows: a member buying for themself, whom the order
    # takes from the token without asking the users component.
    buyer = token(f"bench-buyer-{os.getpid()}")
    as_buyer = f"Authorization: Bearer {buyer}"
    buyer_id = api(base, "GET", "/api/users/me", headers={"authorization": f"Bearer {buyer}"})[0]["id"]

    # 1. Host overhead: a no-I/O route against a native server answering the same bytes.
    body, response = api(base, "GET", "/api/status/health")
    native_port = free_port()
    native = subprocess.Popen([str(NATIVE), f"127.0.0.1:{native_port}", response.headers["content-type"], json.dumps(body, separators=(",", ":"))],
                              stdout=subprocess.DEVNULL)
    host_processes.append(native)
    wait_for(f"http://127.0.0.1:{native_port}/")
    wasm = wrk(f"{base}/api/status/health", secs, conns, server_pid=host.process.pid)
    hello = wrk(f"http://127.0.0.1:{native_port}/", secs, conns, server_pid=native.pid)
    native.terminate()
    results["host_overhead"] = {"wasm": wasm, "native": hello, "ratio": wasm["rps"] / hello["rps"]}

    # 3 and 4. Endpoints, each against pgbench running the same SQL.
    scripts = OUT / "scripts"
    scripts.mkdir(exist_ok=True)
    event_id, type_id, user_id = world["event"], world["ticket_type"], world["users"][0]
    # The member's order of one ticket type, which the endpoint rows load; each
    # later row that sells much buys a type of its own.
    own_orders = lua(scripts / "orders.lua", LUA_ORDERS.format(type=type_id))
    orders_of = orders_of_new_types(base, event_id, scripts, ("hot-spot", "sixteen-buckets", "telemetry", "token-reuse",
                                                             "sold-lately", "build", "store", "spin"))
    endpoints = [
        ("GET /api/events/{id}", f"{base}/api/events/{event_id}", None, None, f"{prefix}_events", SQL_EVENT.format(id=event_id), "read"),
        ("GET /api/events?limit=50", f"{base}/api/events?limit=50", None, None, f"{prefix}_events", SQL_EVENT_LIST, "read"),
        ("POST /api/users (admin)", f"{base}/api/users", lua(scripts / "users.lua", LUA_USERS), as_admin, f"{prefix}_users", SQL_USER, "write"),
        ("POST /api/tickets/orders (contended)", f"{base}/api/tickets/orders",
         own_orders, as_buyer, f"{prefix}_tickets",
         SQL_ORDER.format(type=type_id, user=buyer_id), "write"),
        ("POST /api/participation/registrations (admin)", f"{base}/api/participation/registrations",
         lua(scripts / "registrations.lua", lua_registrations(world)), as_admin, f"{prefix}_participation",
         SQL_REGISTRATION.format(event=world["events"][0]), "write"),
    ]
    results["endpoints"] = []
    peak = 0
    for name, url, script, header, database, sql, kind in endpoints:
        measured = wrk(url, secs, conns, script, server_pid=host.process.pid, header=header)
        peak = max(peak, rss_kib(host.process.pid, "VmHWM"))
        reference = pgbench(database, sql, secs, conns)
        results["endpoints"].append({"name": name, "kind": kind, "platform": measured, "pgbench": reference,
                                     "ratio": measured["rps"] / reference["tps"]})
    # 5. The cost of being WebAssembly: the same read and the same member's
    # order served by a native Rust service (bench/src/native_peer/) on the same
    # databases, with the components' own statements and token check, under the
    # same load.
    peer_port = free_port()
    peer_base = f"http://127.0.0.1:{peer_port}"
    events_url, tickets_url = (ADMIN_URL.replace("/postgres?", f"/{prefix}_{domain}?") for domain in ("events", "tickets"))
    with open(OUT / "native-peer.log", "w") as peer_log:
        peer = subprocess.Popen([str(PEER), f"127.0.0.1:{peer_port}", events_url, tickets_url],
                                env={**os.environ, **platform_variables(prefix)}, stdout=subprocess.DEVNULL, stderr=peer_log)
    host_processes.append(peer)
    wait_for(f"{peer_base}/api/events/{event_id}")
    ours = api(base, "GET", f"/api/events/{event_id}")[0]
    theirs = api(peer_base, "GET", f"/api/events/{event_id}")[0]
    if ours != theirs:
        sys.exit(f"bench: the native peer answers {theirs}, the platform {ours}: not the same endpoint")
    an_order, buying = {"ticket_type_id": type_id, "quantity": 1}, {"authorization": f"Bearer {buyer}"}
    ours, theirs = (api(where, "POST", "/api/tickets/orders", an_order, buying) for where in (base, peer_base))
    if (ours[1].status, shape(ours[0])) != (theirs[1].status, shape(theirs[0])):
        sys.exit(f"bench: the native peer's order is {theirs[0]}, the platform's {ours[0]}: not the same endpoint")
    natively = wrk(f"{peer_base}/api/events/{event_id}", secs, conns, server_pid=peer.pid)
    ordering = wrk(f"{peer_base}/api/tickets/orders", secs, conns, own_orders, server_pid=peer.pid, header=as_buyer)
    peer.terminate()
    by_id = results["endpoints"][0]["platform"]
    ordered = next(e for e in results["endpoints"] if "orders" in e["name"])["platform"]
    results["native_peer"] = {"event_by_id": {"platform": by_id, "native": natively, "ratio": by_id["rps"] / natively["rps"]},
                              "order": {"platform": ordered, "native": ordering, "ratio": ordered["rps"] / ordering["rps"]}}

    # The on-sale against the single-row design of the targets: the member's
    # order on the platform and the single-row purchase in pgbench, in
    # alternating pairs, the median pair's ratio. Each rate drifts with what ran
    # before it on this machine; the two loads of a pair share their conditions.
    single_row = SQL_SINGLE_ROW_PURCHASE.format(type=world["reference_type"], user=user_id)
    pairs = [(wrk(f"{base}/api/tickets/orders", secs, conns, orders_of["hot-spot"], server_pid=host.process.pid, header=as_buyer),
              pgbench(f"{prefix}_tickets", single_row, secs, conns)) for _ in range(args.pairs)]
    hot = median_pair(pairs, lambda orders, single: orders["rps"] / single["tps"])
    results["hot_spot"] = {"orders": hot["without"], "single_row_pgbench_tps": hot["with"]["tps"], "ratio": hot["median"],
                           "spread": hot["spread"], "pairs": args.pairs}

    # The stock of the on-sale's type in sixteen buckets (as the tickets
    # component splits it) against eight: the member's order of each, in
    # alternating pairs on the same host, the median pair's ratio of rates.
    # With eight, sales that find every bucket held read the type again and
    # wait; the database's CPU per order shows what that costs.
    eight_orders = lua(scripts / "orders-eight.lua", LUA_ORDERS.format(type=world["eight_bucket_type"]))
    pairs = [(wrk(f"{base}/api/tickets/orders", secs, conns, eight_orders, server_pid=host.process.pid, header=as_buyer),
              wrk(f"{base}/api/tickets/orders", secs, conns, orders_of["sixteen-buckets"], server_pid=host.process.pid, header=as_buyer))
             for _ in range(args.pairs)]
    split = median_pair(pairs, lambda eight, sixteen: sixteen["rps"] / eight["rps"])
    results["buckets"] = {"eight": split["without"], "sixteen": split["with"], "rate_ratio": split["median"],
                          "rate_spread": split["spread"], "pairs": args.pairs}
    orders = next(e for e in results["endpoints"] if "orders" in e["name"])
    results["memory"]["peak_rss_mib"] = peak / 1024

    # 6. Identity on the order path, same run. The order above is a member's for
    # themself: the token says who buys, so users is not asked. The same order
    # with the buyer named by an admin asks users, as every order did before.
    # And what verifying costs: one public list read without a token (nothing to
    # verify) and with a member's (verified), the same rows either way, in
    # alternating pairs: the median pair's difference.
    named = wrk(f"{base}/api/tickets/orders", secs, conns, lua(scripts / "orders-named.lua", LUA_ORDERS_NAMED.format(type=type_id, user=buyer_id)),
                server_pid=host.process.pid, header=as_admin)
    published = f"{base}/api/events?status=published&limit=1"
    pairs = [(wrk(published, secs, conns, server_pid=host.process.pid),
              wrk(published, secs, conns, server_pid=host.process.pid, header=as_buyer)) for _ in range(args.pairs)]
    cost = median_pair(pairs, lambda anonymous, verified: verified["server_cpu_us_per_request"] - anonymous["server_cpu_us_per_request"])
    order_cpu = orders["platform"]["server_cpu_us_per_request"]
    results["identity"] = {"own_order": orders["platform"], "named_order": named, "anonymous_read": cost["without"],
                           "verified_read": cost["with"], "verify_cpu_us": cost["median"], "verify_spread_us": cost["spread"],
                           "pairs": args.pairs, "added_to_order": cost["median"] / (order_cpu - cost["median"])}

    # 8. An on-sale with bad webhook receivers on its event (one that never
    # answers, one that answers 500, one that answers after 5 s) against the
    # same on-sale of an event nobody watches: alternating pairs, the median
    # pair's ratio. Each type sells for a second first, as an on-sale follows
    # earlier sales of the event: what is measured is the sale while the
    # receivers are down, not the first three seconds' attempts.
    receivers = BadReceivers()
    for url in receivers.urls:
        api(base, "POST", "/api/tickets/webhooks", {"url": url, "event_id": world["events"][1]})
    quiet = lua(scripts / "orders-quiet.lua", LUA_ORDERS.format(type=world["quiet_type"]))
    watched = lua(scripts / "orders-watched.lua", LUA_ORDERS.format(type=world["watched_type"]))
    orders_url = f"{base}/api/tickets/orders"
    for script in (quiet, watched):
        wrk(orders_url, 1, conns, script, header=as_buyer)
    pairs = [(wrk(orders_url, secs, conns, quiet, server_pid=host.process.pid, header=as_buyer),
              wrk(orders_url, secs, conns, watched, server_pid=host.process.pid, header=as_buyer)) for _ in range(args.pairs)]
    cost = median_pair(pairs, lambda none, bad: bad["rps"] / none["rps"])
    receivers.stop()
    results["bad_receivers"] = {"none": cost["without"], "bad": cost["with"], "ratio": cost["median"], "spread": cost["spread"],
                                "pairs": args.pairs, "attempts": receivers.attempts()}

    # 11. An on-sale's waiting room: new buyers taking their places, each a
    # person of their own; and the door: signed codes checked offline in Chromium.
    results["room_joins"] = room_joins(base, world["events"][3], secs, conns, wrk, host.process.pid, api, OUT)
    signed = signed_code_of_a_sold_ticket(base, type_id, user_id, api)
    results["offline_checks"] = offline_verifications(base, event_id, signed, min(secs, 3))

    # 2. The host's own instantiation histogram, printed when it stops.
    summary = host.stop()
    match = re.search(r"instantiations: (\d+); p50 (\d+) µs, p99 (\d+) µs", summary)
    results["instantiation"] = {"count": int(match.group(1)), "p50_us": int(match.group(2)), "p99_us": int(match.group(3))} if match else {}

    # 7. Telemetry off, then on: the member's order, each on a freshly started
    # host, the second time with every span and metric exported over OTLP to a
    # receiver that decodes them; alternating pairs, the median pair's cost.
    traced = [traced_orders(host, f"{base}/api/tickets/orders", secs, conns, orders_of["telemetry"], as_buyer, host_processes)
              for _ in range(args.pairs)]
    cost = median_pair([(t["off"], t["on"]) for t in traced], relative_cpu)
    chosen = next(t for t in traced if t["off"] is cost["without"])
    results["tracing"] = {**chosen, "added": cost["median"], "added_spread": cost["spread"], "pairs": args.pairs}

    # 10. Verified tokens taken at their word for a while (the default) against
    # every signature checked again (`verified_token_seconds` 0): the member's
    # order, each on a freshly started host; alternating pairs, the median pair's
    # host CPU saved per request.
    def own_order_on_fresh_hosts(row):
        return host, f"{base}/api/tickets/orders", secs, conns, orders_of[row], as_buyer, args.pairs
    results["token_reuse"] = host_cpu_saved(*own_order_on_fresh_hosts("token-reuse"), ("checked", {"SPIN_VARIABLE_VERIFIED_TOKEN_SECONDS": "0"}, ()),
                                            ("remembered", {}, ()))

    # 13. A member's order of a type sold lately, priced on what that sale read
    # and written in one statement (the default), against the type read for
    # every order (`sold_lately_seconds` 0), each on a freshly started host;
    # alternating pairs, the median pair's host CPU saved per request.
    results["sold_lately"] = host_cpu_saved(*own_order_on_fresh_hosts("sold-lately"), ("read", {"SPIN_VARIABLE_SOLD_LATELY_SECONDS": "0"}, ()),
                                            ("lately", {}, ()))

    # 15. The components' build: the member's order with the tickets component
    # built by the component profile (whole-program LTO, one codegen unit, as
    # `make components` builds it) against the same code built with release's
    # settings, each on a freshly started host; alternating pairs, the median
    # pair's host CPU saved per request. Only in a full run: it builds tickets
    # again, which takes a minute or two.
    if not args.quiet:
        release_built = ("--from", str(manifest_with_release_built_tickets(OUT / "release-built")))
        results["build_profile"] = host_cpu_saved(*own_order_on_fresh_hosts("build"), ("release", {}, release_built), ("component", {}, ()))

    # 14. A registration with the event as the events component described it a
    # moment ago (`known_event_seconds`, the default) against the event asked
    # for every registration (0), each on a freshly started host, each load on
    # (user, event) pairs of its own: one pair of loads, the effect being no
    # small cost.
    slice_of = secs * 1000  # each thread's pairs a load may take, at up to 2,000 registrations/s
    registrations = {}
    for name, env, first in (("remembered", {}, slice_of), ("asked", {"SPIN_VARIABLE_KNOWN_EVENT_SECONDS": "0"}, 2 * slice_of)):
        script = lua(scripts / f"registrations-{name}.lua", lua_registrations(world, first))
        registrations[name] = loads_on_fresh_hosts(host, f"{base}/api/participation/registrations", secs, conns, script,
                                                    as_admin, ((name, env, ()),))[name]
    results["known_events"] = registrations

    # 12. Where the verified tokens are kept: the member's order with the
    # `default` store on a Redis server of the bench's own (a runtime config
    # file) against in memory (no file), each on a freshly started host;
    # alternating pairs, the median pair's host CPU added per request.
    redis = RedisServer(host_processes)
    on_redis = ("--runtime-config-file", str(redis.runtime_config(OUT)))
    stores = [loads_on_fresh_hosts(host, f"{base}/api/tickets/orders", secs, conns, orders_of["store"], as_buyer,
                                    (("memory", {}, ()), ("redis", {}, on_redis)))
              for _ in range(args.pairs)]
    redis.stop()
    cost = median_pair([(r["memory"], r["redis"]) for r in stores],
                       lambda memory, on_redis: on_redis["server_cpu_us_per_request"] - memory["server_cpu_us_per_request"])
    results["store"] = {"memory": cost["without"], "redis": cost["with"], "added_us": cost["median"],
                        "added_spread_us": cost["spread"], "pairs": args.pairs}

    # 5. The same .wasm on each real Spin here (3.6.3 and 4.0), same databases,
    # same load; the member's order with Spin's own default store (SQLite).
    results["spins"] = []
    for spin_cli in find_spins():
        spin = on_spin(spin_cli, prefix, secs, conns, event_id, host_processes, ("/api/tickets/orders", orders_of["spin"], as_buyer))
        endpoint = results["endpoints"][0]["platform"]
        order = orders["platform"]
        results["spins"].append({
            "version": spin["version"],
            "no_io": {"eventos": wasm, "spin": spin["no_io"], "ratio": wasm["rps"] / spin["no_io"]["rps"]},
            "event_by_id": {"eventos": endpoint, "spin": spin["event_by_id"], "ratio": endpoint["rps"] / spin["event_by_id"]["rps"]},
            "order": {"eventos": order, "spin": spin["order"], "ratio": order["rps"] / spin["order"]["rps"]},
            "start_ms": {"eventos": warm * 1000, "spin": spin["start_ms"]},
        })

    # 9. The same artifact on the node (containerd-shim-spin v0.24.0), as SpinKube runs it.
    folder = node_bin()
    if folder:
        shim = on_node(folder, prefix, secs, conns, event_id, wrk, free_port, wait_for, OUT)
        endpoint = results["endpoints"][0]["platform"]
        results["node"] = {**shim, "no_io_ratio": wasm["rps"] / shim["no_io"]["rps"],
                           "event_ratio": endpoint["rps"] / shim["event_by_id"]["rps"], "eventos_start_ms": warm * 1000}

    refused = [f"{where}: {row['non_2xx']} non-2xx" for where, row in load_rows(results) if row["non_2xx"]]
    for line in refused:
        print(f"bench check: {line}")
    if args.quiet:
        complete = not refused and all(e["platform"]["rps"] > 0 and e["pgbench"]["tps"] > 0 for e in results["endpoints"])
        complete = complete and results["instantiation"].get("count", 0) > 0 and results["host_overhead"]["native"]["rps"] > 0
        complete = complete and results["native_peer"]["event_by_id"]["native"]["rps"] > 0 and results["native_peer"]["order"]["native"]["rps"] > 0
        complete = complete and results["identity"]["named_order"]["rps"] > 0 and results["identity"]["anonymous_read"]["rps"] > 0
        complete = complete and results["bad_receivers"]["bad"]["rps"] > 0 and results["bad_receivers"]["none"]["rps"] > 0
        complete = complete and results["token_reuse"]["checked"]["rps"] > 0 and results["token_reuse"]["remembered"]["rps"] > 0
        complete = complete and results["store"]["memory"]["rps"] > 0 and results["store"]["redis"]["rps"] > 0
        complete = complete and results["known_events"]["asked"]["rps"] > 0 and results["known_events"]["remembered"]["rps"] > 0
        complete = complete and results["sold_lately"]["read"]["rps"] > 0 and results["sold_lately"]["lately"]["rps"] > 0
        complete = complete and results["hot_spot"]["orders"]["rps"] > 0 and results["hot_spot"]["single_row_pgbench_tps"] > 0
        complete = complete and results["buckets"]["eight"]["rps"] > 0 and results["buckets"]["sixteen"]["rps"] > 0
        complete = complete and results["room_joins"]["rps"] > 0 and results["offline_checks"]["per_second"] > 0
        complete = complete and results["tracing"]["on"]["rps"] > 0 and results["tracing"]["spans"] > 0 and results["tracing"]["metric_points"] > 0
        node = results.get("node")
        complete = complete and (node is None or (node["no_io"]["rps"] > 0 and node["event_by_id"]["rps"] > 0))
        spin_rows = [sp["version"] for sp in results["spins"]
                     if sp["no_io"]["spin"]["rps"] > 0 and sp["event_by_id"]["spin"]["rps"] > 0 and sp["order"]["spin"]["rps"] > 0]
        complete = complete and len(spin_rows) == len(find_spins())
        print(f"bench check: {'every row measured' if complete else 'rows missing'} ({len(results['endpoints'])} endpoints"
              f"{', and on ' + ' and '.join(spin_rows) if spin_rows else ', no Spin CLI here'}"
              f"{', and on the node' if node else ', no node here'})")
        return 0 if complete else 1
    (OUT / "results.json").write_text(json.dumps(results, indent=2))
    print(table(results))
    if refused:
        print("bench: some loads were answered with errors; BENCHMARKS.md is left as it was")
        return 1
    write_benchmarks_md(table(results))
    return 0


def traced_orders(host, url, secs, conns, script, header, started):
    """The same order load on a fresh host without telemetry, then on one with
    OTLP export on; the host stopped again after each."""
    host.start()
    untraced = wrk(url, secs, conns, script, server_pid=host.process.pid, header=header)
    host.stop()
    records = OUT / "otlp.jsonl"
    records.unlink(missing_ok=True)
    address = f"127.0.0.1:{free_port()}"
    # The receiver keeps what it is sent and decodes it once the load is over.
    receiver = subprocess.Popen([sys.executable, str(ROOT / "host/tests/otlp/receiver.py"), address, str(records), "--later"],
                                stdout=subprocess.PIPE)
    started.append(receiver)
    receiver.stdout.readline()
    host.start({"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{address}", "OTEL_METRIC_EXPORT_INTERVAL": "1000"})
    traced = wrk(url, secs, conns, script, server_pid=host.process.pid, header=header)
    host.stop()
    receiver.terminate()
    receiver.wait()
    lines = records.read_text().splitlines() if records.exists() else []
    exported = sum(1 for line in lines if '"signal": "span"' in line)
    points = sum(1 for line in lines if '"signal": "metric"' in line)
    return {"off": untraced, "on": traced, "spans": exported, "metric_points": points}


def manifest_with_release_built_tickets(folder):
    """`spin.toml` as it is but for the tickets component, built with release's
    settings instead of the component profile's: a manifest in `folder`, beside
    links to the components (their migrations) and to the builds."""
    cargo = os.environ.get("CARGO", "cargo")
    subprocess.run([cargo, "rustc", "--release", "--target", "wasm32-wasip2", "-p", "tickets", "--crate-type", "cdylib"],
                   cwd=ROOT, capture_output=True, check=True)
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("components", "target"):
        if not (folder / name).is_symlink():
            (folder / name).symlink_to(ROOT / name)
    built_by_profile = "target/wasm32-wasip2/component/tickets.wasm"
    manifest = (ROOT / "spin.toml").read_text()
    if built_by_profile not in manifest:
        sys.exit(f"bench: spin.toml no longer takes tickets from {built_by_profile}")
    (folder / "spin.toml").write_text(manifest.replace(built_by_profile, "target/wasm32-wasip2/release/tickets.wasm"))
    return folder / "spin.toml"


def loads_on_fresh_hosts(host, url, secs, conns, script, header, settings):
    """The same load on a freshly started host for each of `settings`
    (name, environment, flags), in order; the host stopped again after each."""
    runs = {}
    for name, env, args in settings:
        host.start(env, args)
        runs[name] = wrk(url, secs, conns, script, server_pid=host.process.pid, header=header)
        host.stop()
    return runs


def host_cpu_saved(host, url, secs, conns, script, header, pairs, without, with_it):
    """Alternating pairs of the same load on freshly started hosts, with the
    setting `without` and then `with_it` (name, environment, flags): the median
    pair's host CPU per request saved by `with_it` and the median ratio of their
    rates, each with its spread, and the median pair's loads under their names."""
    runs = [loads_on_fresh_hosts(host, url, secs, conns, script, header, (without, with_it)) for _ in range(pairs)]
    off, on = without[0], with_it[0]
    cost = median_pair([(run[off], run[on]) for run in runs],
                       lambda first, second: first["server_cpu_us_per_request"] - second["server_cpu_us_per_request"])
    rates = sorted(run[on]["rps"] / run[off]["rps"] for run in runs)
    return {off: cost["without"], on: cost["with"], "saved_us": cost["median"], "saved_spread_us": cost["spread"],
            "rate_ratio": rates[(len(rates) - 1) // 2], "rate_spread": [rates[0], rates[-1]], "pairs": pairs}


class RedisServer:
    """Debian's redis-server on a free loopback port, keeping nothing on disk."""

    def __init__(self, started):
        if not shutil.which("redis-server"):
            sys.exit("bench: redis-server is missing (make setup installs it)")
        self.port = free_port()
        self.process = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started.append(self.process)
        deadline = time.monotonic() + 30
        while not self.answers():
            if time.monotonic() > deadline or self.process.poll() is not None:
                sys.exit("bench: redis-server did not start")
            time.sleep(0.05)

    def answers(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def runtime_config(self, folder):
        """A runtime config file putting `default` on this server, as `spin up` reads one."""
        path = folder / "runtime-config.toml"
        path.write_text(f'[key_value_store.default]\ntype = "redis"\nurl = "redis://127.0.0.1:{self.port}"\n')
        return path

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


def relative_cpu(without, with_it):
    """What the second run's host CPU per request adds to the first's, as a fraction."""
    off, on = without["server_cpu_us_per_request"], with_it["server_cpu_us_per_request"]
    return (on - off) / off if off else 0


def median_pair(pairs, cost):
    """The median of `cost(without, with)` over alternating pairs, its spread
    (lowest, highest), and the pair that gave the median."""
    costs = sorted((cost(without, with_it), i) for i, (without, with_it) in enumerate(pairs))
    median, index = costs[(len(costs) - 1) // 2]
    without, with_it = pairs[index]
    return {"median": median, "spread": [costs[0][0], costs[-1][0]], "without": without, "with": with_it}


BENCHMARKS_MD = ROOT / "BENCHMARKS.md"
BEGIN, END = "<!-- make bench writes this block -->", "<!-- end of the block make bench writes -->"


def write_benchmarks_md(text):
    """Replaces BENCHMARKS.md's block between its markers with this run's table."""
    page = BENCHMARKS_MD.read_text()
    if BEGIN not in page or END not in page:
        sys.exit(f"bench: BENCHMARKS.md has no block between {BEGIN!r} and {END!r}")
    head, rest = page.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    block = f"{BEGIN}\nMeasured {stamp} by `make bench` (`python3 bench/bench.py`):\n\n```\n{text}\n```\n{END}"
    BENCHMARKS_MD.write_text(head + block + tail)
    print(f"bench: wrote the table into {BENCHMARKS_MD.name}")


def load_rows(node, where="results"):
    """Every wrk measurement in the results, with where it sits."""
    if isinstance(node, dict):
        if "non_2xx" in node:
            yield where, node
        for key, child in node.items():
            yield from load_rows(child, f"{where}.{key}")
    elif isinstance(node, list):
        for i, child in enumerate(node):
            yield from load_rows(child, f"{where}[{child.get('name', i) if isinstance(child, dict) else i}]")


def find_spins():
    """The Spin CLIs here: Spin 3.6.3 (SPIN, else spin on PATH) and Spin 4.0 (SPIN4).
    Under CI=true a missing one is an error, as in the tests."""
    found = []
    for variable, spin in (("SPIN", os.environ.get("SPIN") or shutil.which("spin")), ("SPIN4", os.environ.get("SPIN4"))):
        if spin and os.access(spin, os.X_OK):
            found.append(spin)
        elif os.environ.get("CI") == "true":
            sys.exit(f"bench: no Spin CLI in {variable} under CI=true: a referee is missing")
    return found


def shape(value):
    """A JSON document's keys and the kinds of its values, all the way down."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__


def platform_variables(prefix):
    """The `SPIN_VARIABLE_*` settings `eventos migrate --print-env` prints for these databases."""
    exports = subprocess.run([str(EVENTOS), "migrate", "--prefix", prefix, "--print-env"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
    variables = {}
    for line in exports.splitlines():
        name, value = line.removeprefix("export ").split("=", 1)
        variables[name] = value.strip("'")
    return variables


def on_spin(spin, prefix, secs, conns, event_id, started, order):
    """The no-I/O route, GET /api/events/{id} and the member's order (`order`:
    its path, script and header) served by real Spin from the same manifest and
    .wasm files, on the benchmark's databases, with Spin's default key-value
    store; and its start to first 200 with a warm compile cache (a first start
    warms it)."""
    env = {**os.environ, **platform_variables(prefix)}
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    def start():
        began = time.monotonic()
        # Spin's component logs go to files under target/ (Spin 4 refuses an empty --log-dir).
        process = subprocess.Popen([spin, "up", "--from", "spin.toml", "--listen", f"127.0.0.1:{port}", "--log-dir", str(OUT / "spin-logs")],
                                   cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started.append(process)
        wait_for(f"{base}/api/users/health")
        return process, time.monotonic() - began

    def stop(process):
        # SIGTERM stops `spin up` and its `spin trigger` child (SIGKILL would orphan the child).
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)

    stop(start()[0])
    process, start_seconds = start()
    try:
        no_io = wrk(f"{base}/api/status/health", secs, conns)
        event_by_id = wrk(f"{base}/api/events/{event_id}", secs, conns)
        path, script, header = order
        orders = wrk(f"{base}{path}", secs, conns, script, header=header)
    finally:
        stop(process)
    version = subprocess.run([spin, "--version"], capture_output=True, text=True).stdout.split()[:2]
    return {"version": " ".join(version), "no_io": no_io, "event_by_id": event_by_id, "order": orders,
            "start_ms": start_seconds * 1000}


def seed(base):
    users = [api(base, "POST", "/api/users", {"email": f"{uuid.uuid4().hex}@bench.io", "name": "Bench"})[0]["id"] for _ in range(600)]
    events = []
    for _ in range(100):
        event = api(base, "POST", "/api/events", {"title": "Bench night", "starts_at": "2027-01-01T19:00:00Z",
                    "ends_at": "2027-01-01T23:00:00Z", "capacity": 1000000, "organizer_id": users[0]})[0]
        api(base, "POST", f"/api/events/{event['id']}/moderation", {"decision": "approve"})
        events.append(event["id"])
    ticket_type, reference = new_ticket_type(base, events[0], "GA"), new_ticket_type(base, events[0], "Reference")
    # The buckets row's type, whose stock the run splits over eight rows.
    eight = new_ticket_type(base, events[0], "Eight buckets")
    # The on-sale row's two types: one of an event nobody watches, one of an event with bad receivers.
    quiet, watched = (new_ticket_type(base, event, "On sale") for event in (events[2], events[1]))
    return {"users": users, "events": events, "event": events[0], "ticket_type": ticket_type, "reference_type": reference,
            "eight_bucket_type": eight, "quiet_type": quiet, "watched_type": watched}


def new_ticket_type(base, event_id, name):
    """A ticket type of a million tickets at 10 EUR; its id."""
    return api(base, "POST", "/api/tickets/types", {"event_id": event_id, "name": name, "price_cents": 1000,
               "currency": "EUR", "quantity": 1000000})[0]["id"]


def orders_of_new_types(base, event_id, scripts, rows):
    """For each of `rows`, the member's order of a ticket type of its own (a
    million tickets), so that no row sells out the type another row buys."""
    return {row: lua(scripts / f"orders-{row}.lua", LUA_ORDERS.format(type=new_ticket_type(base, event_id, row))) for row in rows}


def restock(database, ticket_type, buckets):
    """Splits the stock of a ticket type nobody bought yet over `buckets` rows,
    as the tickets component splits a new type's over sixteen."""
    sql = (f"DELETE FROM ticket_stock WHERE ticket_type_id = '{ticket_type}'; "
           f"INSERT INTO ticket_stock (ticket_type_id, bucket, quantity) "
           f"SELECT t.id, b, t.quantity / {buckets} + (b < t.quantity % {buckets})::int "
           f"FROM ticket_types t, generate_series(0, {buckets} - 1) AS b WHERE t.id = '{ticket_type}'")
    url = ADMIN_URL.replace("/postgres?", f"/{database}?")
    subprocess.run(["psql", url, "-XqAt", "-v", "ON_ERROR_STOP=1", "-c", sql], capture_output=True, check=True)


class BadReceivers:
    """Three webhook receivers on loopback that do a platform no good: one takes
    the connection and never answers, one answers 500, one answers after 5 s."""

    def __init__(self):
        self.sockets, self.count, self.lock = [], 0, threading.Lock()
        self.urls = [self.listen(behaviour) for behaviour in (None, "500 Internal Server Error", "200 OK")]

    def listen(self, status):
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        self.sockets.append(server)
        threading.Thread(target=self.accept, args=(server, status), daemon=True).start()
        return f"http://127.0.0.1:{server.getsockname()[1]}/hooks"

    def accept(self, server, status):
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            with self.lock:
                self.count += 1
            self.sockets.append(connection)
            if status:
                delay = 5 if status.startswith("200") else 0
                threading.Thread(target=self.answer, args=(connection, status, delay), daemon=True).start()

    @staticmethod
    def answer(connection, status, delay):
        try:
            connection.recv(65536)
            time.sleep(delay)
            connection.sendall(f"HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".encode())
            connection.close()
        except OSError:
            pass

    def attempts(self):
        with self.lock:
            return self.count

    def stop(self):
        for held in self.sockets:
            held.close()


def machine():
    cpus = os.cpu_count()
    model = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("model name")), "?")
    memory = next((int(l.split()[1]) // 1024 // 1024 for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")), 0)
    postgres = subprocess.run(["psql", ADMIN_URL, "-XAtc", "SHOW server_version"], capture_output=True, text=True).stdout.strip()
    return f"{cpus} cores ({model}), {memory} GiB, PostgreSQL {postgres}"


def latency(measured):
    return f"{measured['p50_ms']:.2f} / {measured['p99_ms']:.2f} ms"


def versus(label, first, second):
    """A row of two loads: their rates, the first's ratio to the second and its
    latency, and each one's host CPU per request."""
    return (f"{label:44} {first['rps']:>14,.0f} {second['rps']:>14,.0f} {first['rps'] / second['rps']:>7.2f}   "
            f"{latency(first):>20}   {first['server_cpu_us_per_request']:.0f} µs vs {second['server_cpu_us_per_request']:.0f} µs")


def table(r):
    lines = [f"Eventos benchmark — {r['machine']}; wrk -t2 -c{r['connections']} -d{r['seconds']}s; pgbench -c{r['connections']} -j2 -T{r['seconds']}", ""]
    lines.append(f"{'measure':44} {'platform':>14} {'reference':>14} {'ratio':>7}   {'p50 / p99 (platform)':>20}   host CPU per request")
    h = r["host_overhead"]
    lines.append(f"{'no-I/O route vs native hyper (req/s)':44} {h['wasm']['rps']:>14,.0f} {h['native']['rps']:>14,.0f} {h['ratio']:>7.2f}   {latency(h['wasm']):>20}   "
                 f"{h['wasm']['server_cpu_us_per_request']:.0f} µs (native {h['native']['server_cpu_us_per_request']:.0f} µs)")
    for e in r["endpoints"]:
        p = e["platform"]
        lines.append(f"{e['name'] + ' vs pgbench':44} {p['rps']:>14,.0f} {e['pgbench']['tps']:>14,.0f} {e['ratio']:>7.2f}   {latency(p):>20}   "
                     f"{p['server_cpu_us_per_request']:.0f} µs" + (f"  ({p['non_2xx']} non-2xx)" if p["non_2xx"] else ""))
    for label, n in (("GET /api/events/{id} vs native peer (req/s)", r["native_peer"]["event_by_id"]),
                     ("member's order vs native peer (req/s)", r["native_peer"]["order"])):
        lines.append(f"{label:44} {n['platform']['rps']:>14,.0f} {n['native']['rps']:>14,.0f} {n['ratio']:>7.2f}   "
                     f"{latency(n['platform']):>20}   {n['platform']['server_cpu_us_per_request']:.0f} µs (native {n['native']['server_cpu_us_per_request']:.0f} µs)")
    s = r["hot_spot"]
    lines.append(f"{'contended orders vs single-row pgbench':44} {s['orders']['rps']:>14,.0f} {s['single_row_pgbench_tps']:>14,.0f} {s['ratio']:>7.2f}   "
                 f"{latency(s['orders']):>20}   {s['orders']['server_cpu_us_per_request']:.0f} µs (median of {s['pairs']} pairs, {s['spread'][0]:.2f}..{s['spread'][1]:.2f})")
    sb = r["buckets"]
    sixteen, eight = sb["sixteen"], sb["eight"]
    lines.append(versus("order: stock in 16 buckets vs 8", sixteen, eight) + ": "
                 f"orders/s x{sb['rate_ratio']:.2f} (median of {sb['pairs']} pairs, {sb['rate_spread'][0]:.2f}..{sb['rate_spread'][1]:.2f}); "
                 f"database CPU per order {sixteen['database_cpu_us_per_request']:.0f} µs vs {eight['database_cpu_us_per_request']:.0f} µs")
    t = r["identity"]
    own, named = t["own_order"], t["named_order"]
    lines.append(versus("order: own (token) vs buyer named (users asked)", own, named))
    lines.append(versus("public read: with token vs without", t["verified_read"], t["anonymous_read"]) + ": "
                 f"verifying {t['verify_cpu_us']:.0f} µs (median of {t['pairs']} pairs, {t['verify_spread_us'][0]:.0f}..{t['verify_spread_us'][1]:.0f}), "
                 f"{t['added_to_order'] * 100:+.0f}% on an order")
    k = r["token_reuse"]
    kept, checked = k["remembered"], k["checked"]
    lines.append(versus("order: token remembered vs checked each time", kept, checked) + ": "
                 f"saves {k['saved_us']:.0f} µs (median of {k['pairs']} pairs, {k['saved_spread_us'][0]:.0f}..{k['saved_spread_us'][1]:.0f})")
    sl = r["sold_lately"]
    kept, read = sl["lately"], sl["read"]
    lines.append(versus("order: type sold lately vs read each time", kept, read) + ": "
                 f"saves {sl['saved_us']:.0f} µs (median of {sl['pairs']} pairs, {sl['saved_spread_us'][0]:.0f}..{sl['saved_spread_us'][1]:.0f}); "
                 f"orders/s x{sl['rate_ratio']:.2f} ({sl['rate_spread'][0]:.2f}..{sl['rate_spread'][1]:.2f})")
    bp = r.get("build_profile")
    if bp:
        lines.append(versus("order: tickets, component vs release build", bp["component"], bp["release"]) + ": "
                     f"saves {bp['saved_us']:.0f} µs (median of {bp['pairs']} pairs, {bp['saved_spread_us'][0]:.0f}..{bp['saved_spread_us'][1]:.0f}); "
                     f"orders/s x{bp['rate_ratio']:.2f} ({bp['rate_spread'][0]:.2f}..{bp['rate_spread'][1]:.2f})")
    ke = r["known_events"]
    lines.append(versus("registration: event remembered vs asked", ke["remembered"], ke["asked"]))
    st = r["store"]
    mem, red = st["memory"], st["redis"]
    lines.append(versus("order: default store on Redis vs in memory", red, mem) + ": "
                 f"{st['added_us']:+.0f} µs (median of {st['pairs']} pairs, {st['added_spread_us'][0]:+.0f}..{st['added_spread_us'][1]:+.0f})")
    tr = r["tracing"]
    on, off = tr["on"], tr["off"]
    lines.append(versus("order: telemetry on (OTLP) vs off", on, off) + ": "
                 f"{tr['added'] * 100:+.0f}% (median of {tr['pairs']} pairs, {tr['added_spread'][0] * 100:+.0f}%..{tr['added_spread'][1] * 100:+.0f}%), "
                 f"{tr['spans']:,} spans, {tr['metric_points']:,} metric points")
    b = r["bad_receivers"]
    bad, none = b["bad"], b["none"]
    lines.append(f"{'on-sale: 3 bad receivers on the event vs none':44} {bad['rps']:>14,.0f} {none['rps']:>14,.0f} {b['ratio']:>7.2f}   "
                 f"{latency(bad):>20}   {bad['server_cpu_us_per_request']:.0f} µs vs {none['server_cpu_us_per_request']:.0f} µs "
                 f"(median of {b['pairs']} pairs, {b['spread'][0]:.2f}..{b['spread'][1]:.2f}; the receivers were sent {b['attempts']} requests)")
    j = r["room_joins"]
    lines.append(f"{'waiting room: places taken, each a new buyer':44} {j['rps']:>14,.0f} {'':>14} {'':>7}   {latency(j):>20}   "
                 f"{j['server_cpu_us_per_request']:.0f} µs")
    d = r["offline_checks"]
    lines.append(f"{'door: signed codes checked offline (Chromium)':44} {d['per_second']:>14,.0f} {'':>14} {'':>7}   "
                 f"{d['checks']:,} checks of one real code by the door page's own check (WebCrypto Ed25519), per second")
    i = r.get("instantiation", {})
    if i:
        lines.append(f"{'instantiation (host histogram)':44} {'p50 ' + str(i['p50_us']) + ' µs':>14} {'p99 ' + str(i['p99_us']) + ' µs':>14}   over {i['count']:,} requests")
    lines.append(f"{'restart to first 200':44} {'cached ' + format(r['restart']['cached_ms'], '.0f') + ' ms':>14} {'cold ' + format(r['restart']['cold_compile_ms'], '.0f') + ' ms':>14}")
    for sp in r.get("spins", []):
        for label, row in (("no-I/O route: eventos vs " + sp["version"], sp["no_io"]),
                           ("GET /api/events/{id}: eventos vs " + sp["version"], sp["event_by_id"]),
                           ("member's order: eventos vs " + sp["version"], sp["order"])):
            lines.append(f"{label + ' (req/s)':44} {row['eventos']['rps']:>14,.0f} {row['spin']['rps']:>14,.0f} {row['ratio']:>7.2f}   "
                         f"{latency(row['spin']):>20}   (p50 / p99 on Spin)")
        lines.append(f"{'start to first 200, warm: eventos vs ' + sp['version']:44} {format(sp['start_ms']['eventos'], '.0f') + ' ms':>14} "
                     f"{format(sp['start_ms']['spin'], '.0f') + ' ms':>14}")
    n = r.get("node")
    if n:
        for label, row, ratio in (("no-I/O route: eventos vs node (shim v0.24)", n["no_io"], n["no_io_ratio"]),
                                  ("GET /api/events/{id}: eventos vs node", n["event_by_id"], n["event_ratio"])):
            eventos = row["rps"] * ratio
            lines.append(f"{label + ' (req/s)':44} {eventos:>14,.0f} {row['rps']:>14,.0f} {ratio:>7.2f}   "
                         f"{latency(row):>20}   (p50 / p99 on the node)")
        lines.append(f"{'node: first start of a new artifact':44} {format(n['first_start_ms'], '.0f') + ' ms':>14}"
                     f"{'':>15}   the shim compiles the components first")
        lines.append(f"{'node: start from zero, compiled':44} {format(n['from_zero_ms'], '.0f') + ' ms':>14} "
                     f"{format(n['eventos_start_ms'], '.0f') + ' ms':>14}   to the first 200 (reference: eventos, cached)")
        lines.append(f"{'node: SIGKILL to the first 200 of a new task':44} {format(n['after_kill_ms'], '.0f') + ' ms':>14}")
    m = r["memory"]
    lines.append(f"{'host RSS':44} {'idle ' + format(m['idle_rss_mib'], '.1f') + ' MiB':>14} {'peak ' + format(m['peak_rss_mib'], '.1f') + ' MiB':>14}")
    return "\n".join(lines)


SQL_EVENT = """SELECT id, title, description, venue, starts_at, ends_at, capacity, organizer_id, status, moderation_reason, moderated_by, created_at, updated_at FROM events WHERE id = '{id}';
"""
SQL_EVENT_LIST = """SELECT id, title, description, venue, starts_at, ends_at, capacity, organizer_id, status, moderation_reason, moderated_by, created_at, updated_at FROM events
 WHERE (NULL::text IS NULL OR status = NULL) AND (NULL::uuid IS NULL OR organizer_id = NULL) AND (NULL::timestamptz IS NULL OR starts_at >= NULL)
   AND (NULL::timestamptz IS NULL OR starts_at < NULL) AND (NULL::timestamptz IS NULL OR (starts_at, id) > (NULL, NULL::uuid))
   AND (false OR status = 'published' OR organizer_id = NULL::uuid)
 ORDER BY starts_at, id LIMIT 51;
"""
SQL_USER = """INSERT INTO users (email, name) VALUES ('pgb' || :client_id || '-' || md5(random()::text) || '@bench.io', 'Bench') RETURNING id, email, name, created_at, updated_at;
"""
# pgbench's codes are 32 random bits (md5 hex): a collision is skipped, not retried.
SQL_ORDER = """\\set b random(0, 15)
SELECT id, event_id, price_cents, currency, quantity, hidden FROM ticket_types WHERE id = '{type}';
WITH stock AS (
  UPDATE ticket_stock SET sold = sold + 1
  WHERE (ticket_type_id, bucket) = (
    SELECT ticket_type_id, bucket FROM ticket_stock WHERE ticket_type_id = '{type}' AND sold + 1 <= quantity
    ORDER BY (bucket - :b + 16) % 16 LIMIT 1 FOR UPDATE SKIP LOCKED)
  RETURNING ticket_type_id
), o AS (
  INSERT INTO orders (id, event_id, ticket_type_id, user_id, quantity, total_cents, discount_cents, currency, payment,
                      processed_by, idempotency_key, request_fingerprint, created_at, updated_at)
  SELECT gen_random_uuid(), (SELECT event_id FROM ticket_types WHERE id = '{type}'), ticket_type_id, '{user}', 1, 1000, 0,
         'EUR', 'pending', 'pgbench', NULL, NULL, clock_timestamp(), clock_timestamp() FROM stock
  RETURNING id, event_id, ticket_type_id
)
INSERT INTO tickets (code, order_id, ticket_type_id, event_id, price_cents)
SELECT 'TKT-' || upper(substr(md5(random()::text), 1, 4)) || '-' || upper(substr(md5(random()::text), 1, 4)),
       o.id, o.ticket_type_id, o.event_id, 1000 FROM o
ON CONFLICT DO NOTHING;
"""
# The single-row design of the targets: one stock row every buyer updates first.
SQL_SINGLE_ROW_PURCHASE = """BEGIN;
UPDATE ticket_stock SET sold = sold + 1 WHERE ticket_type_id = '{type}' AND bucket = 0 AND sold + 1 <= quantity;
INSERT INTO orders (event_id, ticket_type_id, user_id, quantity, total_cents, currency, processed_by)
 SELECT event_id, id, '{user}', 1, 1000, 'EUR', 'pgbench' FROM ticket_types WHERE id = '{type}' RETURNING id \\gset
INSERT INTO tickets (code, order_id, ticket_type_id, event_id, price_cents)
 SELECT 'TKT-' || upper(substr(md5(random()::text), 1, 4)) || '-' || upper(substr(md5(random()::text), 1, 4)), :id, '{type}', event_id, 1000 FROM ticket_types WHERE id = '{type}'
 ON CONFLICT DO NOTHING;
COMMIT;
"""
# The endpoint's statements on one event (the endpoint's load also holds one
# event's lock at a time: 300 users register for an event before the next), each
# registration read back by its id as the endpoint answers it.
SQL_REGISTRATION = """BEGIN;
SELECT pg_advisory_xact_lock(hashtextextended('{event}', 0));
UPDATE registrations SET status = 'confirmed', updated_at = clock_timestamp() WHERE id IN (
  SELECT id FROM registrations WHERE event_id = '{event}' AND status = 'waitlisted' ORDER BY queue_seq
  LIMIT GREATEST(0, 1000000 - (SELECT count(*) FROM registrations WHERE event_id = '{event}' AND status = 'confirmed')));
INSERT INTO registrations (event_id, user_id, status)
 SELECT '{event}', gen_random_uuid(), CASE WHEN count(*) < 1000000 THEN 'confirmed' ELSE 'waitlisted' END
 FROM registrations WHERE event_id = '{event}' AND status = 'confirmed' ON CONFLICT DO NOTHING RETURNING id \\gset
COMMIT;
SELECT r.id, r.event_id, r.user_id, r.status, r.created_at, r.updated_at,
  CASE WHEN r.status = 'waitlisted' THEN (SELECT count(*) FROM registrations w WHERE w.event_id = r.event_id AND w.status = 'waitlisted' AND w.queue_seq <= r.queue_seq) END AS position
 FROM registrations r WHERE r.id = :id;
"""
LUA_USERS = """
local counter = 0
local threads = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
-- Each thread numbers its own addresses: every request creates a new user.
function setup(thread)
  thread:set("tag", tostring(threads) .. "-" .. tostring(os.time()))
  threads = threads + 1
end
request = function()
  counter = counter + 1
  local body = string.format('{"email":"w%s-%d@bench.io","name":"Bench"}', tostring(tag), counter)
  return wrk.format(nil, nil, nil, body)
end
"""
LUA_ORDERS = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{{"ticket_type_id":"{type}","quantity":1}}'
"""
LUA_ORDERS_NAMED = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{{"ticket_type_id":"{type}","user_id":"{user}","quantity":1}}'
"""


def lua_registrations(world, first=0):
    """New registrations, from the `first`-th of each thread's (user, event) pairs on."""
    users = ",".join(f'"{u}"' for u in world["users"])
    events = ",".join(f'"{e}"' for e in world["events"])
    return f"""
local users = {{{users}}}
local events = {{{events}}}
local counter = {first}
local threads = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
-- Two threads walk disjoint halves of the (user, event) pairs: every request is a new registration.
function setup(thread)
  thread:set("offset", threads)
  threads = threads + 1
end
request = function()
  counter = counter + 1
  local n = counter * 2 + (tonumber(offset) or 0) % 2
  local user = users[(n % #users) + 1]
  local event = events[(math.floor(n / #users) % #events) + 1]
  return wrk.format(nil, nil, nil, string.format('{{"event_id":"%s","user_id":"%s"}}', event, user))
end
"""


if __name__ == "__main__":
    sys.exit(main())
