/**
 * Issue #10: the mutants of `npm run conformance:mutate` (conformance/selftest/mutants.ts) are made
 * from the syntax tree of lines that cite a requirement, and each is an edit that the scratch-copy
 * mechanism applies exactly once to the real reference sources. No server runs here.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { casesFor, citesFilter, loadEquivalents, matchEquivalents, sample } from "../selftest/mutate.ts";
import { citedRequirements, mutantsOfSource, referenceMutants, serverModules } from "../selftest/mutants.ts";
import { applySourceFault } from "../selftest/scratch-reference.ts";

const REFERENCE = fileURLToPath(new URL("../../reference/", import.meta.url));

const SOURCE = [
  "export function check(size: number, max: number): void {",
  "  if (size > max && max >= 0) throw new Error(\"too big\"); // PP-CHK-006",
  "  log(size + 1); // PP-LIM-002",
  "  const half = size < 2 ? 0 : size / 2;",
  "  return;",
  "}",
  "export function limit(): number {",
  "  return 64; // PP-LIM-001",
  "}",
  "declare function log(n: number): void;",
  "",
].join("\n");

describe("mutants of a cited line", () => {
  const mutants = mutantsOfSource("src/example.ts", SOURCE);
  const on = (line: number) => mutants.filter((m) => m.line === line);

  test("a line citing a requirement gets negations, a dropped throw, swapped comparisons and an early return", () => {
    const line2 = on(2);
    expect(line2.map((m) => m.id)).toEqual([
      "src/example.ts:2:return-early:1",
      "src/example.ts:2:negate:1",
      "src/example.ts:2:negate:2",
      "src/example.ts:2:relational:1",
      "src/example.ts:2:negate:3",
      "src/example.ts:2:relational:2",
      "src/example.ts:2:literal+1:1",
      "src/example.ts:2:literal-1:1",
      "src/example.ts:2:drop:1",
    ]);
    for (const m of line2) expect(m.requirements).toEqual(["PP-CHK-006"]);
    const edited = (id: string) => {
      const m = line2.find((x) => x.id === id)!;
      return SOURCE.replace(m.edit.find, m.edit.replace).split("\n")[1];
    };
    expect(edited("src/example.ts:2:negate:1")).toBe('  if (!(size > max && max >= 0)) throw new Error("too big"); // PP-CHK-006');
    expect(edited("src/example.ts:2:negate:2")).toBe('  if (!(size > max) && max >= 0) throw new Error("too big"); // PP-CHK-006');
    expect(edited("src/example.ts:2:relational:1")).toBe('  if (size >= max && max >= 0) throw new Error("too big"); // PP-CHK-006');
    expect(edited("src/example.ts:2:relational:2")).toBe('  if (size > max && max > 0) throw new Error("too big"); // PP-CHK-006');
    expect(edited("src/example.ts:2:literal-1:1")).toBe('  if (size > max && max >= (-1)) throw new Error("too big"); // PP-CHK-006');
    expect(edited("src/example.ts:2:drop:1")).toBe("  if (size > max && max >= 0) ; // PP-CHK-006");
    expect(edited("src/example.ts:2:return-early:1")).toBe('  return; if (size > max && max >= 0) throw new Error("too big"); // PP-CHK-006');
  });

  test("an expression statement is dropped and its literal moved by one", () => {
    expect(on(3).map((m) => m.kind)).toEqual(["return-early", "drop", "literal+1", "literal-1"]);
    expect(on(3).find((m) => m.kind === "literal+1")?.edit.replace).toBe("  log(size + 2); // PP-LIM-002");
  });

  test("no early return where the function returns a value", () => {
    expect(on(8).map((m) => m.kind)).toEqual(["literal+1", "literal-1"]);
  });

  test("a line without a cited requirement gets no mutant", () => {
    expect(on(4)).toEqual([]);
    expect(on(5)).toEqual([]);
    expect(new Set(mutants.map((m) => m.line))).toEqual(new Set([2, 3, 8]));
  });

  test("a default value (`x || \"/\"`) is not a condition to negate; a condition beside it is", () => {
    const found = mutantsOfSource("src/d.ts", 'export const f = (p: string, ok: boolean): string => `${p || "/"} ${ok && p ? 1 : 0}`; // PP-ENV-007\n');
    expect(found.filter((m) => m.kind === "negate").map((m) => m.description)).toEqual(['negate "ok && p"', 'negate "ok"', 'negate "p"']);
  });

  test("a `//` comment alone on its line cites the statement below it; a doc comment does not", () => {
    const source = ["export function g(a: number, b: number): void {", "  // PP-LIM-001: the frame limit", "  if (a > b) h();", "}", "/** PP-LIM-002 */", "export const limit = 5;", "declare function h(): void;", ""].join("\n");
    const found = mutantsOfSource("src/g.ts", source);
    expect(new Set(found.map((m) => m.line))).toEqual(new Set([3]));
    expect(found.map((m) => m.kind)).toContain("relational");
    for (const m of found) expect(m.requirements).toEqual(["PP-LIM-001"]);
  });

  test("a requirement in a string is not a citation", () => {
    expect(mutantsOfSource("src/x.ts", 'export const s = "// PP-HS-004"; if (s) s.trim();\n')).toEqual([]);
  });

  test("a range cites every requirement in it", () => {
    expect(citedRequirements("the registry row (PP-ERR-001..004), PP-HS-010")).toEqual(["PP-ERR-001", "PP-ERR-002", "PP-ERR-003", "PP-ERR-004", "PP-HS-010"]);
  });
});

