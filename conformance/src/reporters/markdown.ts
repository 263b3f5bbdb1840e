/** A Markdown summary for CI job pages and pull requests: counts, failures with details, coverage. */
import { coverage } from "../coverage.ts";
import { ALL_CASES } from "../cases/index.ts";
import type { CaseResult, Report } from "../report.ts";
import { failureBody } from "./junit.ts";
import type { RenderContext, Reporter } from "./reporter.ts";

const ICON: Record<CaseResult["verdict"], string> = { pass: "✅", fail: "❌", skip: "⏭️", warn: "⚠️" };
const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function renderMarkdown(report: Report, context: RenderContext): string {
  const s = report.summary;
  const lines = [
    `# peer-conformance: ${report.target}`,
    "",
    `${s.passed} passed, ${s.failed} failed, ${s.warned} warned, ${s.skipped} skipped of ${s.total} cases; seed \`${report.seed}\`; ${(report.duration_ms / 1000).toFixed(1)} s.`,
    "",
    `MUST requirements covered: ${report.coverage.covered} of ${report.coverage.total_must} (${report.coverage.excluded} excluded with a reason).`,
    "",
  ];
  if (context.outcome.expected.length > 0) lines.push(`Expected failures (baseline): ${context.outcome.expected.map((id) => `\`${id}\``).join(", ")}.`, "");
  if (context.outcome.stale.length > 0) lines.push(`**Stale baseline entries** (now passing or unknown): ${context.outcome.stale.map((id) => `\`${id}\``).join(", ")}.`, "");
  for (const note of context.runNotes) lines.push(`> ${note}`, "");
  lines.push("| | case | level | requirements | time |", "| --- | --- | --- | --- | --- |");
  for (const c of report.cases) lines.push(`| ${ICON[c.verdict]} | \`${c.id}\` ${cell(c.title)} | ${c.level} | ${c.requirements.join(", ")} | ${c.duration_ms} ms |`);
  const problems = report.cases.filter((c) => c.verdict === "fail" || c.verdict === "warn");
  if (problems.length > 0) {
    lines.push("", "## Failures and warnings", "");
    for (const c of problems) {
      const baseline = context.outcome.expected.includes(c.id) ? " (expected failure)" : "";
      lines.push(`### ${ICON[c.verdict]} \`${c.id}\`${baseline}`, "", c.title, "", `**${cell(c.message ?? "")}**`, "", "```", failureBody(c), "```", "");
      if (context.replayFiles[c.id]) lines.push(`Replay: \`peer-conformance --replay ${context.replayFiles[c.id]}\``, "");
    }
  }
  const cov = coverage(ALL_CASES);
  if (cov.uncovered.length > 0) lines.push("", "## MUST requirements without a case", "", cov.uncovered.map((id) => `\`${id}\``).join(", "));
  return `${lines.join("\n")}\n`;
}

export function markdownReporter(): Reporter {
  return { name: "markdown", render: renderMarkdown };
}
