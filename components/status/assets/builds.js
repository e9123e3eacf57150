// Each component's live build (its wasm's content digest) and when it was last
// swapped in, from the host's own report. `eventos up --watch` swaps builds as
// their sources change; a host without the report (Spin) leaves the column hidden.
"use strict";

const BUILDS_PATH = "/.well-known/eventos/builds";
const buildByComponent = new Map();
let buildsReported = true;

/** Reads the report, once per health refresh; stops asking a host that has none. */
async function refreshBuilds() {
  if (!buildsReported) return;
  try {
    const response = await fetch(BUILDS_PATH, { cache: "no-store" });
    if (!response.ok) throw new Error(`${response.status}`);
    buildByComponent.clear();
    for (const b of await response.json()) buildByComponent.set(b.component, b);
  } catch {
    buildsReported = false;
  }
  for (const heading of document.querySelectorAll("th.build")) heading.hidden = !buildsReported;
}

/** A component's build cell: a short digest, when it was swapped in, and a build that failed since. */
function buildCell(name) {
  const build = buildByComponent.get(name);
  const cell = element("td", { "data-label": "Build", class: "mono build" });
  cell.hidden = !buildsReported;
  if (!build) {
    cell.textContent = "—";
    return cell;
  }
  const digest = build.build.replace(/^sha256:/, "").slice(0, 12);
  cell.append(element("span", { title: build.build, text: digest }));
  if (build.swapped_at) {
    cell.append(element("span", { class: "hint", text: ` swapped ${new Date(build.swapped_at).toLocaleTimeString()}` }));
  }
  if (build.failed_build) {
    const failed = element("span", { class: "badge", "data-status": "degraded", text: "! build failed" });
    failed.title = build.failed_build.reason;
    cell.append(" ", failed);
  }
  return cell;
}
