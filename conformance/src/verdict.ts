/**
 * Verdicts (spec §18): a failed MUST case fails; a failed SHOULD or MAY case warns, and fails only
 * under --strict. The expected-failures baseline lets a known failure through and fails on a
 * stale entry, so the baseline shrinks as the target improves.
 */
import type { Level } from "./case.ts";
import type { Report, Verdict } from "./report.ts";
import { UsageError } from "./selection.ts";

export function verdictFor(level: Level, outcome: "pass" | "fail" | "skip" | "error", strict: boolean): Verdict {
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

export interface StaleEntry {
  id: string;
  why: "passes" | "unknown case";
}

export interface Outcome {
  /** 0 every required case passed; 1 a case failed unexpectedly or the baseline is stale; 2 the harness failed (a case ended in `error`, or the run was aborted). */
  exitCode: 0 | 1 | 2;
  /** Failed cases not in the baseline. */
  unexpected: string[];
  /** Failed cases the baseline lists. */
  expected: string[];
  /** Baseline entries for cases that now pass, or that no longer exist. */
  stale: string[];
  /** The same stale entries, each with why it is stale. */
  staleEntries: StaleEntry[];
  /** Cases the harness could not finish: no verdict on the target. */
  errors: string[];
}

/**
 * The run's outcome against a baseline. A harness error outranks everything: with a case the runner
 * could not finish, or a run aborted, no "all required cases passed" can be claimed (exit 2); then
 * unexpected failures and stale entries fail the run (exit 1).
 */
export function evaluate(report: Report, baseline: readonly BaselineEntry[] = [], knownCaseIds?: readonly string[]): Outcome {
  const listed = new Set(baseline.map((e) => e.id));
  const failed = report.cases.filter((c) => c.verdict === "fail").map((c) => c.id);
  const unexpected = failed.filter((id) => !listed.has(id));
  const expected = failed.filter((id) => listed.has(id));
  const errors = report.cases.filter((c) => c.verdict === "error").map((c) => c.id);
  const known = new Set(knownCaseIds ?? report.cases.map((c) => c.id));
  const staleEntries: StaleEntry[] = [];
  for (const id of listed) {
    const result = report.cases.find((c) => c.id === id);
    if (result) {
      if (result.verdict === "pass" || result.verdict === "warn") staleEntries.push({ id, why: "passes" });
    } else if (knownCaseIds !== undefined && !known.has(id)) staleEntries.push({ id, why: "unknown case" });
  }
  const stale = staleEntries.map((e) => e.id);
  const exitCode = errors.length > 0 || report.aborted !== undefined ? 2 : unexpected.length > 0 || stale.length > 0 ? 1 : 0;
  return { exitCode, unexpected, expected, stale, staleEntries, errors };
}

/** The report's `baseline` member: what the baseline expected that happened, and what no longer holds. */
export function baselineSection(file: string, baseline: readonly BaselineEntry[], outcome: Outcome): NonNullable<Report["baseline"]> {
  const reasons = new Map(baseline.map((e) => [e.id, e.reason]));
  return {
    file,
    expected: outcome.expected.map((id) => (reasons.get(id) ? { id, reason: reasons.get(id)! } : { id })),
    stale: outcome.staleEntries.map((e) => ({ ...e })),
  };
}

/** Baseline entries naming no case: a typo is a usage error before the run, not a stale entry after it. */
export function checkBaselineIds(baseline: readonly BaselineEntry[], knownCaseIds: readonly string[], file: string): void {
  const known = new Set(knownCaseIds);
  const unknown = baseline.map((e) => e.id).filter((id) => !known.has(id));
  if (unknown.length > 0) throw new UsageError(`--expected-failures ${file}: ${unknown.map((id) => `'${id}'`).join(", ")} ${unknown.length === 1 ? "is not a case id" : "are not case ids"} (see --list)`);
}
