// A gate at an event's door. It keeps the event's keys and revocation list on
// this device, checks each scanned code with them (ticket-check.js), admits or
// refuses at once, and queues the check-ins of what it admitted; the queue is
// sent when the network answers, and tickets also scanned at another gate are
// reported here, whichever gate scanned first. Everything survives a reload.
"use strict";

const SYNC_EVERY_MS = 5000;
const $ = (id) => document.getElementById(id);

const gate = {
  eventId: null,
  name: null,
  keysDocument: null,
  keys: new Map(),
  revoked: new Set(),
  version: 0,
  /** Codes admitted here: a second scan at this gate is refused at once. */
  admitted: new Set(),
  /** Check-ins not yet sent: `{ signed, scan_id, scanned_at }`. */
  queue: [],
  /** Tickets scanned here and at another gate, as the platform reported them. */
  reports: [],
};

const storageKey = () => `eventos.door.${gate.eventId}.${gate.name}`;

function save() {
  const { keysDocument, version, queue, reports } = gate;
  localStorage.setItem(storageKey(), JSON.stringify({
    keysDocument, version, queue, reports, revoked: [...gate.revoked], admitted: [...gate.admitted],
  }));
}

async function restore() {
  const saved = JSON.parse(localStorage.getItem(storageKey()) || "null");
  if (!saved) return;
  Object.assign(gate, { keysDocument: saved.keysDocument, version: saved.version, queue: saved.queue, reports: saved.reports });
  gate.revoked = new Set(saved.revoked);
  gate.admitted = new Set(saved.admitted);
  if (gate.keysDocument) gate.keys = await ticketCheck.importKeys(gate.keysDocument);
}

/** The API as the signed-in staff member; `null` when the network does not answer. */
async function call(method, path, body) {
  const headers = { authorization: `Bearer ${session.token()}` };
  if (body) headers["content-type"] = "application/json";
  try {
    const response = await fetch(path, { method, headers, body: body && JSON.stringify(body) });
    return { status: response.status, data: await response.json().catch(() => null) };
  } catch {
    return null;
  }
}

function showNetwork(online) {
  $("network").dataset.status = online ? "ok" : "down";
  $("network").textContent = online ? "Online" : "Offline: checking on this device";
}

/** Fresh keys, the revocations after the last number held, and the duplicate reports. */
async function refresh() {
  const keys = await call("GET", `/api/tickets/events/${gate.eventId}/signing-keys`);
  if (!keys || keys.status !== 200) return false;
  gate.keysDocument = keys.data;
  gate.keys = await ticketCheck.importKeys(keys.data);
  for (let complete = false; !complete;) {
    const delta = await call("GET", `/api/tickets/events/${gate.eventId}/revocations?since=${gate.version}`);
    if (!delta || delta.status !== 200) return false;
    for (const item of delta.data.items) gate.revoked.add(item.code);
    gate.version = delta.data.version;
    complete = delta.data.complete;
  }
  const duplicates = await call("GET", `/api/tickets/events/${gate.eventId}/duplicate-scans`);
  if (!duplicates || duplicates.status !== 200) return false;
  gate.reports = duplicates.data.items.filter((d) => d.gate === gate.name || d.first_gate === gate.name);
  save();
  return true;
}

/** One sync after another: two at once would both send the head of the queue. */
let syncing = Promise.resolve();
function sync() {
  syncing = syncing.then(syncOnce);
  return syncing;
}

/** Sends the queued check-ins in order, then refreshes; stops where the network does. */
async function syncOnce() {
  while (gate.queue.length) {
    const scan = gate.queue[0];
    const sent = await call("POST", `/api/tickets/${encodeURIComponent(scan.signed)}/check-in`,
      { scan_id: scan.scan_id, gate: gate.name, scanned_at: scan.scanned_at });
    if (!sent || sent.status === 401 || sent.status >= 500) break;
    gate.queue.shift();
    save();
  }
  const online = await refresh();
  showNetwork(online);
  render();
}

async function scan(text) {
  const checked = await ticketCheck.check(text, gate.eventId, gate.keys, gate.revoked);
  let verdict = checked.ok ? "admitted" : checked.reason;
  if (checked.ok && gate.admitted.has(checked.code)) verdict = "already-here";
  if (verdict === "admitted") {
    gate.admitted.add(checked.code);
    gate.queue.push({ signed: text.trim(), scan_id: crypto.randomUUID(), scanned_at: new Date().toISOString() });
    save();
  }
  const item = document.createElement("li");
  item.dataset.verdict = verdict;
  item.dataset.code = checked.code || "";
  item.textContent = `${new Date().toLocaleTimeString()} ${checked.code || "unreadable code"}: ${VERDICTS[verdict]}`;
  $("results").prepend(item);
  if (verdict === "admitted") sync();
  return verdict;
}

const VERDICTS = {
  admitted: "let in",
  "already-here": "refused, already let in at this gate",
  malformed: "refused, not a signed ticket code",
  "other-event": "refused, a ticket of another event",
  "unknown-key": "refused, not signed by a key of this event",
  forged: "refused, forged",
  revoked: "refused, cancelled",
};

function render() {
  const ready = gate.keys.size > 0;
  const status = $("door-status");
  status.dataset.ready = String(ready);
  status.dataset.queued = String(gate.queue.length);
  status.textContent = ready
    ? `Gate ${gate.name}: ${gate.keys.size} key(s), ${gate.revoked.size} cancelled ticket(s), ${gate.queue.length} check-in(s) to send.`
    : "No keys yet: this gate needs the network once before it can check tickets.";
  $("scan").hidden = !ready;
  $("reports").replaceChildren(...gate.reports.map((d) => {
    const item = document.createElement("li");
    Object.assign(item.dataset, { code: d.code, gate: d.gate || "", firstGate: d.first_gate || "" });
    item.textContent = `${d.code}: let in at ${d.first_gate || "a gate"}, scanned again at ${d.gate || "a gate"}`;
    return item;
  }));
}

/** Where the browser reads barcodes itself, the camera scans too. */
function offerCamera() {
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices) return;
  $("camera").hidden = false;
  $("camera").addEventListener("click", async () => {
    const video = $("viewfinder");
    video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    video.hidden = false;
    await video.play();
    const detector = new BarcodeDetector({ formats: ["qr_code"] });
    let last = "";
    setInterval(async () => {
      const [found] = await detector.detect(video).catch(() => []);
      if (found && found.rawValue !== last) scan(last = found.rawValue);
    }, 300);
  });
}

async function open(eventId, name) {
  Object.assign(gate, { eventId, name });
  history.replaceState(null, "", `/door?${new URLSearchParams({ event: eventId, gate: name })}`);
  await restore();
  render();
  await sync();
  setInterval(sync, SYNC_EVERY_MS);
}

document.addEventListener("DOMContentLoaded", () => {
  if (!session.token()) {
    $("sign-in-first").hidden = false;
    $("setup").hidden = true;
    return;
  }
  const params = new URLSearchParams(location.search);
  $("event-id").value = params.get("event") || "";
  $("gate").value = params.get("gate") || "";
  $("setup").addEventListener("submit", (e) => {
    e.preventDefault();
    if ($("event-id").value.trim() && $("gate").value.trim()) open($("event-id").value.trim(), $("gate").value.trim());
  });
  $("scan").addEventListener("submit", async (e) => {
    e.preventDefault();
    await scan($("code").value);
    $("code").value = "";
  });
  $("sync").addEventListener("click", sync);
  offerCamera();
  if (params.get("event") && params.get("gate")) open(params.get("event"), params.get("gate"));
});