describe("the mutants of the reference", () => {
  const mutants = referenceMutants();

  test("exist, with unique ids", () => {
    expect(mutants.length).toBeGreaterThan(50);
    expect(new Set(mutants.map((m) => m.id)).size).toBe(mutants.length);
  });

  test("each edit applies exactly once to the reference sources", () => {
    const sources = new Map<string, string>();
    for (const m of mutants) {
      let text = sources.get(m.file);
      if (text === undefined) {
        text = readFileSync(join(REFERENCE, m.file), "utf8");
        sources.set(m.file, text);
      }
      expect(text.split(m.edit.find).length - 1, m.id).toBe(1);
      expect(m.edit.replace, m.id).not.toBe(m.edit.find);
    }
  });

  test("the scratch-copy mechanism applies a mutant's edit", () => {
    const dir = mkdtempSync(join(tmpdir(), "pp-mutant-test-"));
    try {
      cpSync(join(REFERENCE, "src"), join(dir, "src"), { recursive: true });
      const m = mutants[0]!;
      applySourceFault(m.id, dir, [m.edit]);
      expect(readFileSync(join(dir, m.file), "utf8")).toContain(m.edit.replace);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the server's files are told from the client's", () => {
    const served = serverModules();
    expect(served).toContain("src/server/peer-service.ts");
    expect(served).toContain("src/chunking.ts");
    expect(served).toContain("src/handshake/responder.ts");
    expect(served).not.toContain("src/handshake/initiator.ts");
    expect(served).not.toContain("src/client/peer-client.ts");
  });

  test("the reviewed equivalents each match a mutant of the reference and give a reason", () => {
    const entries = loadEquivalents();
    const { reasons, stale } = matchEquivalents(entries, mutants);
    expect(stale.map((e) => e.mutant)).toEqual([]);
    expect(reasons.size).toBe(entries.length);
    for (const entry of entries) expect(entry.reason.length, entry.mutant).toBeGreaterThan(20);
  });

  test("an equivalent entry follows its line when the line moves, and goes stale when the line changes", () => {
    const source = ["export function f(a: number): void {", "  if (a > 1) g(); // PP-CHK-006", "}", "declare function g(): void;", ""].join("\n");
    const before = mutantsOfSource("src/f.ts", source);
    const relational = before.find((m) => m.kind === "relational")!;
    const entry = { mutant: relational.id, code: relational.code, reason: "a reason long enough to be a reason" };
    const moved = mutantsOfSource("src/f.ts", `// a new first line\n${source}`);
    const match = matchEquivalents([entry], moved);
    expect([...match.reasons.keys()]).toEqual(["src/f.ts:3:relational:1"]);
    expect(matchEquivalents([entry], mutantsOfSource("src/f.ts", source.replace("a > 1", "a > 2"))).stale).toEqual([entry]);
  });
});

describe("selection", () => {
  test("--only takes a requirement or an area", () => {
    expect(citesFilter(["PP-HS-004"], "PP-HS-004")).toBe(true);
    expect(citesFilter(["PP-HS-004"], "PP-HS")).toBe(true);
    expect(citesFilter(["PP-HS-004"], "PP-H")).toBe(false);
  });

  test("the cases of a mutant are those citing its requirements", () => {
    expect(casesFor(["PP-CHK-006"])).toContain("chunking.oversize-total");
    expect(casesFor(["PP-NONE-999"])).toEqual([]);
  });

  test("a sample is seeded, of the size asked, in the original order", () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const a = sample(items, 10, 1);
    expect(a).toEqual(sample(items, 10, 1));
    expect(a).toHaveLength(10);
    expect([...a].sort((x, y) => x - y)).toEqual(a);
    expect(sample(items, 10, 2)).not.toEqual(a);
    expect(sample(items, 99, 1)).toEqual(items);
  });
});
