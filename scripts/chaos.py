#!/usr/bin/env python3
"""Chaos drill: concurrent clients buy, register, cancel and check in while the
host is SIGKILLed and restarted at random moments and PostgreSQL is stopped
hard once; afterwards every write the clients saw acknowledged must exist exactly
once, as acknowledged, and every invariant must hold. Only an outage may fail a
request (a refused connection, or a 503, which clients retry), and only while it
lasts: from the kill or the database stop until every domain answers again; any other 5xx,
a host that exits on its own, or too few writes to prove anything fails the drill.

Loopback only, bounded in time, stops by itself. Runs its own PostgreSQL cluster
(under target/chaos) so that stopping it disturbs nothing else.

usage: chaos.py [--duration 60] [--kills 6] [--db-restarts 1] [--clients 8]
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from eventos_up import Platform, free_port

ROOT = Path(__file__).resolve().parent.parent
EVENTOS = ROOT / "target/release/eventos"
WORK = ROOT / "target/chaos"
PG_PORT = 54331
ADMIN_URL = f"postgres://postgres@127.0.0.1:{PG_PORT}/postgres?sslmode=disable"


# ---- PostgreSQL of our own ----------------------------------------------------

def pg_bin():
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    if not versions:
        sys.exit("chaos: PostgreSQL's server binaries are missing (apt-get install postgresql)")
    return versions[-1].parent


def as_postgres(args):
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def pg_ctl(*args, check=True):
    data = WORK / "pgdata"
    command = as_postgres([str(pg_bin() / "pg_ctl"), "-D", str(data), *args])
    return subprocess.run(command, capture_output=True, text=True, check=check)


def start_postgres():
    data = WORK / "pgdata"
    if not (data / "PG_VERSION").exists():
        data.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            subprocess.run(["chown", "-R", "postgres:postgres", str(WORK)], check=True)
        subprocess.run(as_postgres([str(pg_bin() / "initdb"), "--auth=trust", "--username=postgres", "-D", str(data)]),
                       check=True, capture_output=True)
    options = f"-p {PG_PORT} -c listen_addresses=127.0.0.1 -k {data} -c fsync=on"
    started = pg_ctl("-l", str(data / "server.log"), "-o", options, "-w", "start", check=False)
    if started.returncode != 0 and pg_ctl("status", check=False).returncode != 0:
        sys.exit(f"chaos: PostgreSQL did not start: {started.stderr.strip()} (see {data / 'server.log'})")


def psql(database, sql):
    url = ADMIN_URL.replace("/postgres?", f"/{database}?")
    out = subprocess.run(["psql", url, "-X", "-At", "-c", sql], capture_output=True, text=True, check=True)
    return [line for line in out.stdout.splitlines() if line]


# ---- the host ---------------------------------------------------------------------

class Host(Platform):
    """The platform on the drill's own PostgreSQL, counting the times it exited on its own."""

    def __init__(self, prefix, port):
        super().__init__(prefix, WORK / "host.log", port, env={"EVENTOS_PG_ADMIN_URL": ADMIN_URL})
        self.exits = 0

    def wait_ready(self, limit=30.0):
        started = time.monotonic()
        while time.monotonic() - started < limit:
            if self.process.poll() is not None:
                # It exited on its own: a failure of the drill. Restart it, as
                # Kubernetes would, so that the writes can still be verified.
                self.exits += 1
                time.sleep(0.5)
                self.start()
            # Back when every domain answers, its database included.
            if self.answers():
                return time.monotonic() - started
            time.sleep(0.005)
        raise SystemExit("chaos: the host did not come back (see target/chaos/host.log)")



# Every request is an admin's, who may act for the drill's users: the drill is
# about what survives a crash, not about who may ask.
AUTHORIZATION = {}


def call(method, url, body=None, headers=None, timeout=5):
    """(status, json) or (None, None) when the connection failed."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={**AUTHORIZATION, **(headers or {})})
    if data is not None:
        request.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            text = response.read()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        text = error.read()
        try:
            return error.code, json.loads(text)
        except ValueError:
            return error.code, None
    except (OSError, urllib.error.URLError, ValueError):
        return None, None


def retrying(method, url, body=None, headers=None, until=None, failed=None):
    """Repeats the same request through an outage (refused connections, 503s), as a
    careful client would; any other answer, a 500 included, is returned as it is.
    Each failed attempt's (sent, answered) times go to `failed`."""
    failures = 0
    while until is None or time.monotonic() < until + 30:
        sent = time.monotonic()
        status, answer = call(method, url, body, headers)
        if status is not None and status != 503:
            return status, answer, failures
        failures += 1
        if failed is not None:
            failed.append((sent, time.monotonic(), f"{method} {url}: {status or 'no connection'}"))
        time.sleep(0.05)
    return None, None, failures


