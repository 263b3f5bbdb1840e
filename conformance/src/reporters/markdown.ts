/** A Markdown summary for CI job pages and pull requests: counts, failures with details, coverage. */
import type { CaseResult, Report } from "../report.ts";
import { failureBody } from "./junit.ts";
import { coverageLine } from "./pretty.ts";
import type { RenderContext, Reporter } from "./reporter.ts";

const ICON: Record<CaseResult["verdict"], string> = { pass: "✅", fail: "❌", skip: "⏭️", warn: "⚠️", error: "💥" };
const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function renderMarkdown(report: Report, context: RenderContext): string {
  const s = report.summary;
  const lines = [
    `# peer-conformance: ${report.target}`,
    "",
    ...(report.peer_target !== undefined ? [`Peer target (a second node of the same deployment): ${report.peer_target}`, ""] : []),
    `${s.passed} passed, ${s.failed} failed, ${s.warned} warned, ${s.skipped} skipped${s.errors > 0 ? `, ${s.errors} harness error${s.errors === 1 ? "" : "s"}` : ""} of ${s.total} cases; seed \`${report.seed}\`; ${(report.duration_ms / 1000).toFixed(1)} s.`,
    "",
    `${coverageLine(report)}.`,
    "",
  ];
  if (report.aborted) lines.push(`**Run aborted:** ${report.aborted}`, "");
  if (report.baseline && report.baseline.expected.length > 0) lines.push(`Expected failures (baseline \`${report.baseline.file}\`): ${report.baseline.expected.map((e) => `\`${e.id}\`${e.reason ? ` (${cell(e.reason)})` : ""}`).join(", ")}.`, "");
  if (report.baseline && report.baseline.stale.length > 0) lines.push(`**Stale baseline entries** (remove them): ${report.baseline.stale.map((e) => `\`${e.id}\` (${e.why})`).join(", ")}.`, "");
  for (const note of context.runNotes) lines.push(`> ${note}`, "");
  lines.push("| | case | level | requirements | time |", "| --- | --- | --- | --- | --- |");
  for (const c of report.cases) lines.push(`| ${ICON[c.verdict]} | \`${c.id}\` ${cell(c.title)} | ${c.level} | ${c.requirements.join(", ")} | ${c.duration_ms} ms |`);
  const problems = report.cases.filter((c) => c.verdict === "fail" || c.verdict === "warn" || c.verdict === "error");
  const expected = new Set((report.baseline?.expected ?? []).map((e) => e.id));
  if (problems.length > 0) {
    lines.push("", "## Failures, warnings and harness errors", "");
    for (const c of problems) {
      const baseline = expected.has(c.id) ? " (expected failure)" : c.verdict === "error" ? " (harness error: no verdict on the target)" : "";
      lines.push(`### ${ICON[c.verdict]} \`${c.id}\`${baseline}`, "", c.title, "", `**${cell(c.message ?? "")}**`, "", "```", failureBody(c), "```", "");
      if (context.replayFiles[c.id]) lines.push(`Replay: \`peer-conformance --replay ${context.replayFiles[c.id]}\``, "");
    }
  }
  return `${lines.join("\n")}\n`;
}

export function markdownReporter(): Reporter {
  return { name: "markdown", render: renderMarkdown };
}
