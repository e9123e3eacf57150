// Three gates of one event's door in headless Chromium, each a browser of its
// own (its own storage), signed in as staff. Gates 2 and 3 lose the network;
// both let ticket A in offline, gate 2 refuses a cancelled, a forged and another
// event's ticket; gate 1 stays online and lets B in. Then the network comes
// back, gate 2 syncs, gate 3 syncs, gate 2 and gate 1 sync again.
//
// usage: node door-gates.mjs <base-url> <event-id> <codes-json>
//   codes-json: {"a", "b", "revoked", "forged", "other"}: signed codes
// prints one JSON line: {"verdicts": {gate: [verdict...]}, "queued": {gate: n},
//   "reports": {gate: [{code, gate, firstGate}]}}
import { chromium } from "playwright-core";

const [base, eventId, codesJson] = process.argv.slice(2);
if (!codesJson) {
  console.error("usage: node door-gates.mjs <base-url> <event-id> <codes-json>");
  process.exit(2);
}
const codes = JSON.parse(codesJson);
const TIMEOUT = { timeout: 20000 };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
         "--no-first-run", "--disable-component-update", "--disable-sync"],
});

/** A gate: its own browser context, signed in as staff, on the door page. */
async function openGate(name) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/`, { waitUntil: "load" });
  await page.waitForSelector("#dev-sign-in:not([hidden])", TIMEOUT);
  await page.fill("#dev-name", `Door ${name}`);
  await page.check('#dev-sign-in input[name="role"][value="staff"]');
  await page.click('#dev-sign-in button[type="submit"]');
  await page.waitForSelector("#signed-in:not([hidden])", TIMEOUT);
  await page.goto(`${base}/door?event=${eventId}&gate=${name}`, { waitUntil: "load" });
  await page.waitForSelector('#door-status[data-ready="true"]', TIMEOUT);
  return { name, context, page, verdicts: [] };
}

/** Types a code into the gate and waits for its verdict. */
async function scan(gate, code) {
  const before = await gate.page.locator("#results li").count();
  await gate.page.fill("#code", code);
  await gate.page.click('#scan button[type="submit"]');
  await gate.page.waitForFunction((n) => document.querySelectorAll("#results li").length > n, before, TIMEOUT);
  gate.verdicts.push(await gate.page.locator("#results li").first().getAttribute("data-verdict"));
}

/** Syncs and waits until its queue is empty and the sync has finished. */
async function sync(gate) {
  await gate.page.click("#sync");
  await gate.page.waitForFunction(() => document.querySelector("#door-status").dataset.queued === "0", null, TIMEOUT);
  await gate.page.evaluate(() => syncing);
}

const reportsOf = (gate) => gate.page.$$eval("#reports li", (items) =>
  items.map((li) => ({ code: li.dataset.code, gate: li.dataset.gate, firstGate: li.dataset.firstGate })));

try {
  const [one, two, three] = [await openGate("G1"), await openGate("G2"), await openGate("G3")];
  await two.context.setOffline(true);
  await three.context.setOffline(true);

  await scan(two, codes.a);
  await scan(three, codes.a);
  await scan(one, codes.b);
  for (const code of [codes.revoked, codes.forged, codes.other, codes.a]) await scan(two, code);
  const queued = {};
  for (const gate of [one, two, three]) {
    queued[gate.name] = Number(await gate.page.locator("#door-status").getAttribute("data-queued"));
  }

  await two.context.setOffline(false);
  await sync(two);
  await three.context.setOffline(false);
  await sync(three);
  await sync(two);
  await sync(one);

  const reports = {};
  for (const gate of [one, two, three]) reports[gate.name] = await reportsOf(gate);
  const verdicts = Object.fromEntries([one, two, three].map((gate) => [gate.name, gate.verdicts]));
  console.log(JSON.stringify({ verdicts, queued, reports }));
} finally {
  await browser.close();
}
