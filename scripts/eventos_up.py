"""The one way the drills and the bench run the platform: `eventos up` on a
fixed port of this machine, its databases under a prefix of its own and kept
across restarts (a host killed and started again comes back to its data), its
log appended to a file. (The Rust tests, `make fuzz` among them, use
`--ephemeral` instead: their databases go with the process.)"""

import os
import signal
import socket
import subprocess
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVENTOS = ROOT / "target/release/eventos"
DOMAINS = ("users", "events", "participation", "tickets")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Platform:
    def __init__(self, prefix, log_path, port=None, env=None):
        self.prefix, self.port, self.log_path = prefix, port or free_port(), Path(log_path)
        self.base = f"http://127.0.0.1:{self.port}"
        self.env, self.process = env or {}, None

    def start(self, env=None, args=()):
        """Starts `eventos up`; `env` adds to the environment given at creation, `args` to its flags."""
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen(
                [str(EVENTOS), "up", "--no-build", "--listen", f"127.0.0.1:{self.port}", "--prefix", self.prefix, *args],
                cwd=ROOT, env={**os.environ, **self.env, **(env or {})}, stdout=subprocess.DEVNULL, stderr=log)
        return self.process

    def answers(self, domains=DOMAINS):
        """Whether every domain answers its health check now, its database included."""
        return all(health(f"{self.base}/api/{domain}/health") for domain in domains)

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        """As Ctrl-C stops it: in-flight requests finish first."""
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


def health(url):
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False
