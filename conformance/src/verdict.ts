/**
 * Verdicts (spec §18): a failed MUST case fails; a failed SHOULD or MAY case warns, and fails only
 * under --strict. The expected-failures baseline lets a known failure through and fails on a
 * stale entry, so the baseline shrinks as the target improves.
 */
import type { Level } from "./case.ts";
import type { Report, Verdict } from "./report.ts";
import { UsageError } from "./selection.ts";

export function verdictFor(level: Level, outcome: "pass" | "fail" | "skip", strict: boolean): Verdict {
  if (outcome !== "fail") return outcome;
  return level === "MUST" || strict ? "fail" : "warn";
}

export interface BaselineEntry {
  id: string;
  reason?: string;
}

/**
 * An expected-failures file: a JSON array of case ids or `{id, reason}` objects, a JSON object with
 * such an array under `expected_failures`, or plain text with one case id per line (`#` comments).
 */
export function parseBaseline(text: string, file: string): BaselineEntry[] {
  const trimmed = text.trim();
  if (trimmed.startsWith("[") || trimmed.startsWith("{")) {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (error) {
      throw new UsageError(`--expected-failures ${file}: not valid JSON (${(error as Error).message})`);
    }
    const list = Array.isArray(value) ? value : (value as { expected_failures?: unknown }).expected_failures;
    if (!Array.isArray(list)) throw new UsageError(`--expected-failures ${file}: expected an array of case ids, or {"expected_failures": [...]}`);
    return list.map((item, i) => {
      if (typeof item === "string") return { id: item };
      if (item && typeof item === "object" && typeof (item as BaselineEntry).id === "string") return { id: (item as BaselineEntry).id, reason: (item as BaselineEntry).reason };
      throw new UsageError(`--expected-failures ${file}: entry ${i} is neither a case id nor {"id", "reason"}`);
    });
  }
  return trimmed
    .split("\n")
    .map((line) => line.replace(/#.*$/, "").trim())
    .filter((line) => line !== "")
    .map((id) => ({ id }));
}

export interface Outcome {
  exitCode: 0 | 1;
  /** Failed cases not in the baseline. */
  unexpected: string[];
  /** Failed cases the baseline lists. */
  expected: string[];
  /** Baseline entries for cases that now pass, or that no longer exist. */
  stale: string[];
}

export function evaluate(report: Report, baseline: readonly BaselineEntry[] = [], knownCaseIds?: readonly string[]): Outcome {
  const listed = new Set(baseline.map((e) => e.id));
  const failed = report.cases.filter((c) => c.verdict === "fail").map((c) => c.id);
  const unexpected = failed.filter((id) => !listed.has(id));
  const expected = failed.filter((id) => listed.has(id));
  const known = new Set(knownCaseIds ?? report.cases.map((c) => c.id));
  const stale = [...listed].filter((id) => {
    const result = report.cases.find((c) => c.id === id);
    if (result) return result.verdict === "pass" || result.verdict === "warn";
    return knownCaseIds !== undefined && !known.has(id);
  });
  return { exitCode: unexpected.length > 0 || stale.length > 0 ? 1 : 0, unexpected, expected, stale };
}
