// Each domain's recent health, kept in the page only: every check's latency and
// state for the last five minutes, drawn as a small chart beside the domain.
"use strict";

const HISTORY_POINTS = 100; // five minutes of checks, one every three seconds
const SVG = "http://www.w3.org/2000/svg";
const healthHistory = new Map();

/** Adds one check of every domain to the history. */
function rememberHealth(components, at = Date.now()) {
  for (const c of components) {
    const points = healthHistory.get(c.name) || [];
    points.push({ at, latency: c.latency_ms, status: c.status });
    healthHistory.set(c.name, points.slice(-HISTORY_POINTS));
  }
}

function svgElement(tag, attributes) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

/** A domain's chart: latency as a line (scaled to its highest), state as a strip beneath. */
function historyChart(name) {
  const points = healthHistory.get(name) || [];
  const width = 120;
  const height = 28;
  const strip = 4;
  const highest = Math.max(1, ...points.map((p) => p.latency || 0));
  const step = width / (HISTORY_POINTS - 1);
  // The newest check at the right edge; the chart fills leftwards over five minutes.
  const x = (i) => width - (points.length - 1 - i) * step;
  const y = (latency) => height - strip - 2 - ((latency || 0) / highest) * (height - strip - 4);
  const latencies = points.map((p) => p.latency).filter((l) => l != null);
  const label = latencies.length
    ? `${name}: ${points.length} checks, latency ${Math.min(...latencies).toFixed(1)} to ${Math.max(...latencies).toFixed(1)} ms`
    : `${name}: ${points.length} checks, no answer`;
  const chart = svgElement("svg", { class: "history", viewBox: `0 0 ${width} ${height}`, width, height,
    role: "img", "aria-label": label, "data-points": points.length });
  const title = svgElement("title", {});
  title.textContent = label;
  chart.append(title, svgElement("rect", { x: 0, y: height - strip, width, height: strip, class: "track" }));
  const line = points.map((p, i) => (p.latency == null ? null : `${x(i).toFixed(1)},${y(p.latency).toFixed(1)}`)).filter(Boolean);
  if (line.length > 1) {
    chart.append(svgElement("polyline", { points: line.join(" "), class: "latency" }));
  }
  points.forEach((p, i) => chart.append(svgElement("rect", {
    x: x(i) - step / 2, y: height - strip, width: step, height: strip, class: `state ${p.status}`,
  })));
  return chart;
}
