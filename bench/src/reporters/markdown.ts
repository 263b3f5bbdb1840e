/** GitHub-flavoured markdown: the machine, one table per scenario with its notes, the targets. */
import type { BenchReport } from "../report-schema.ts";
import { baselineTable, columnsFor, LEGEND, loadLine, machineLine, optionsLine, percentileTables, targetRows } from "./format.ts";

const escape = (text: string) => text.replaceAll("|", "\\|");

function table(header: string[], rows: string[][], align: ("left" | "right")[]): string {
  return [`| ${header.map(escape).join(" | ")} |`, `| ${align.map((a) => (a === "right" ? "---:" : "---")).join(" | ")} |`, ...rows.map((r) => `| ${r.map(escape).join(" | ")} |`)].join("\n");
}

export function renderMarkdown(report: BenchReport): string {
  const out: string[] = [];
  out.push(`## peer-bench: ${report.target.kind} target vs raw ws, ${report.startedAt.slice(0, 10)}`, "");
  out.push(`- Machine: ${machineLine(report)}`);
  out.push(`- Run: ${optionsLine(report)}; ${(report.durationMs / 1000).toFixed(0)} s in all`);
  out.push(`- ${loadLine(report)}`);
  out.push(`- Target: ${report.target.url} (server id \`${report.target.serverId}\`)`);
  out.push(`- ${LEGEND}`);
  for (const warning of report.warnings) out.push(`- **Warning:** ${warning}`);
  out.push("", "### Targets", "", table(["target", "threshold", "measured", "verdict", "basis"], targetRows(report.targets), ["left", "left", "right", "left", "left"]));
  for (const scenario of report.scenarios) {
    out.push("", `### ${scenario.title} (\`${scenario.name}\`)`, "", scenario.description, "");
    if (scenario.error) out.push(`**Stopped early:** ${scenario.error}`, "");
    if (scenario.measurements.length > 0) {
      const columns = columnsFor(scenario);
      out.push(table(columns.map((c) => c.title), scenario.measurements.map((m) => columns.map((c) => c.cell(m))), columns.map((c) => c.align)));
    }
    const baselines = baselineTable(scenario);
    if (baselines) out.push("", "Against every baseline ('!' = client-bound):", "", table(baselines.header, baselines.rows, baselines.align));
    for (const t of percentileTables(scenario)) out.push("", `${t.title}:`, "", table(t.header, t.rows, t.align));
    const notes = [...scenario.notes, ...scenario.measurements.flatMap((m) => m.peer.errorSamples.slice(0, 2).map((s) => `${m.id}: ${s}`))];
    if (notes.length > 0) out.push("", ...notes.map((n) => `- ${n}`));
  }
  return out.join("\n") + "\n";
}
