/**
 * The run report: what every reporter renders and what `--reporter json` writes. Its shape is the
 * report schema of schemas/ (`ReportSchema`, checked by `validateReport`).
 */
import type { CaseResult, Report, TraceEntry } from "../../schemas/src/index.ts";

export type { CaseResult, Report, TraceEntry };
export type Verdict = CaseResult["verdict"];

export const TOOL_VERSION = "0.1.0";

export function summarize(cases: readonly CaseResult[]): Report["summary"] {
  const count = (verdict: Verdict) => cases.filter((c) => c.verdict === verdict).length;
  return { passed: count("pass"), failed: count("fail"), skipped: count("skip"), warned: count("warn"), errors: count("error"), total: cases.length };
}
