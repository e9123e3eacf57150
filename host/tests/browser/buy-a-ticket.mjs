// Opens the status page in headless Chromium, waits for every domain to be
// healthy, signs in, buys a ticket through the box office (a checkout holds it,
// with the voucher VOUCHER names if any, then the buyer confirms), and saves
// screenshots.
// <who> is `dev:<name>` for the development sign-in, or `oidc:<login>` for the
// OpenID provider's own login page (through the page's PKCE flow). With
// TRAFFIC=columns the page must show its traffic columns (a Prometheus is
// configured); with TRAFFIC=figures, tickets' figures too. With QUEUED, the
// event's waiting room has others ahead of the buyer: the page must show the
// buyer's place before it holds the ticket.
//
// usage: node buy-a-ticket.mjs <base-url> <event-id> <ticket-type-id> <who> <screenshot-dir>
// prints one JSON line: {"code", "held", "processed_by", "load_ms", "page_bytes", "screenshots"}
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const [base, eventId, ticketTypeId, who, shots] = process.argv.slice(2);
if (!shots) {
  console.error("usage: node buy-a-ticket.mjs <base-url> <event-id> <ticket-type-id> <who> <screenshot-dir>");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
         "--no-first-run", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  let pageBytes = 0;
  page.on("response", async (response) => {
    const url = response.url();
    if (!url.includes("/api/")) pageBytes += (await response.body().catch(() => Buffer.alloc(0))).length;
  });
  const started = Date.now();
  await page.goto(`${base}/`, { waitUntil: "load" });
  const loadMs = Date.now() - started;

  await page.waitForFunction(
    () => document.querySelectorAll('#health-rows tr[data-status="ok"]').length === 4,
    null, { timeout: 20000 });
  await page.waitForSelector(`[data-event-id="${eventId}"] [data-ticket-type-id="${ticketTypeId}"] button.buy-button`, { timeout: 20000 });
  const [how, name] = [who.slice(0, who.indexOf(":")), who.slice(who.indexOf(":") + 1)];
  if (how === "dev") {
    await page.waitForSelector("#dev-sign-in:not([hidden])", { timeout: 20000 });
    await page.fill("#dev-name", name);
    await page.click('#dev-sign-in button[type="submit"]');
  } else {
    await page.waitForSelector("#sign-in:not([hidden])", { timeout: 20000 });
    await page.click("#sign-in");
    // The provider's login page, on the provider's origin.
    await page.waitForSelector('input[name="login"]', { timeout: 20000 });
    await page.fill('input[name="login"]', name);
    await page.fill('input[name="password"]', "any password");
    await page.click('button[type="submit"]');
    await page.waitForURL((url) => url.href.startsWith(base), { timeout: 20000 });
  }
  await page.waitForSelector("#signed-in:not([hidden])", { timeout: 20000 });
  await page.waitForSelector(`[data-event-id="${eventId}"] [data-ticket-type-id="${ticketTypeId}"] button.buy-button`, { timeout: 20000 });
  if (process.env.VOUCHER) await page.fill("#voucher-code", process.env.VOUCHER);
  const left = `[data-ticket-type-id="${ticketTypeId}"] .left`;
  const leftBefore = (await page.textContent(left)).trim();
  await page.click(`[data-ticket-type-id="${ticketTypeId}"] button.buy-button`);
  // With QUEUED set, the event's waiting room has others ahead: the page shows the buyer's place first.
  let queue = null;
  if (process.env.QUEUED) {
    await page.waitForSelector("#queue:not([hidden])", { timeout: 20000 });
    queue = (await page.textContent("#queue")).trim();
  }
  await page.waitForSelector("#checkout:not([hidden])", { timeout: process.env.QUEUED ? 45000 : 20000 });
  // The box office lists what is left: the held ticket is not.
  await page.waitForFunction(([cell, before]) => document.querySelector(cell)?.textContent.trim() !== before,
    [left, leftBefore], { timeout: 20000 });
  const held = {
    amount: (await page.textContent("#checkout-amount")).trim(),
    discount: (await page.textContent("#checkout-discount")).trim(),
    left: (await page.textContent(left)).trim(),
  };
  await page.screenshot({ path: join(shots, "status-page-checkout.png"), fullPage: true });
  await page.click("#confirm-checkout");
  await page.waitForSelector("#receipt:not([hidden])", { timeout: 20000 });
  const code = (await page.textContent("#ticket-code")).trim();
  const processedBy = (await page.textContent("#processed-by")).trim();
  // The ticket as the QR symbol a door scans, and the order's PDF on offer.
  await page.waitForSelector(`#ticket-qr img[data-code="${code}"]`, { timeout: 20000 });
  const qr = await page.$eval(`#ticket-qr img[data-code="${code}"]`,
    (img) => ({ svg: atob(img.src.replace(/^data:image\/svg\+xml;base64,/, "")).slice(0, 200), drawn: img.complete && img.naturalWidth > 0 }));
  const pdfOffered = await page.isVisible("#ticket-pdf");
  // Who the page's token says the buyer is, asked of the API as that person.
  const me = await page.evaluate(() =>
    fetch("/api/users/me", { headers: { authorization: `Bearer ${session.token()}` } }).then((r) => r.json()));

  // Each domain's chart holds the checks made since the page opened (one every 3 s).
  await page.waitForFunction(
    () => Array.from(document.querySelectorAll("#health-rows svg.history")).filter((c) => Number(c.dataset.points) >= 2).length === 4,
    null, { timeout: 20000 });
  const chartPoints = await page.$$eval("#health-rows svg.history",
    (charts) => charts.map((c) => ({ points: Number(c.dataset.points), states: c.querySelectorAll("rect.state").length, lines: c.querySelectorAll("polyline").length })));
  let traffic = null;
  if (process.env.TRAFFIC) {
    await page.waitForSelector("th.traffic:not([hidden])", { timeout: 20000 });
    const tickets = '#health-rows tr[data-component="tickets"] td.traffic';
    if (process.env.TRAFFIC === "figures") {
      // The page asks every 15 s; Prometheus needs two scrapes of a series for a rate.
      await page.waitForFunction((cells) => /\/s$/.test(document.querySelector(cells)?.textContent || ""), tickets, { timeout: 20000 });
    }
    traffic = await page.$$eval(tickets, (cells) => cells.map((c) => ({ label: c.dataset.label, text: c.textContent, hidden: c.hidden })));
  }
  // Tickets' live build, where the host reports builds (its column stays hidden elsewhere).
  const buildCell = '#health-rows tr[data-component="tickets"] td.build';
  const build = await page.$eval(buildCell, (c) => ({ hidden: c.hidden, text: c.textContent, digest: c.querySelector("span")?.title || null }));
  const desktop = join(shots, "status-page.png");
  await page.screenshot({ path: desktop, fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  const phone = join(shots, "status-page-phone.png");
  await page.screenshot({ path: phone, fullPage: true });

  console.log(JSON.stringify({ code, queue, qr, pdf_offered: pdfOffered, held, processed_by: processedBy, user_id: me.id, email: me.email, charts: chartPoints, traffic, build, load_ms: loadMs, page_bytes: pageBytes, screenshots: [desktop, phone] }));
} catch (error) {
  // Where the page got stuck, and what it said, beside the error.
  const [page] = browser.contexts().flatMap((context) => context.pages());
  if (page) {
    console.error(`at ${page.url()}: ${await page.textContent("body").catch(() => "")}`.replace(/\s+/g, " ").slice(0, 2000));
  }
  throw error;
} finally {
  await browser.close();
}
