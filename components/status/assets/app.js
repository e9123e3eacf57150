// The status page: live health of every domain, and a box office to try the platform.
// Plain DOM, no framework, no build step; everything it shows is set as text.
"use strict";

const REFRESH_MS = 3000;
const LABELS = { ok: "✓ OK", degraded: "! Degraded", unavailable: "✕ Unavailable" };
const byId = (id) => document.getElementById(id);

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

/** Calls the API as whoever is signed in; a problem document becomes an Error with its readable detail. */
async function api(method, path, body, headers = {}) {
  const init = { method, headers: { ...headers } };
  const token = session.token();
  if (token) init.headers.authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new Error("The platform cannot be reached. Is it running?");
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const detail = data && (data.detail || data.title);
    throw new Error(detail ? sentence(detail) : `The request failed (${response.status}).`);
  }
  return data;
}

function sentence(text) {
  const trimmed = String(text).trim();
  return trimmed.charAt(0).toUpperCase() + trimmed.slice(1) + (/[.!?]$/.test(trimmed) ? "" : ".");
}

// ---- Health -------------------------------------------------------------

async function refreshHealth() {
  const overall = byId("overall");
  try {
    const [status] = await Promise.all([api("GET", "/api/status"), refreshBuilds()]);
    rememberHealth(status.components);
    renderHealth(status.components);
    overall.dataset.status = status.status;
    overall.textContent = status.status === "ok" ? "✓ All systems operational" : "! Some parts are degraded";
  } catch (error) {
    overall.dataset.status = "down";
    overall.textContent = "✕ Status unavailable";
  }
  byId("updated").textContent = `Last checked ${new Date().toLocaleTimeString()}.`;
}

function renderHealth(components) {
  const rows = components.map((c) => {
    const latency = c.latency_ms == null ? "—" : `${c.latency_ms.toFixed(1)} ms`;
    return element("tr", { "data-component": c.name, "data-status": c.status },
      element("th", { scope: "row", class: "domain", text: c.name }),
      element("td", { "data-label": "Status" }, element("span", { class: "badge", "data-status": c.status, text: LABELS[c.status] || c.status })),
      element("td", { "data-label": "Latency", class: "mono", text: latency }),
      element("td", { "data-label": "Last 5 minutes" }, historyChart(c.name)),
      ...trafficCells(c.name),
      element("td", { "data-label": "Instance", class: "mono", text: c.instance || "—" }),
      element("td", { "data-label": "Version", class: "mono", text: c.version || "—" }),
      buildCell(c.name));
  });
  byId("health-rows").replaceChildren(...rows);
}

// ---- Box office ---------------------------------------------------------

function showMessage(text, kind = "error") {
  const message = byId("message");
  message.textContent = text;
  message.dataset.kind = kind;
  message.hidden = false;
}

function clearMessage() {
  byId("message").hidden = true;
}

// ---- Signing in --------------------------------------------------------

function renderSession(options) {
  const claims = session.claims();
  byId("signed-in").hidden = !claims;
  byId("signed-out").hidden = Boolean(claims);
  if (claims) {
    byId("who").textContent = claims.name || claims.preferred_username || claims.email || claims.sub;
    const roles = (claims.realm_access && claims.realm_access.roles || []).filter((r) => ["organizer", "moderator", "staff", "admin"].includes(r));
    byId("roles").textContent = roles.length ? `(${roles.join(", ")})` : "(member)";
    return;
  }
  byId("sign-in").hidden = !options.provider;
  byId("dev-sign-in").hidden = !options.development;
  byId("no-sign-in").hidden = Boolean(options.provider || options.development);
}

async function loadSession() {
  await finishProviderSignIn().catch((error) => showMessage(error.message));
  const options = await api("GET", "/api/status/sign-in").catch(() => ({ provider: null, development: false }));
  renderSession(options);
  return options;
}

async function loadEvents() {
  const container = byId("events");
  container.setAttribute("aria-busy", "true");
  const page = await api("GET", "/api/events?status=published&limit=20");
  const cards = await Promise.all(page.items.map(async (event) => {
    const types = await api("GET", `/api/tickets/types?event_id=${encodeURIComponent(event.id)}`);
    return eventCard(event, types.items);
  }));
  container.replaceChildren(...cards);
  container.setAttribute("aria-busy", "false");
  byId("no-events").hidden = cards.length > 0;
}

function eventCard(event, ticketTypes) {
  const when = new Date(event.starts_at).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
  const tickets = ticketTypes.map((type) => ticketRow(event, type));
  const list = tickets.length ? element("ul", { class: "tickets" }, ...tickets) : element("p", { class: "when", text: "No tickets on sale yet." });
  return element("article", { class: "event", "data-event-id": event.id },
    element("h3", { text: event.title }),
    element("p", { class: "when", text: [when, event.venue].filter(Boolean).join(" · ") }),
    list);
}

function ticketRow(event, type) {
  const price = new Intl.NumberFormat([], { style: "currency", currency: type.currency }).format(type.price_cents / 100);
  const row = element("li", { class: "ticket", "data-ticket-type-id": type.id },
    element("span", { class: "name", text: `${type.name} · ${price}` }),
    element("span", { class: "left", text: `${type.available} of ${type.quantity} left` }));
  if (type.available <= 0) {
    row.append(element("span", { class: "soldout", text: "Sold out" }));
    return row;
  }
  const quantityId = `quantity-${type.id}`;
  const quantity = element("select", { id: quantityId, "aria-label": `Number of ${type.name} tickets for ${event.title}` },
    ...Array.from({ length: Math.min(10, type.available) }, (_, i) => element("option", { value: String(i + 1), text: String(i + 1) })));
  const button = element("button", { type: "button", class: "buy-button", text: "Buy" });
  button.addEventListener("click", () => buy(event, type, Number(quantity.value), button));
  row.append(element("div", { class: "buy" }, quantity, button));
  return row;
}

