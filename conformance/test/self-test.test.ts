/**
 * DESIGN.md §5 and issue #4: every conformance case is shown to fail against a deliberately faulty
 * endpoint. `npm run conformance:selftest` runs the whole catalogue; this test checks that the
 * catalogue is well formed and runs a few endpoints end to end (those of the key checks that fail
 * fast), where the embedded reference server is available.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import requirementIndex from "../../spec/requirements.json" with { type: "json" };
import { ALL_CASES } from "../src/cases/index.ts";
import { PROXY_FAULT_NAMES } from "../selftest/fault-proxy.ts";
import { CONFORMANT_VARIANTS } from "../selftest/conformant-variants.ts";
import { CLUSTER_FAULT_NAMES } from "../selftest/faulty-clusters.ts";
import { FAULTY_ENDPOINTS, KEY_CHECKS, UNUSED_SOURCE_FAULTS } from "../selftest/faulty-endpoints.ts";
import { runSelfTest, SourceFaultsBroken } from "../selftest/run.ts";
import { applySourceFault, removeScratchCopies, SourceFaultError } from "../selftest/scratch-reference.ts";
import { SOURCE_FAULTS } from "../selftest/source-faults.ts";

const REFERENCE = fileURLToPath(new URL("../../reference/", import.meta.url));
const embedded = existsSync(new URL("../../reference/src/server/embedded.ts", import.meta.url));
const caseIds = new Set(ALL_CASES.map((c) => c.id));
const catchers = new Set(FAULTY_ENDPOINTS.flatMap((e) => e.catchers));

// The scratch copies the self-test makes (a vitest worker may not see the process exit).
afterAll(() => removeScratchCopies());

describe("the catalogue of faulty endpoints", () => {
  test("names are unique, and every entry is a source fault, a proxy fault or a faulty pair of nodes", () => {
    const names = FAULTY_ENDPOINTS.map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    for (const e of FAULTY_ENDPOINTS) {
      expect(e.description.length, e.name).toBeGreaterThan(10);
      expect(e.catchers.length, e.name).toBeGreaterThan(0);
      if (e.kind === "source") {
        expect(e.proxy, e.name).toBeUndefined();
        expect(e.source, e.name).toBe(e.name);
      } else if (e.kind === "cluster") {
        expect(CLUSTER_FAULT_NAMES, e.name).toContain(e.cluster);
        expect(e.source ?? e.proxy, e.name).toBeUndefined();
        expect(e.name).toBe(`cluster:${e.cluster}`);
      } else {
        expect(PROXY_FAULT_NAMES, e.name).toContain(e.proxy);
        expect(e.source, e.name).toBeUndefined();
        expect(e.name).toBe(`proxy:${e.proxy}`);
      }
    }
  });

  test("every catcher is a case id of the suite", () => {
    for (const e of FAULTY_ENDPOINTS) for (const id of e.catchers) expect(caseIds.has(id), `${e.name}: ${id}`).toBe(true);
  });

  test("every case is meant to be caught by some faulty endpoint, so every suite has one", () => {
    expect(ALL_CASES.filter((c) => !catchers.has(c.id)).map((c) => c.id)).toEqual([]);
    for (const suite of new Set(ALL_CASES.map((c) => c.suite))) expect([...catchers].some((id) => id.startsWith(`${suite}.`)), suite).toBe(true);
  });

  test("every key check of issue #4 has a faulty endpoint", () => {
    for (const key of KEY_CHECKS) expect(FAULTY_ENDPOINTS.some((e) => e.catchers.some((id) => key.cases.includes(id))), key.check).toBe(true);
  });

  test("a catcher marked slow is run by an endpoint marked slow", () => {
    for (const e of FAULTY_ENDPOINTS) for (const id of e.catchers) if (ALL_CASES.find((c) => c.id === id)?.slow) expect(e.slow, `${e.name}: ${id} waits for timers`).toBe(true);
  });

  test("every source fault exists, and each one is used unless a reason says why not", () => {
    const faults = Object.keys(SOURCE_FAULTS);
    const used = new Set(FAULTY_ENDPOINTS.flatMap((e) => (e.source ? [e.source] : [])));
    for (const name of used) expect(faults, name).toContain(name);
    for (const name of Object.keys(UNUSED_SOURCE_FAULTS)) expect(faults, name).toContain(name);
    expect(faults.filter((f) => !used.has(f) && !(f in UNUSED_SOURCE_FAULTS))).toEqual([]);
  });
});

describe("the conformant variants", () => {
  const requirements = new Map((requirementIndex as { id: string; text: string }[]).map((r) => [r.id, r.text]));
  const scratch = mkdtempSync(join(tmpdir(), "pp-variants-test-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  test("names are unique among variants and faulty endpoints, and each names requirements of the spec that allow it", () => {
    const names = [...CONFORMANT_VARIANTS.map((v) => v.name), ...FAULTY_ENDPOINTS.map((e) => e.name)];
    expect(new Set(names).size).toBe(names.length);
    for (const v of CONFORMANT_VARIANTS) {
      expect(v.description.length, v.name).toBeGreaterThan(10);
      expect(v.allowedBy.length, v.name).toBeGreaterThan(0);
      for (const id of v.allowedBy) expect(requirements.has(id), `${v.name}: ${id}`).toBe(true);
      // At least one of them is a MAY, or a requirement about servers that require tokens.
      expect(v.allowedBy.some((id) => /\bMAY\b|requires tokens/.test(requirements.get(id) ?? "")), v.name).toBe(true);
      expect(v.edits !== undefined || v.embedded !== undefined, `${v.name}: an edit or a configuration`).toBe(true);
    }
  });

  test("each variant's edits apply to the current reference", () => {
    for (const v of CONFORMANT_VARIANTS) {
      if (!v.edits) continue;
      const copy = join(scratch, v.name);
      cpSync(REFERENCE, copy, { recursive: true });
      expect(() => applySourceFault(`variant-${v.name}`, copy, v.edits), v.name).not.toThrow();
    }
  });
});

describe("source faults", () => {
  const scratch = mkdtempSync(join(tmpdir(), "pp-source-faults-test-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  test("each applies to the current reference: every text to find occurs exactly once, and each edit changes the file", () => {
    for (const [name, edits] of Object.entries(SOURCE_FAULTS)) {
      expect(edits.length, name).toBeGreaterThan(0);
      const copy = join(scratch, name);
      cpSync(REFERENCE, copy, { recursive: true });
      expect(() => applySourceFault(name, copy), name).not.toThrow();
      for (const file of new Set(edits.map((e) => e.file))) {
        const before = readFileSync(join(REFERENCE, file), "utf8");
        expect(readFileSync(join(copy, file), "utf8"), `${name}: ${file}`).not.toBe(before);
      }
    }
  });

  test("a fault whose text to find is missing fails with the fault's name, and leaves the copy untouched", () => {
    const copy = join(scratch, "missing");
    cpSync(REFERENCE, copy, { recursive: true });
    const before = readFileSync(join(copy, "src/chunking.ts"), "utf8");
    const edits = [
      { file: "src/chunking.ts", find: "if (toBase64Url(sha256(bytes)) !== partial.digest)", replace: "if (false)" },
      { file: "src/chunking.ts", find: "this text is not in the reference", replace: "" },
    ];
    expect(() => applySourceFault("chunk-skip-digest", copy, edits)).toThrow(SourceFaultError);
    expect(() => applySourceFault("chunk-skip-digest", copy, edits)).toThrow(/source fault chunk-skip-digest: edit 2: the text to find is not in reference\/src\/chunking\.ts/);
    expect(readFileSync(join(copy, "src/chunking.ts"), "utf8")).toBe(before);
  });

  test("a fault whose text to find is ambiguous fails with the fault's name", () => {
    const copy = join(scratch, "ambiguous");
    cpSync(REFERENCE, copy, { recursive: true });
    expect(() => applySourceFault("no-rate-limit", copy, [{ file: "src/chunking.ts", find: "fail(", replace: "" }])).toThrow(/source fault no-rate-limit: edit 1: the text to find occurs \d+ times/);
  });

  test("an unknown fault fails with its name", () => {
    expect(() => applySourceFault("no-such-fault", scratch)).toThrow(/source fault no-such-fault: no such source fault/);
  });

  test("the self-test stops before running anything when a source fault does not apply, naming it", async () => {
    const endpoint = { name: "no-such-fault", kind: "source" as const, source: "no-such-fault", description: "a fault that has no edits", catchers: ["delivery.echo"] };
    const lines: string[] = [];
    const error = await runSelfTest({ endpoints: [endpoint], onLine: (l) => lines.push(l) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceFaultsBroken);
    expect((error as Error).message).toContain("source fault no-such-fault");
    expect(lines).toEqual([]);
  });
});

describe.skipIf(!embedded)("faulty endpoints are detected", () => {
  test("the key checks' endpoints and some proxy faults fail their catchers, which pass without the fault", async () => {
    const names = ["accept-zero-dh", "accept-small-order-identity", "accept-noncanonical-s", "skip-finished-check", "accept-replayed-init", "accept-stale-timestamp", "proxy:reuse-handshake-values", "proxy:close-code-1000", "proxy:strip-related-message-id", "proxy:discovery-wrong-identity-key", "no-dedupe", "echo-corrupts", "resend-acknowledged", "proxy:reorder-records", "token-not-required", "resume-ignores-window"];
    // The generated scenarios need many runs to meet a fault: `npm run conformance:selftest` shows them failing; here they are left out.
    const endpoints = FAULTY_ENDPOINTS.filter((e) => names.includes(e.name)).map(({ runs: _runs, ...e }) => ({ ...e, catchers: e.catchers.filter((id) => !id.startsWith("scenarios.")) }));
    expect(endpoints.length).toBe(names.length);
    const result = await runSelfTest({ endpoints, runs: 3, seed: 11 });
    const missed = result.outcomes.filter((o) => o.status !== "detected").map((o) => `${o.endpoint.name}: ${o.endpoint.catchers.map((id) => `${id} ${o.faulty.get(id)?.verdict}/${o.clean.get(id)?.verdict}`).join(", ")}`);
    expect(missed).toEqual([]);
    expect(result.detected).toBe(names.length);
    for (const key of KEY_CHECKS) expect(key.cases.some((id) => result.shownToFail.has(id)), key.check).toBe(true);
  }, 90_000);
});
