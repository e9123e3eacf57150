"""The benchmark's on-sale and door rows: new buyers taking their places in an
event's waiting room (each a person of their own, `eventos token --count`),
and signed ticket codes checked offline in Chromium by the door page's own
check (`components/status/assets/ticket-check.js`)."""

import json
import subprocess
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVENTOS = ROOT / "target/release/eventos"
BROWSER = ROOT / "host/tests/browser"
# Enough people that every join of a run is a new one, at a rate well past this machine's.
JOINS_PER_SECOND_CEILING = 5000

LUA_JOINS = """
-- Each request a new buyer: the tokens file, one a line, shared out between wrk's two threads.
local threads = 0
function setup(thread)
  thread:set("next", threads)
  threads = threads + 1
end
local tokens = {{}}
function init(args)
  for line in io.lines("{tokens}") do tokens[#tokens + 1] = line end
end
function request()
  next = next + 2
  return wrk.format("POST", nil, {{["Authorization"] = "Bearer " .. tokens[(next % #tokens) + 1]}}, nil)
end
"""


def room_joins(base, event_id, seconds, connections, wrk, server_pid, api, out):
    """wrk POSTing places into an open room whose on-sale has come, each a new buyer."""
    now = datetime.now(timezone.utc).isoformat()
    api(base, "PUT", f"/api/tickets/events/{event_id}/waiting-room", {"on_sale_at": now, "admissions_per_minute": 600000})
    count = JOINS_PER_SECOND_CEILING * max(seconds, 1)
    tokens = out / "room-tokens.txt"
    with open(tokens, "w") as file:
        subprocess.run([str(EVENTOS), "token", "--sub", f"room-{event_id}", "--count", str(count)], cwd=ROOT,
                       stdout=file, check=True)
    script = out / "room-joins.lua"
    script.write_text(LUA_JOINS.format(tokens=tokens))
    url = f"{base}/api/tickets/events/{event_id}/waiting-room/visitors"
    return wrk(url, seconds, connections, str(script), server_pid=server_pid)


def offline_verifications(base, event_id, signed_code, seconds):
    """How many signed codes a second the door page's check verifies in headless Chromium."""
    command = ["node", "verify-offline.mjs", base, event_id, signed_code, str(seconds)]
    out = subprocess.run(command, cwd=BROWSER, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def signed_code_of_a_sold_ticket(base, type_id, user_id, api):
    order = api(base, "POST", "/api/tickets/orders", {"ticket_type_id": type_id, "user_id": user_id, "quantity": 1})[0]
    return api(base, "GET", f"/api/tickets/{order['tickets'][0]['code']}")[0]["signed_code"]
