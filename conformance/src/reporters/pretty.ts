/**
 * The default reporter: a progress line on stderr while running (on a TTY only), then the results
 * grouped by spec section, failures with expected/actual (h2spec style) and the trace, the summary.
 */
import type { CaseResult, Report } from "../report.ts";
import type { RunEvent } from "../runner.ts";
import type { RenderContext, Reporter } from "./reporter.ts";

const MARK: Record<CaseResult["verdict"], string> = { pass: "✔", fail: "✘", skip: "-", warn: "!" };
const COLOR: Record<CaseResult["verdict"], number> = { pass: 32, fail: 31, skip: 90, warn: 33 };
const TRACE_LINES = 30;

export function prettyReporter(stream: { isTTY?: boolean; write(text: string): unknown } = process.stderr): Reporter {
  const live = stream.isTTY === true;
  let failures = 0;
  return {
    name: "pretty",
    onEvent(event: RunEvent) {
      if (!live) return;
      if (event.type === "case-start") stream.write(`\r\x1b[2K[${event.index + 1}/${event.total}] ${failures > 0 ? `${failures} failed · ` : ""}${event.case.id}`);
      if (event.type === "case-end" && event.result.verdict === "fail") failures++;
      if (event.type === "end") stream.write("\r\x1b[2K");
    },
    render: renderPretty,
  };
}

export function renderPretty(report: Report, context: RenderContext): string {
  const paint = (code: number, text: string) => (context.color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const out: string[] = [`peer-conformance ${report.version} → ${report.target} (seed ${report.seed})`];
  for (const note of context.runNotes) out.push(paint(33, `note: ${note}`));
  let suite = "";
  for (const c of report.cases) {
    if (c.suite !== suite) {
      suite = c.suite;
      out.push("", paint(1, suite));
    }
    const baseline = c.verdict === "fail" && context.outcome.expected.includes(c.id) ? paint(90, " (expected failure)") : "";
    out.push(`  ${paint(COLOR[c.verdict], MARK[c.verdict])} ${c.id}: ${c.title}${baseline}${c.verdict === "skip" ? paint(90, ` (${c.message ?? "skipped"})`) : ""}`);
    if (c.verdict === "fail" || c.verdict === "warn") {
      out.push(paint(COLOR[c.verdict], `      ${c.message ?? ""}`));
      for (const e of c.expected ?? []) out.push(`      expected: ${e}`);
      if (c.actual !== undefined) out.push(`        actual: ${c.actual}`);
      out.push(paint(90, `      requirements: ${c.requirements.join(", ")}`));
      if (c.counterexample) out.push(`      counterexample: ${c.counterexample}`);
      if (context.replayFiles[c.id]) out.push(`      replay: peer-conformance --replay ${context.replayFiles[c.id]}`);
      const trace = c.trace ?? [];
      for (const t of trace.slice(-TRACE_LINES)) out.push(paint(90, `      ${String(t.at_ms).padStart(6)} ms ${t.dir === "out" ? "→" : "←"} ${t.frame.length > 240 ? `${t.frame.slice(0, 240)}…` : t.frame}`));
      if (trace.length > TRACE_LINES) out.push(paint(90, `      (${trace.length - TRACE_LINES} earlier frames in the json report)`));
    }
  }
  const s = report.summary;
  out.push(
    "",
    `${paint(32, `${s.passed} passed`)}, ${paint(s.failed > 0 ? 31 : 90, `${s.failed} failed`)}, ${paint(s.warned > 0 ? 33 : 90, `${s.warned} warned`)}, ${s.skipped} skipped of ${s.total} in ${(report.duration_ms / 1000).toFixed(1)} s`,
    `MUST requirements covered: ${report.coverage.covered}/${report.coverage.total_must} (${report.coverage.excluded} excluded)`,
  );
  if (context.outcome.expected.length > 0) out.push(`expected failures (baseline): ${context.outcome.expected.join(", ")}`);
  if (context.outcome.stale.length > 0) out.push(paint(31, `stale baseline entries (now passing or unknown; remove them): ${context.outcome.stale.join(", ")}`));
  return `${out.join("\n")}\n`;
}
