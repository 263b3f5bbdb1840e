/**
 * The console reporter: the results grouped by spec section; a failure with the requirements'
 * text, expected vs actual (h2spec style), the counterexample and the wire trace of both
 * directions, each record with the plaintext under it; then the summary and what this run covered.
 * Progress while the run goes is progress.ts's, on stderr.
 */
import { describeRequirement } from "../coverage.ts";
import type { CaseResult, Report } from "../report.ts";
import { traceLines } from "./junit.ts";
import type { RenderContext, Reporter } from "./reporter.ts";

export const MARK: Record<CaseResult["verdict"], string> = { pass: "✔", fail: "✘", skip: "-", warn: "!", error: "E" };
const COLOR: Record<CaseResult["verdict"], number> = { pass: 32, fail: 31, skip: 90, warn: 33, error: 35 };
const TRACE_ENTRIES = 30;
const TRACE_LINE_CHARS = 240;

export function prettyReporter(): Reporter {
  return { name: "pretty", render: renderPretty };
}

/** The coverage line: what this run's cases checked, not what the whole catalogue could. */
export function coverageLine(report: Report): string {
  const c = report.coverage;
  return `MUST requirements checked by this run: ${c.covered} of the ${c.selected} its cases cite (the spec has ${c.total_must}; ${c.excluded} excluded from testing with a reason)`;
}

export function renderPretty(report: Report, context: RenderContext): string {
  const paint = (code: number, text: string) => (context.color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const out: string[] = [`peer-conformance ${report.version} → ${report.target}${report.peer_target !== undefined ? ` + ${report.peer_target} (peer target)` : ""} (seed ${report.seed})`];
  for (const note of context.runNotes) out.push(paint(33, `note: ${note}`));
  const expected = new Set((report.baseline?.expected ?? []).map((e) => e.id));
  let suite = "";
  for (const c of report.cases) {
    if (c.suite !== suite) {
      suite = c.suite;
      out.push("", paint(1, suite));
    }
    const baseline = c.verdict === "fail" && expected.has(c.id) ? paint(90, " (expected failure)") : "";
    const label = c.verdict === "error" ? paint(35, " (harness error: no verdict on the target)") : "";
    out.push(`  ${paint(COLOR[c.verdict], MARK[c.verdict])} ${c.id}: ${c.title}${baseline}${label}${c.verdict === "skip" ? paint(90, ` (${c.message ?? "skipped"})`) : ""}`);
    if (c.verdict === "fail" || c.verdict === "warn" || c.verdict === "error") {
      out.push(paint(COLOR[c.verdict], `      ${c.message ?? ""}`));
      for (const e of c.expected ?? []) out.push(`      expected: ${e}`);
      if (c.actual !== undefined) out.push(`        actual: ${c.actual}`);
      for (const id of c.requirements) out.push(paint(90, `      ${describeRequirement(id)}`));
      if (c.counterexample) out.push(`      counterexample: ${c.counterexample}`);
      if (context.replayFiles[c.id]) out.push(`      replay: peer-conformance --replay ${context.replayFiles[c.id]}`);
      const trace = c.trace ?? [];
      if (trace.length > TRACE_ENTRIES) out.push(paint(90, `      (${trace.length - TRACE_ENTRIES} earlier frames: see the json or html report)`));
      for (const t of trace.slice(-TRACE_ENTRIES)) for (const line of traceLines(t, TRACE_LINE_CHARS)) out.push(paint(90, `      ${line}`));
    }
  }
  const s = report.summary;
  out.push(
    "",
    `${paint(32, `${s.passed} passed`)}, ${paint(s.failed > 0 ? 31 : 90, `${s.failed} failed`)}, ${paint(s.warned > 0 ? 33 : 90, `${s.warned} warned`)}, ${s.skipped} skipped${s.errors > 0 ? `, ${paint(35, `${s.errors} harness error${s.errors === 1 ? "" : "s"}`)}` : ""} of ${s.total} in ${(report.duration_ms / 1000).toFixed(1)} s`,
    coverageLine(report),
  );
  if (report.baseline && report.baseline.expected.length > 0) out.push(`expected failures (baseline ${report.baseline.file}): ${report.baseline.expected.map((e) => e.id).join(", ")}`);
  if (report.baseline && report.baseline.stale.length > 0) out.push(paint(31, `stale baseline entries (remove them): ${report.baseline.stale.map((e) => `${e.id} (${e.why})`).join(", ")}`));
  if (report.aborted) out.push(paint(31, `run aborted: ${report.aborted}`));
  return `${out.join("\n")}\n`;
}