# ---- the drill --------------------------------------------------------------------

class Ledger:
    """What the clients saw acknowledged."""

    def __init__(self):
        self.lock = threading.Lock()
        self.orders = {}          # id -> {"key", "quantity", "type", "cancelled"}
        self.registrations = {}   # id -> (event, status, position) as acknowledged
        self.check_ins = set()    # ticket codes
        self.failed_requests = 0
        self.failures = []        # (sent, answered, what) of each failed attempt: an outage's, or the drill fails
        self.server_errors = []   # a 5xx that is not an outage's 503: the drill fails
        self.crashes = []         # a client that died proves nothing: the drill fails

    def add(self, kind, key, value):
        with self.lock:
            getattr(self, kind)[key] = value

    def request(self, method, url, body, headers, until):
        """`retrying`, counting the failed attempts (clients share the count)."""
        failed = []
        status, answer, failures = retrying(method, url, body, headers, until, failed)
        with self.lock:
            self.failed_requests += failures
            self.failures += failed
            if status is not None and status >= 500:
                self.server_errors.append(f"{method} {url}: {status} {answer}")
        return status, answer


def seed(base, events, users_per_event, quantity, capacity):
    world = {"users": [], "events": [], "types": []}
    for _ in range(users_per_event):
        status, user, _ = retrying("POST", f"{base}/api/users", {"email": f"{uuid.uuid4().hex}@chaos.test", "name": "Chaos"})
        world["users"].append(user["id"])
    for _ in range(events):
        _, event, _ = retrying("POST", f"{base}/api/events", {
            "title": "Chaos night", "starts_at": "2027-01-01T19:00:00Z", "ends_at": "2027-01-01T23:00:00Z",
            "capacity": capacity, "organizer_id": world["users"][0]})
        retrying("POST", f"{base}/api/events/{event['id']}/moderation", {"decision": "approve"})
        _, ticket_type, _ = retrying("POST", f"{base}/api/tickets/types", {
            "event_id": event["id"], "name": "GA", "price_cents": 1000, "currency": "EUR", "quantity": quantity})
        world["events"].append(event["id"])
        world["types"].append(ticket_type["id"])
    return world


def client(base, world, ledger, until, rng):
    try:
        run_client(base, world, ledger, until, rng)
    except Exception as error:  # noqa: BLE001 - reported and fails the drill
        with ledger.lock:
            ledger.crashes.append(repr(error))


def run_client(base, world, ledger, until, rng):
    while time.monotonic() < until:
        action = rng.random()
        if action < 0.5:
            key = str(uuid.uuid4())
            body = {"ticket_type_id": rng.choice(world["types"]), "user_id": rng.choice(world["users"]), "quantity": rng.randint(1, 3)}
            status, order = ledger.request("POST", f"{base}/api/tickets/orders", body, {"Idempotency-Key": key}, until)
            if status in (200, 201):
                ledger.add("orders", order["id"], {"key": key, "quantity": body["quantity"], "type": body["ticket_type_id"],
                                                   "cancelled": False, "codes": [t["code"] for t in order["tickets"]]})
        elif action < 0.75:
            body = {"event_id": rng.choice(world["events"]), "user_id": rng.choice(world["users"])}
            status, registration = ledger.request("POST", f"{base}/api/participation/registrations", body, None, until)
            if status == 201:
                ledger.add("registrations", registration["id"],
                           (body["event_id"], registration["status"], registration["position"]))
        elif action < 0.88:
            with ledger.lock:
                candidates = [i for i, o in ledger.orders.items() if not o["cancelled"]]
            if candidates:
                order_id = rng.choice(candidates)
                status, _ = ledger.request("POST", f"{base}/api/tickets/orders/{order_id}/cancel", None, None, until)
                if status == 200:
                    with ledger.lock:
                        ledger.orders[order_id]["cancelled"] = True
        else:
            with ledger.lock:
                codes = [c for o in ledger.orders.values() if not o["cancelled"] for c in o["codes"]]
            if codes:
                code = rng.choice(codes)
                status, _ = ledger.request("POST", f"{base}/api/tickets/{code}/check-in", None, None, until)
                if status == 200:
                    with ledger.lock:
                        ledger.check_ins.add(code)


