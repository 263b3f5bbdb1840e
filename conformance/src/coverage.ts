/** The requirement → case map and the coverage of the spec's MUST requirements. */
import requirements from "../../spec/requirements.json" with { type: "json" };
import type { Case } from "./case.ts";
import { EXCLUSIONS, type Exclusion } from "./exclusions.ts";

export interface Requirement {
  id: string;
  level: string;
  section: string;
  text: string;
}

export const REQUIREMENTS: readonly Requirement[] = requirements as Requirement[];

const BY_ID = new Map(REQUIREMENTS.map((r) => [r.id, r]));

/** A requirement's sentence as the spec states it, with its key word, for failure output (`PP-HS-004 (MUST): …`). */
export function describeRequirement(id: string): string {
  const r = BY_ID.get(id);
  return r ? `${id} (${r.level}): ${r.text}` : id;
}

export const isMust = (r: Requirement): boolean => /^(MUST|REQUIRED|SHALL)/.test(r.level);

export interface Coverage {
  /** Requirement id → ids of the cases citing it. */
  byRequirement: Map<string, string[]>;
  covered: string[];
  uncovered: string[];
  excluded: string[];
  totalMust: number;
  /** Case citations of ids the spec does not define. */
  unknown: { caseId: string; requirement: string }[];
}

export function coverage(cases: readonly Case[], exclusions: readonly Exclusion[] = EXCLUSIONS, spec: readonly Requirement[] = REQUIREMENTS): Coverage {
  const known = new Set(spec.map((r) => r.id));
  const byRequirement = new Map<string, string[]>();
  const unknown: Coverage["unknown"] = [];
  for (const c of cases)
    for (const id of c.requirements) {
      if (!known.has(id)) unknown.push({ caseId: c.id, requirement: id });
      byRequirement.set(id, [...(byRequirement.get(id) ?? []), c.id]);
    }
  const excludedIds = new Set(exclusions.map((e) => e.requirement));
  const must = spec.filter(isMust);
  return {
    byRequirement,
    covered: must.filter((r) => byRequirement.has(r.id)).map((r) => r.id),
    uncovered: must.filter((r) => !byRequirement.has(r.id) && !excludedIds.has(r.id)).map((r) => r.id),
    excluded: must.filter((r) => excludedIds.has(r.id)).map((r) => r.id),
    totalMust: must.length,
    unknown,
  };
}

/**
 * What one run covered (the report's `coverage`): the MUST requirements its selected cases cite,
 * and of those the ones a case that ran checked. A skipped case, or one the harness could not
 * finish (`error`), checked nothing.
 */
export function runCoverage(results: readonly { requirements: readonly string[]; verdict: string }[], exclusions: readonly Exclusion[] = EXCLUSIONS, spec: readonly Requirement[] = REQUIREMENTS): { covered: number; selected: number; total_must: number; excluded: number } {
  const must = new Set(spec.filter(isMust).map((r) => r.id));
  const cited = (list: readonly { requirements: readonly string[] }[]) => new Set(list.flatMap((r) => r.requirements).filter((id) => must.has(id)));
  const checked = results.filter((r) => r.verdict === "pass" || r.verdict === "fail" || r.verdict === "warn");
  const excluded = new Set(exclusions.map((e) => e.requirement).filter((id) => must.has(id)));
  return { covered: cited(checked).size, selected: cited(results).size, total_must: must.size, excluded: excluded.size };
}
