import { describe, expect, test } from "vitest";
import type { CaseResult, Report } from "../src/report.ts";
import { UsageError } from "../src/selection.ts";
import { baselineSection, checkBaselineIds, evaluate, parseBaseline, verdictFor } from "../src/verdict.ts";

const result = (id: string, verdict: CaseResult["verdict"]): CaseResult => ({ id, title: id, suite: "6. Handshake", level: "MUST", requirements: ["PP-HS-001"], verdict, duration_ms: 1, ...(verdict === "fail" ? { message: "x" } : {}) });
const report = (cases: CaseResult[]): Report => ({
  tool: "peer-conformance",
  version: "0.1.0",
  target: "t",
  started_at: "2026-01-01T00:00:00.000Z",
  duration_ms: 1,
  seed: 1,
  summary: { passed: 0, failed: 0, skipped: 0, warned: 0, errors: 0, total: 0 },
  coverage: { covered: 0, selected: 0, total_must: 0, excluded: 0 },
  cases,
});

describe("verdicts", () => {
  test("a failed MUST case fails; a failed SHOULD or MAY case warns unless --strict", () => {
    expect(verdictFor("MUST", "fail", false)).toBe("fail");
    expect(verdictFor("SHOULD", "fail", false)).toBe("warn");
    expect(verdictFor("MAY", "fail", false)).toBe("warn");
    expect(verdictFor("SHOULD", "fail", true)).toBe("fail");
    expect(verdictFor("SHOULD", "pass", true)).toBe("pass");
    expect(verdictFor("MUST", "skip", true)).toBe("skip");
  });

  test("a run with only passes, skips and warnings exits 0; a failure exits 1", () => {
    expect(evaluate(report([result("a", "pass"), result("b", "skip"), result("c", "warn")])).exitCode).toBe(0);
    expect(evaluate(report([result("a", "pass"), result("b", "fail")]))).toMatchObject({ exitCode: 1, unexpected: ["b"] });
  });

  test("a harness error (a case ended in error, or the run aborted) exits 2, whatever else failed", () => {
    expect(evaluate(report([result("a", "pass"), result("b", "error")]))).toMatchObject({ exitCode: 2, errors: ["b"] });
    expect(evaluate(report([result("a", "fail"), result("b", "error")]))).toMatchObject({ exitCode: 2, unexpected: ["a"], errors: ["b"] });
    expect(evaluate({ ...report([result("a", "pass")]), aborted: "the target stopped answering" }).exitCode).toBe(2);
    expect(evaluate(report([result("a", "pass"), result("b", "skip")])).errors).toEqual([]);
  });
});

describe("expected-failures baseline", () => {
  test("a listed failure does not fail the run", () => {
    expect(evaluate(report([result("a", "fail"), result("b", "pass")]), [{ id: "a" }])).toEqual({ exitCode: 0, unexpected: [], expected: ["a"], stale: [], staleEntries: [], errors: [] });
  });

  test("an entry for a case that now passes is stale and fails the run", () => {
    expect(evaluate(report([result("a", "pass")]), [{ id: "a" }])).toMatchObject({ exitCode: 1, stale: ["a"] });
  });

  test("an entry for a case that no longer exists is stale; one for a case not run (skipped or unselected) is not", () => {
    const known = ["a", "b", "c"];
    expect(evaluate(report([result("a", "skip")]), [{ id: "a" }, { id: "b" }, { id: "gone" }], known)).toMatchObject({ exitCode: 1, stale: ["gone"], staleEntries: [{ id: "gone", why: "unknown case" }] });
  });

  test("the report's baseline section lists the expected failures with their reasons and each stale entry with why", () => {
    const baseline = [{ id: "a", reason: "known bug #12" }, { id: "b" }, { id: "c" }];
    const outcome = evaluate(report([result("a", "fail"), result("b", "fail"), result("c", "pass"), result("d", "fail")]), baseline);
    expect(baselineSection("base.txt", baseline, outcome)).toEqual({ file: "base.txt", expected: [{ id: "a", reason: "known bug #12" }, { id: "b" }], stale: [{ id: "c", why: "passes" }] });
  });

  test("baseline ids that name no case are a usage error before the run, naming each", () => {
    expect(() => checkBaselineIds([{ id: "a" }, { id: "hs.typo" }, { id: "x.y" }], ["a", "b"], "base.txt")).toThrow("--expected-failures base.txt: 'hs.typo', 'x.y' are not case ids (see --list)");
    expect(() => checkBaselineIds([{ id: "a" }], ["a"], "base.txt")).not.toThrow();
  });

  test("the file is a JSON array, a JSON object with expected_failures, or one id per line with comments", () => {
    expect(parseBaseline('["a", {"id": "b", "reason": "known bug"}]', "f")).toEqual([{ id: "a" }, { id: "b", reason: "known bug" }]);
    expect(parseBaseline('{"expected_failures": ["a"]}', "f")).toEqual([{ id: "a" }]);
    expect(parseBaseline("# baseline\na  # why\n\nb\n", "f")).toEqual([{ id: "a" }, { id: "b" }]);
    expect(() => parseBaseline("[1]", "f")).toThrow(UsageError);
    expect(() => parseBaseline("{oops", "base.json")).toThrow(/--expected-failures base.json: not valid JSON/);
  });
});