def verify(host, world, ledger):
    base, lost, violations = host.base, [], []
    for order_id, mine in ledger.orders.items():
        status, order, _ = retrying("GET", f"{base}/api/tickets/orders/{order_id}")
        if status != 200:
            lost.append(f"order {order_id}: {status}")
        elif mine["cancelled"] and order["status"] != "cancelled":
            violations.append(f"order {order_id} was cancelled but is {order['status']}")
        elif (order["quantity"], order["ticket_type_id"]) != (mine["quantity"], mine["type"]):
            violations.append(f"order {order_id} is {order['quantity']} of {order['ticket_type_id']}, "
                              f"acknowledged as {mine['quantity']} of {mine['type']}")
        elif sorted(t["code"] for t in order["tickets"]) != sorted(mine["codes"]) or len(mine["codes"]) != mine["quantity"]:
            violations.append(f"order {order_id}: its tickets are not the {mine['quantity']} acknowledged")
    # Nobody cancels a registration in the drill, so each reads back as it was
    # acknowledged: its event, confirmed or waitlisted, and its place in the line.
    for registration_id, acknowledged in ledger.registrations.items():
        status, registration, _ = retrying("GET", f"{base}/api/participation/registrations/{registration_id}")
        if status != 200:
            lost.append(f"registration {registration_id}: {status}")
        elif (registration["event_id"], registration["status"], registration["position"]) != acknowledged:
            violations.append(f"registration {registration_id} reads {registration['status']} at {registration['position']}, "
                              f"acknowledged as {acknowledged[1]} at {acknowledged[2]}")
    for code in ledger.check_ins:
        status, ticket, _ = retrying("GET", f"{base}/api/tickets/{code}")
        if status != 200 or ticket["status"] != "checked_in" or not ticket["checked_in_at"]:
            violations.append(f"ticket {code} was checked in but reads {ticket}")
    tickets_db = f"{host.prefix}_tickets"
    duplicates = psql(tickets_db, "SELECT idempotency_key FROM orders WHERE idempotency_key IS NOT NULL GROUP BY 1 HAVING count(*) > 1")
    violations += [f"idempotency key {k} made two orders" for k in duplicates]
    # Every order the drill sends carries a key and is retried until answered, so
    # the keyed orders stored are exactly those acknowledged: one more is a sale
    # nobody was told of, one fewer a sale lost.
    keys = {o["key"] for o in ledger.orders.values()}
    stored = set(psql(tickets_db, "SELECT idempotency_key FROM orders WHERE idempotency_key IS NOT NULL"))
    violations += [f"order with key {k} stored but never acknowledged" for k in sorted(stored - keys)]
    lost += [f"order with key {k} acknowledged but not stored" for k in sorted(keys - stored)]
    stock = psql(tickets_db, """SELECT t.id FROM ticket_types t
        CROSS JOIN LATERAL (SELECT sum(s.sold) AS sold FROM ticket_stock s WHERE s.ticket_type_id = t.id) AS stock
        WHERE stock.sold > t.quantity
           OR EXISTS (SELECT 1 FROM ticket_stock s WHERE s.ticket_type_id = t.id AND s.sold > s.quantity)
           OR stock.sold <> (SELECT coalesce(sum(o.quantity), 0) FROM orders o WHERE o.ticket_type_id = t.id AND o.status = 'confirmed')
           OR stock.sold <> (SELECT count(*) FROM tickets k JOIN orders o ON o.id = k.order_id
                             WHERE k.ticket_type_id = t.id AND o.status = 'confirmed')""")
    violations += [f"ticket type {t}: sold differs from the tickets of confirmed orders, or exceeds quantity" for t in stock]
    checked = psql(tickets_db, "SELECT code FROM tickets WHERE (status = 'checked_in') <> (checked_in_at IS NOT NULL)")
    violations += [f"ticket {c}: check-in state inconsistent" for c in checked]
    for event_id in world["events"]:
        _, summary, _ = retrying("GET", f"{base}/api/participation/events/{event_id}/summary")
        if summary["confirmed"] > summary["capacity"]:
            violations.append(f"event {event_id}: {summary['confirmed']} confirmed for capacity {summary['capacity']}")
    return lost, violations, len(keys), len(stored)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--kills", type=int, default=6)
    parser.add_argument("--db-restarts", type=int, default=1)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not EVENTOS.exists():
        sys.exit("chaos: build first (make build)")
    WORK.mkdir(parents=True, exist_ok=True)
    token = subprocess.run([str(EVENTOS), "token", "--sub", "chaos-admin", "--role", "admin"], cwd=ROOT,
                           check=True, capture_output=True, text=True).stdout.strip()
    AUTHORIZATION["authorization"] = f"Bearer {token}"
    rng = random.Random(args.seed)
    start_postgres()
    prefix = f"chaos_{os.getpid()}"
    port = free_port()
    host = Host(prefix, port)
    host.start()
    host.wait_ready()
    world = seed(host.base, events=3, users_per_event=30, quantity=400, capacity=10)
    ledger = Ledger()
    until = time.monotonic() + args.duration
    clients = [threading.Thread(target=client, args=(host.base, world, ledger, until, random.Random(rng.random())))
               for _ in range(args.clients)]
    for thread in clients:
        thread.start()

    recoveries, db_recoveries = [], []
    outages = []  # (from, to): a kill or a database stop, until every domain answers again
    moments = sorted(rng.uniform(0.1, 0.85) * args.duration for _ in range(args.kills))
    db_moments = [rng.uniform(0.2, 0.8) * args.duration for _ in range(args.db_restarts)]
    events = sorted([(m, "kill") for m in moments] + [(m, "db") for m in db_moments])
    began = time.monotonic()
    for moment, kind in events:
        time.sleep(max(0.0, began + moment - time.monotonic()))
        if kind == "kill":
            killed = time.monotonic()
            host.kill()
            host.start()  # as Kubernetes would: at once
            host.wait_ready()
            recoveries.append(time.monotonic() - killed)
            outages.append((killed, time.monotonic()))
        else:
            stopped = time.monotonic()
            pg_ctl("stop", "-m", "immediate", check=False)
            time.sleep(1.0)
            start_postgres()
            host.wait_ready()
            db_recoveries.append(time.monotonic() - stopped)
            outages.append((stopped, time.monotonic()))
    for thread in clients:
        thread.join()

    lost, violations, keys, keyed_orders = verify(host, world, ledger)
    # A failed attempt is an outage's only if it was under way during one.
    stray = [f"{what}, outside any outage" for sent, answered, what in ledger.failures
             if not any(sent <= to and answered >= since for since, to in outages)]
    acknowledged = len(ledger.orders) + len(ledger.registrations) + len(ledger.check_ins)
    ms = [r * 1000 for r in recoveries]
    print("chaos drill")
    print(f"  duration {args.duration:.0f} s, {args.clients} clients, {len(recoveries)} host kills, {len(db_recoveries)} database restarts")
    print(f"  acknowledged writes:   {acknowledged} ({len(ledger.orders)} orders, {len(ledger.registrations)} registrations, {len(ledger.check_ins)} check-ins)")
    print(f"  writes lost:           {len(lost)}")
    print(f"  invariant violations:  {len(violations)}")
    if ms:
        print(f"  recovery after a kill (kill -> first 200): min {min(ms):.0f} ms / median {statistics.median(ms):.0f} ms / max {max(ms):.0f} ms")
    for seconds in db_recoveries:
        print(f"  database stop -> first 200 (1 s down): {seconds * 1000:.0f} ms")
    print(f"  requests failed during outages (then retried): {ledger.failed_requests}")
    too_few = [f"only {n} {kind} acknowledged in {args.duration:.0f} s: too few to prove anything"
               for kind, n in (("orders", len(ledger.orders)), ("registrations", len(ledger.registrations)),
                               ("check-ins", len(ledger.check_ins))) if n < args.duration]
    exits = [f"the host exited on its own {host.exits} time(s) (see target/chaos/host.log)"] if host.exits else []
    print(f"  server errors (5xx, not an outage's 503): {len(ledger.server_errors)}")
    print(f"  idempotency keys acknowledged: {keys}; keyed orders stored: {keyed_orders}")
    print(f"  requests failed outside an outage: {len(stray)}")
    failures = lost + violations + ledger.server_errors + stray + exits + too_few + [f"client crashed: {c}" for c in ledger.crashes]
    for problem in failures[:20]:
        print(f"  ! {problem}")

    host.kill()
    subprocess.run([str(EVENTOS), "drop", "--prefix", prefix], cwd=ROOT, env=dict(os.environ, EVENTOS_PG_ADMIN_URL=ADMIN_URL),
                   capture_output=True)
    pg_ctl("stop", "-m", "fast", check=False)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
