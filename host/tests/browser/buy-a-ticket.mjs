// Opens the status page in headless Chromium, waits for every domain to be
// healthy, buys a ticket through the box office, and saves screenshots.
//
// usage: node buy-a-ticket.mjs <base-url> <event-id> <ticket-type-id> <buyer-id> <screenshot-dir>
// prints one JSON line: {"code", "processed_by", "load_ms", "page_bytes", "screenshots"}
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const [base, eventId, ticketTypeId, buyerId, shots] = process.argv.slice(2);
if (!shots) {
  console.error("usage: node buy-a-ticket.mjs <base-url> <event-id> <ticket-type-id> <buyer-id> <screenshot-dir>");
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
  await page.selectOption("#buyer", buyerId);
  await page.click(`[data-ticket-type-id="${ticketTypeId}"] button.buy-button`);
  await page.waitForSelector("#receipt:not([hidden])", { timeout: 20000 });
  const code = (await page.textContent("#ticket-code")).trim();
  const processedBy = (await page.textContent("#processed-by")).trim();

  const desktop = join(shots, "status-page.png");
  await page.screenshot({ path: desktop, fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  const phone = join(shots, "status-page-phone.png");
  await page.screenshot({ path: phone, fullPage: true });

  console.log(JSON.stringify({ code, processed_by: processedBy, load_ms: loadMs, page_bytes: pageBytes, screenshots: [desktop, phone] }));
} finally {
  await browser.close();
}
