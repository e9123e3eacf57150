"""The benchmark's node rows: the same artifact under containerd-shim-spin
v0.24.0 (Spin 3.6.3 inside), as a SpinKube node runs it (`scripts/node.sh`),
on the benchmark's databases: a domain's first start of a new artifact (the
shim compiles its components), a start from zero with them compiled, a kill
(SIGKILL) to the first 200 of the container started again, and the no-I/O route
and GET /api/events/{id} under the same load as the other rows."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVENTOS = ROOT / "target/release/eventos"


def node_bin():
    """NODE_BIN when it holds the node runtime and containerd may run (root).
    Under CI=true a missing node is an error, as in the tests."""
    folder = os.environ.get("NODE_BIN")
    present = folder and all(os.access(Path(folder) / b, os.X_OK)
                             for b in ("containerd-1.7.34", "ctr-1.7.34", "containerd-shim-spin-v2"))
    if present and os.geteuid() == 0 and shutil.which("docker-registry"):
        return str(Path(folder).resolve())
    if os.environ.get("CI") == "true":
        sys.exit("bench: no node runtime (NODE_BIN, root, docker-registry) under CI=true: a referee is missing")
    return None


class Node:
    """A node brought up by scripts/node.sh, taken down by `stop`."""

    def __init__(self, folder, work):
        self.env = {**os.environ, "NODE_BIN": folder}
        self.dir = work
        out = subprocess.run([str(ROOT / "scripts/node.sh"), "start", str(work), "--no-first-start"], cwd=ROOT,
                             env=self.env, capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"bench: the node did not start: {out.stderr.strip()}")
        named = dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
        self.socket, self.image = named["NODE_SOCKET"], named["NODE_IMAGE"]
        self.ctr = [str(Path(folder) / "ctr-1.7.34"), "--address", self.socket, "-n", "k8s.io"]

    def run(self, name, address, components, variables):
        """Starts a container as the shim runs a SpinApp's pod (its output to a file)."""
        command = [*self.ctr, "run", "-d", "--net-host", "--runtime", "io.containerd.spin.v2",
                   f"--log-uri=file://{self.dir}/{name}.log",
                   "--env", f"SPIN_HTTP_LISTEN_ADDR={address}", "--env", f"SPIN_COMPONENTS_TO_RETAIN={components}"]
        for key, value in variables.items():
            command += ["--env", f"{key}={value}"]
        subprocess.run([*command, self.image, name, "/"], check=True, capture_output=True)

    def kill(self, name):
        subprocess.run([*self.ctr, "task", "kill", "-s", "SIGKILL", name], capture_output=True)
        for _ in range(200):
            if subprocess.run([*self.ctr, "task", "rm", name], capture_output=True).returncode == 0:
                break
            time.sleep(0.02)
        subprocess.run([*self.ctr, "container", "rm", name], capture_output=True)

    def stop(self):
        subprocess.run([str(ROOT / "scripts/node.sh"), "stop", str(self.dir)], cwd=ROOT, env=self.env, capture_output=True)


def on_node(folder, prefix, secs, conns, event_id, wrk, free_port, wait_for, out):
    """The node rows; `wrk`, `free_port` and `wait_for` are the benchmark's own."""
    exports = subprocess.run([str(EVENTOS), "migrate", "--prefix", prefix, "--print-env"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
    variables = {}
    for line in exports.splitlines():
        name, value = line.removeprefix("export ").split("=", 1)
        variables[name] = value.strip("'")
    node = Node(folder, out / "node")
    try:
        events, status = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
        by_id = f"http://{events}/api/events/{event_id}"

        # The artifact's first start: the shim compiles the components, then serves.
        began = time.monotonic()
        node.run("events", events, "events", variables)
        wait_for(by_id)
        first_start = time.monotonic() - began
        # Scaled to zero and back: no container, then one, its components compiled.
        node.kill("events")
        began = time.monotonic()
        node.run("events", events, "events", variables)
        wait_for(by_id)
        from_zero = time.monotonic() - began
        # A pod killed and started again at once: from the SIGKILL to the first 200.
        began = time.monotonic()
        node.kill("events")
        node.run("events", events, "events", variables)
        wait_for(by_id)
        after_kill = time.monotonic() - began

        node.run("status", status, "status", variables)
        wait_for(f"http://{status}/api/status/health")
        no_io = wrk(f"http://{status}/api/status/health", secs, conns)
        event_by_id = wrk(by_id, secs, conns)
    finally:
        node.stop()
    return {"first_start_ms": first_start * 1000, "from_zero_ms": from_zero * 1000, "after_kill_ms": after_kill * 1000,
            "no_io": no_io, "event_by_id": event_by_id}
