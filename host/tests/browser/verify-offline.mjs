// `make bench`: how many signed ticket codes a second the door page's own check
// (ticket-check.js) verifies in headless Chromium, with the event's published
// keys and no network in between: the page is loaded, then the browser goes offline.
//
// usage: node verify-offline.mjs <base-url> <event-id> <signed-code> <seconds>
// prints one JSON line: {"checks", "per_second"}
import { chromium } from "playwright-core";

const [base, eventId, signedCode, seconds] = process.argv.slice(2);
if (!seconds) {
  console.error("usage: node verify-offline.mjs <base-url> <event-id> <signed-code> <seconds>");
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
});
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/door`, { waitUntil: "load" });
  const keys = await page.evaluate(async (id) => (await fetch(`/api/tickets/events/${id}/signing-keys`)).json(), eventId);
  await context.setOffline(true);
  const result = await page.evaluate(async ([id, code, document, limitMs]) => {
    const keys = await ticketCheck.importKeys(document);
    const first = await ticketCheck.check(code, id, keys, new Set());
    if (!first.ok) return { error: first.reason };
    let checks = 0;
    const started = performance.now();
    while (performance.now() - started < limitMs) {
      await ticketCheck.check(code, id, keys, new Set());
      checks += 1;
    }
    return { checks, per_second: checks / ((performance.now() - started) / 1000) };
  }, [eventId, signedCode, keys, Number(seconds) * 1000]);
  if (result.error) throw new Error(`the signed code does not check: ${result.error}`);
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
}