function money(cents, currency) {
  return new Intl.NumberFormat([], { style: "currency", currency }).format(cents / 100);
}

/** The checkout the page holds tickets in, while its buyer decides. */
let held = null;

async function buy(event, type, quantity, button) {
  clearMessage();
  if (!session.token()) {
    showMessage("Sign in to buy.");
    return;
  }
  button.disabled = true;
  try {
    if (held) await letGo();
    const voucher = byId("voucher-code").value.trim();
    const body = { lines: [{ ticket_type_id: type.id, quantity }] };
    if (voucher) body.voucher_code = voucher;
    const pass = await waitingRoomPass(event.id, (place) => {
      byId("queue").hidden = !place;
      if (place) byId("queue").textContent = describePlace(place);
    });
    const headers = pass ? { "waiting-room-pass": pass } : {};
    held = { event, checkout: await api("POST", "/api/tickets/checkouts", body, headers), names: { [type.id]: type.name } };
    showCheckout();
  } catch (error) {
    showMessage(error.message);
  } finally {
    button.disabled = false;
    loadEvents().catch((error) => showMessage(error.message));
  }
}

function showCheckout() {
  const { checkout, names } = held;
  byId("checkout-lines").textContent = checkout.lines
    .map((line) => `${line.quantity} × ${names[line.ticket_type_id] || "ticket"} at ${money(line.unit_price_cents, checkout.currency)}`).join(", ");
  byId("checkout-discount").textContent = checkout.voucher_code
    ? `${money(checkout.discount_cents, checkout.currency)} (${checkout.voucher_code})` : "none";
  byId("checkout-amount").textContent = money(checkout.amount_cents, checkout.currency);
  byId("checkout-expires").textContent = new Date(checkout.expires_at).toLocaleTimeString([], { timeStyle: "short" });
  byId("checkout").hidden = false;
  byId("receipt").hidden = true;
}

function closeCheckout() {
  held = null;
  byId("checkout").hidden = true;
}

async function confirmHeld(button) {
  if (!held) return;
  clearMessage();
  button.disabled = true;
  try {
    const order = await api("POST", `/api/tickets/checkouts/${held.checkout.id}/confirm`);
    showReceipt(held.event, order);
    closeCheckout();
  } catch (error) {
    showMessage(error.message);
  } finally {
    button.disabled = false;
    loadEvents().catch((error) => showMessage(error.message));
  }
}

async function letGo() {
  const checkout = held.checkout;
  closeCheckout();
  await api("POST", `/api/tickets/checkouts/${checkout.id}/cancel`).catch(() => {});
}

function showReceipt(event, order) {
  byId("ticket-code").textContent = order.tickets.map((t) => t.code).join(", ");
  byId("ticket-event").textContent = event.title;
  byId("ticket-amount").textContent = money(order.amount_cents, order.currency);
  byId("processed-by").textContent = order.processed_by;
  const receipt = byId("receipt");
  receipt.hidden = false;
  showPasses(order, byId("ticket-qr"), byId("ticket-pdf")).catch((error) => showMessage(error.message));
  receipt.scrollIntoView({ behavior: "smooth", block: "nearest" });
}

async function createDemoEvent(button) {
  clearMessage();
  button.disabled = true;
  try {
    const starts = new Date(Date.now() + 7 * 24 * 3600 * 1000);
    starts.setUTCHours(19, 0, 0, 0);
    const ends = new Date(starts.getTime() + 3 * 3600 * 1000);
    const event = await api("POST", "/api/events", {
      title: "Demo night", venue: "Main hall", description: "A concert to try the box office with.",
      starts_at: starts.toISOString().replace(/\.\d{3}Z$/, "Z"), ends_at: ends.toISOString().replace(/\.\d{3}Z$/, "Z"),
      capacity: 100,
    });
    await api("POST", `/api/events/${event.id}/moderation`, { decision: "approve" });
    await api("POST", "/api/tickets/types", { event_id: event.id, name: "General admission", price_cents: 2500, currency: "EUR", quantity: 100 });
    await loadEvents();
  } catch (error) {
    showMessage(error.message);
  } finally {
    button.disabled = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  let options = { provider: null, development: false };
  byId("dev-sign-in").addEventListener("submit", async (e) => {
    e.preventDefault();
    clearMessage();
    const roles = Array.from(e.target.querySelectorAll('input[name="role"]:checked'), (box) => box.value);
    try {
      await developmentSignIn(byId("dev-name").value, roles);
      renderSession(options);
    } catch (error) {
      showMessage(error.message);
    }
  });
  byId("sign-in").addEventListener("click", () => startProviderSignIn(options.provider).catch((error) => showMessage(error.message)));
  byId("confirm-checkout").addEventListener("click", (e) => confirmHeld(e.target));
  byId("cancel-checkout").addEventListener("click", () => letGo().then(() => loadEvents()).catch((error) => showMessage(error.message)));
  byId("sign-out").addEventListener("click", () => {
    session.signOut();
    renderSession(options);
  });
  byId("create-demo").addEventListener("click", (e) => createDemoEvent(e.currentTarget));
  refreshHealth();
  setInterval(refreshHealth, REFRESH_MS);
  startTraffic();
  loadSession().then((loaded) => { options = loaded; });
  loadEvents().catch((error) => showMessage(error.message));
});
