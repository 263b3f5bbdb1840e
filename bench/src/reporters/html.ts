/**
 * A self-contained HTML report a person can open: inline CSS and inline SVG charts (throughput and
 * latency, peer against the raw ws baseline), the tables of the markdown report, and the raw JSON
 * embedded for reference. No script, no CDN.
 */
import type { BenchReport, ScenarioResult } from "../report-schema.ts";
import { baselineTable, columnsFor, LEGEND, loadLine, machineLine, optionsLine, percentileTables, targetRows } from "./format.ts";
import { barChart, COLORS, distributionChart, escapeXml, lineChart } from "./svg.ts";

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1180px;color:#111827;padding:0 16px}
h1{font-size:22px;margin:0 0 8px}h2{font-size:18px;margin:32px 0 6px;border-bottom:1px solid #e5e7eb;padding-bottom:4px}
table{border-collapse:collapse;margin:10px 0;font-size:12px;font-variant-numeric:tabular-nums}
th,td{border:1px solid #e5e7eb;padding:3px 6px;vertical-align:top}th{background:#f9fafb;text-align:left}td.r{text-align:right;white-space:nowrap}
.holds{color:#047857;font-weight:600}.fails{color:#b91c1c;font-weight:600}.muted{color:#6b7280}.warn{background:#fef3c7;padding:6px 10px;border-radius:4px}
.charts{display:flex;flex-wrap:wrap;gap:18px;margin:8px 0}svg{max-width:100%;height:auto}
svg .title{font-size:13px;font-weight:600}svg .small{font-size:11px;fill:#374151}svg .tiny{font-size:9px;fill:#374151}svg .grid{stroke:#e5e7eb}
details{margin-top:24px}pre{background:#f9fafb;padding:8px;overflow:auto;font-size:11px;max-height:400px}`;

function table(scenario: ScenarioResult): string {
  const columns = columnsFor(scenario);
  const head = columns.map((c) => `<th>${escapeXml(c.title)}</th>`).join("");
  const rows = scenario.measurements.map((m) => `<tr>${columns.map((c) => `<td${c.align === "right" ? ' class="r"' : ""}>${escapeXml(c.cell(m))}</td>`).join("")}</tr>`).join("");
  return `<table><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>`;
}

/** A measurement label short enough for a chart axis; the table keeps the full one. */
export function compactLabel(label: string): string {
  return label
    .replace("TASK_REQUEST echo", "TASK echo")
    .replace("PEER_MESSAGE to self", "MSG to self")
    .replace(/pipelined \((\d+) in flight\)/, "pipe $1")
    .replace(/open loop at (\d+)% of max \(([\d,]+)\/s\)/, "open $1% ($2/s)")
    .replace(/ conns?,/, "c,")
    .replace(" (connect + handshake)", "");
}

function charts(scenario: ScenarioResult): string[] {
  const ms = scenario.measurements;
  if (ms.length === 0) return [];
  const labels = ms.map((m) => compactLabel(m.label));
  const out: string[] = [];
  const unit = { handshake: "handshakes/s", echo: "messages/s", tail: "messages/s", fanout: "deliveries/s", sessions: "sessions/s", resume: "operations/s", http: "requests/s", cluster: "messages/s or deliveries/s", workers: "messages/s or handshakes/s" }[scenario.name];
  if (scenario.name === "handshake") {
    const xs = ms.map((m) => String(m.params.concurrency));
    out.push(lineChart({ title: "Handshakes per second by concurrency", xs, xLabel: "concurrent handshakes", yLabel: "handshakes/s", series: [{ name: "Peer Protocol", color: COLORS.peer, values: ms.map((m) => m.peer.throughputPerSec) }, { name: "raw ws (3 round trips)", color: COLORS.raw, values: ms.map((m) => m.raw?.throughputPerSec ?? null) }] }));
    out.push(lineChart({ title: "Handshake latency p99 by concurrency (ms)", xs, xLabel: "concurrent handshakes", yLabel: "ms", series: [{ name: "Peer Protocol", color: COLORS.peer, values: ms.map((m) => m.peer.latencyMs?.p99 ?? null) }, { name: "raw ws", color: COLORS.raw, values: ms.map((m) => m.raw?.latencyMs?.p99 ?? null) }] }));
    return out;
  }
  if (scenario.name !== "sessions") {
    out.push(barChart({ title: `Throughput (${unit})`, categories: labels, series: [{ name: "Peer Protocol", color: COLORS.peer, values: ms.map((m) => m.peer.throughputPerSec) }, { name: "raw baseline", color: COLORS.raw, values: ms.map((m) => m.raw?.throughputPerSec ?? null) }, ...(ms.some((m) => m.baselines?.floor) ? [{ name: "protocol floor", color: COLORS.floor, values: ms.map((m) => m.baselines?.floor?.throughputPerSec ?? null) }] : []), ...(ms.some((m) => m.baselines?.socketio) ? [{ name: "Socket.IO", color: COLORS.socketio, values: ms.map((m) => m.baselines?.socketio?.throughputPerSec ?? null) }] : [])], unit, log: true }));
  }
  out.push(
    barChart({
      title: "Latency p50 and p99 (ms)",
      categories: labels,
      series: [
        { name: "Peer p50", color: COLORS.peer, values: ms.map((m) => m.peer.latencyMs?.p50 ?? null) },
        { name: "Peer p99", color: COLORS.peer2, values: ms.map((m) => m.peer.latencyMs?.p99 ?? null) },
        { name: "raw p50", color: COLORS.raw, values: ms.map((m) => m.raw?.latencyMs?.p50 ?? null) },
        { name: "raw p99", color: COLORS.raw2, values: ms.map((m) => m.raw?.latencyMs?.p99 ?? null) },
      ],
      unit: "ms",
      log: true,
    }),
  );
  if (scenario.name === "sessions") {
    out.push(barChart({ title: "Server RSS per session (bytes)", categories: ["RSS per session / connection"], series: [{ name: "Peer Protocol session", color: COLORS.peer, values: [ms[0]?.peer.extra.rssPerSessionBytes ?? null] }, { name: "raw ws connection", color: COLORS.raw, values: [ms[0]?.raw?.extra.rssPerSessionBytes ?? null] }], unit: "bytes" }));
  }
  for (const m of ms.filter((m) => m.params.mode === "open" || scenario.name === "fanout" || scenario.name === "resume")) {
    out.push(distributionChart({ title: `Latency distribution: ${m.label}`, series: [{ name: "Peer Protocol", color: COLORS.peer, points: m.peer.distribution }, { name: "raw baseline", color: COLORS.raw, points: m.raw?.distribution ?? [] }, ...(m.baselines?.floor ? [{ name: "protocol floor", color: COLORS.floor, points: m.baselines.floor.distribution }] : []), ...(m.baselines?.socketio ? [{ name: "Socket.IO", color: COLORS.socketio, points: m.baselines.socketio.distribution }] : [])] }));
  }
  return out;
}

function plainTable(header: string[], rows: string[][]): string {
  const cell = (tag: string, text: string, i: number) => `<${tag}${i > 0 ? ' class="r"' : ""}>${escapeXml(text)}</${tag}>`;
  return `<table><thead><tr>${header.map((h, i) => cell("th", h, i)).join("")}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c, i) => cell("td", c, i)).join("")}</tr>`).join("")}</tbody></table>`;
}

export function renderHtml(report: BenchReport): string {
  const parts: string[] = [];
  parts.push(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>peer-bench ${escapeXml(report.startedAt)}</title><style>${CSS}</style></head><body>`);
  parts.push(`<h1>peer-bench: ${escapeXml(report.target.kind)} target vs raw ws baseline</h1>`);
  parts.push(`<p class="muted">${escapeXml(report.startedAt)} · ${escapeXml(machineLine(report))}<br>${escapeXml(optionsLine(report))}<br>Target ${escapeXml(report.target.url)} (server id <code>${escapeXml(report.target.serverId)}</code>)</p>`);
  parts.push(`<p class="muted">${escapeXml(loadLine(report))}</p>`);
  parts.push(`<p class="muted">${escapeXml(LEGEND)}</p>`);
  for (const warning of report.warnings) parts.push(`<p class="warn">${escapeXml(warning)}</p>`);
  parts.push("<h2>Targets</h2><table><thead><tr><th>target</th><th>threshold</th><th>measured</th><th>verdict</th><th>basis</th></tr></thead><tbody>");
  for (const row of targetRows(report.targets)) {
    const verdict = row[3] ?? "";
    parts.push(`<tr><td>${escapeXml(row[0] ?? "")}</td><td>${escapeXml(row[1] ?? "")}</td><td class="r">${escapeXml(row[2] ?? "")}</td><td class="${verdict === "holds" ? "holds" : verdict === "FAILS" ? "fails" : "muted"}">${escapeXml(verdict)}</td><td>${escapeXml(row[4] ?? "")}</td></tr>`);
  }
  parts.push("</tbody></table>");
  for (const scenario of report.scenarios) {
    parts.push(`<h2>${escapeXml(scenario.title)} <span class="muted">(${escapeXml(scenario.name)}, ${(scenario.durationMs / 1000).toFixed(1)} s)</span></h2><p>${escapeXml(scenario.description)}</p>`);
    if (scenario.error) parts.push(`<p class="warn">Stopped early: ${escapeXml(scenario.error)}</p>`);
    parts.push(`<div class="charts">${charts(scenario).join("")}</div>`);
    if (scenario.measurements.length > 0) parts.push(table(scenario));
    const baselines = baselineTable(scenario);
    if (baselines) parts.push(`<h3>Against every baseline</h3>${plainTable(baselines.header, baselines.rows)}`);
    for (const t of percentileTables(scenario)) parts.push(`<h3>${escapeXml(t.title)}</h3>${plainTable(t.header, t.rows)}`);
    if (scenario.notes.length > 0) parts.push(`<ul>${scenario.notes.map((n) => `<li>${escapeXml(n)}</li>`).join("")}</ul>`);
  }
  parts.push(`<details><summary>JSON report</summary><pre>${escapeXml(JSON.stringify(report, null, 1))}</pre></details>`);
  parts.push("</body></html>");
  return parts.join("\n");
}
