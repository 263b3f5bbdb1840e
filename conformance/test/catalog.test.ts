/** The case catalogue: ids, requirement citations, levels and exclusions agree with the spec. */
import { describe, expect, test } from "vitest";
import { ALL_CASES } from "../src/cases/index.ts";
import { coverage, isMust, REQUIREMENTS } from "../src/coverage.ts";
import { EXCLUSIONS } from "../src/exclusions.ts";

const byId = new Map(REQUIREMENTS.map((r) => [r.id, r]));

describe("the case catalogue", () => {
  test("case ids are unique and fit the report's id pattern", () => {
    const ids = ALL_CASES.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
  });

  test("every case cites at least one requirement, and only ids the spec defines, without repeats", () => {
    for (const c of ALL_CASES) {
      expect(c.requirements.length, c.id).toBeGreaterThan(0);
      expect(new Set(c.requirements).size, c.id).toBe(c.requirements.length);
      for (const id of c.requirements) expect(byId.has(id), `${c.id} cites ${id}`).toBe(true);
    }
    expect(coverage(ALL_CASES).unknown).toEqual([]);
  });

  test("a MUST case cites a MUST requirement; a SHOULD case cites only SHOULD or MAY requirements", () => {
    for (const c of ALL_CASES) {
      const levels = c.requirements.map((id) => byId.get(id)!);
      if (c.level === "MUST") expect(levels.some(isMust), c.id).toBe(true);
      else expect(levels.some(isMust), c.id).toBe(false);
    }
  });

  test("every exclusion names a MUST requirement of the spec, once, with a reason, and no case claims it", () => {
    const covered = new Set(ALL_CASES.flatMap((c) => c.requirements));
    const seen = new Set<string>();
    for (const e of EXCLUSIONS) {
      expect(byId.has(e.requirement), e.requirement).toBe(true);
      expect(isMust(byId.get(e.requirement)!), e.requirement).toBe(true);
      expect(e.reason.length).toBeGreaterThan(10);
      expect(seen.has(e.requirement), e.requirement).toBe(false);
      expect(covered.has(e.requirement), `${e.requirement} is excluded but cited by a case`).toBe(false);
      seen.add(e.requirement);
    }
  });

  test("coverage counts every MUST requirement once as covered, excluded or uncovered", () => {
    const cov = coverage(ALL_CASES);
    expect(cov.covered.length + cov.excluded.length + cov.uncovered.length).toBe(cov.totalMust);
  });
});
