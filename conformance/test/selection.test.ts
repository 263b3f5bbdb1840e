import { describe, expect, test } from "vitest";
import type { Case } from "../src/case.ts";
import { matches, select, selectors } from "../src/selection.ts";

const make = (id: string, suite: string, section: string, requirements: string[]): Case => ({ id, suite, section, requirements, title: id, level: "MUST", run: async () => {} });

const cases = [
  make("handshake.complete", "handshake", "6. Handshake", ["PP-HS-001", "PP-KS-001"]),
  make("handshake.timeout", "handshake", "6. Handshake", ["PP-HS-011"]),
  make("keys.zero-shared-secret", "keys", "7.4 Key and signature validation", ["PP-HS-004", "PP-KS-017"]),
  make("records.tampered-aad", "records", "7. Key schedule and records", ["PP-KS-007"]),
];

describe("selectors", () => {
  test("a case is selected by its id, a glob of ids, its suite, a requirement, an area or a section", () => {
    expect(matches(cases[0]!, "handshake.complete")).toBe(true);
    expect(matches(cases[0]!, "handshake.*")).toBe(true);
    expect(matches(cases[0]!, "handshake")).toBe(true);
    expect(matches(cases[2]!, "PP-KS-017")).toBe(true);
    expect(matches(cases[2]!, "pp-ks-017")).toBe(true);
    expect(matches(cases[2]!, "PP-HS")).toBe(true);
    expect(matches(cases[2]!, "7")).toBe(true);
    expect(matches(cases[2]!, "7.4")).toBe(true);
    expect(matches(cases[3]!, "7.4")).toBe(false);
    expect(matches(cases[0]!, "PP-HS-01")).toBe(false);
  });

  test("--only keeps the matching cases and --skip removes cases, in case order", () => {
    expect(select(cases, ["PP-HS"]).selected.map((c) => c.id)).toEqual(["handshake.complete", "handshake.timeout", "keys.zero-shared-secret"]);
    expect(select(cases, [], ["handshake.timeout", "7"]).selected.map((c) => c.id)).toEqual(["handshake.complete"]);
    expect(select(cases).selected).toHaveLength(4);
  });

  test("a selector that matches nothing is reported, so that a typo does not silently test nothing", () => {
    expect(select(cases, ["handshak"], ["PP-XYZ-001"]).unmatched).toEqual(["handshak", "PP-XYZ-001"]);
  });

  test("repeated and comma-separated flag values are split and trimmed", () => {
    expect(selectors(["a, b", "c", ""])).toEqual(["a", "b", "c"]);
  });
});
