// Each domain's traffic over the last five minutes (requests per second, share
// of server errors, p99 latency), from the Prometheus the platform is configured
// with. Without one, its columns stay hidden and it is never asked again.
"use strict";

const TRAFFIC_REFRESH_MS = 15000;
const trafficByDomain = new Map();
let trafficState = "off"; // "off" (no Prometheus), "on", or "unavailable" (it did not answer)

/** Asks for the figures once; says whether there is a Prometheus to keep asking. */
async function refreshTraffic() {
  try {
    const traffic = await api("GET", "/api/status/traffic");
    if (!traffic.configured) {
      trafficState = "off";
      return false;
    }
    trafficByDomain.clear();
    for (const c of traffic.components) trafficByDomain.set(c.name, c);
    trafficState = "on";
  } catch {
    trafficState = "unavailable";
  }
  for (const heading of document.querySelectorAll("th.traffic")) heading.hidden = false;
  return true;
}

function startTraffic() {
  refreshTraffic().then((configured) => {
    if (configured) setInterval(refreshTraffic, TRAFFIC_REFRESH_MS);
  });
}

/** A domain's three traffic cells, for its row of the health table. */
function trafficCells(name) {
  const figures = trafficByDomain.get(name) || {};
  const shown = (value, format) => {
    if (trafficState === "unavailable") return "?";
    return value == null ? "—" : format(value);
  };
  const cells = [
    ["Requests", shown(figures.requests_per_second, (v) => `${v.toFixed(2)}/s`)],
    ["Errors", shown(figures.error_ratio, (v) => `${(v * 100).toFixed(1)}%`)],
    ["p99", shown(figures.p99_ms, (v) => `${v.toFixed(1)} ms`)],
  ];
  return cells.map(([label, text]) => {
    const cell = element("td", { "data-label": label, class: "mono traffic", text });
    cell.hidden = trafficState === "off";
    if (trafficState === "unavailable") cell.title = "Prometheus did not answer";
    return cell;
  });
}
