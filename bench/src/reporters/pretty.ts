/** Plain-text tables for a terminal: one table per scenario, then the targets. */
import type { BenchReport } from "../report-schema.ts";
import { baselineTable, columnsFor, LEGEND, loadLine, machineLine, optionsLine, percentileTables, targetRows } from "./format.ts";

function table(header: string[], rows: string[][], align: ("left" | "right")[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => (align[i] === "right" ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join("  ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

export function renderPretty(report: BenchReport): string {
  const out: string[] = [];
  out.push(`peer-bench — ${report.target.kind} target ${report.target.url} (server id ${report.target.serverId}) vs raw ws, protocol floor and Socket.IO baselines, same run`);
  out.push(machineLine(report));
  out.push(optionsLine(report));
  out.push(loadLine(report));
  out.push(LEGEND);
  for (const warning of report.warnings) out.push(`WARNING: ${warning}`);
  for (const scenario of report.scenarios) {
    out.push("", `== ${scenario.title} (${scenario.name}, ${(scenario.durationMs / 1000).toFixed(1)} s)`);
    if (scenario.error) out.push(`   stopped early: ${scenario.error}`);
    if (scenario.measurements.length > 0) {
      const columns = columnsFor(scenario);
      out.push(table(columns.map((c) => c.title), scenario.measurements.map((m) => columns.map((c) => c.cell(m))), columns.map((c) => c.align)));
    }
    const baselines = baselineTable(scenario);
    if (baselines) out.push("", "   against every baseline ('!' = client-bound):", table(baselines.header, baselines.rows, baselines.align));
    for (const t of percentileTables(scenario)) out.push("", `   ${t.title}`, table(t.header, t.rows, t.align));
    for (const m of scenario.measurements) for (const sample of m.peer.errorSamples.slice(0, 2)) out.push(`   ${m.id}: ${sample}`);
  }
  out.push("", "== Targets");
  out.push(table(["target", "threshold", "measured", "verdict", "basis"], targetRows(report.targets), ["left", "left", "right", "left", "left"]));
  return out.join("\n") + "\n";
}
