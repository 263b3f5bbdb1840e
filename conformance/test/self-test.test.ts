/**
 * DESIGN.md §5 and issue #4: every conformance case is shown to fail against a deliberately faulty
 * endpoint. `npm run conformance:selftest` runs the whole catalogue; this test checks that the
 * catalogue is well formed and runs a few endpoints end to end (those of the key checks that fail
 * fast), where the embedded reference server is available.
 */
import { existsSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { ALL_CASES } from "../src/cases/index.ts";
import { PROXY_FAULT_NAMES } from "../selftest/fault-proxy.ts";
import { FAULTY_ENDPOINTS, KEY_CHECKS, UNUSED_REFERENCE_FAULTS } from "../selftest/faulty-endpoints.ts";
import { runSelfTest } from "../selftest/run.ts";

const FAULTS_MODULE = new URL("../../reference/src/server/faults.ts", import.meta.url);
const embedded = existsSync(new URL("../../reference/src/server/embedded.ts", import.meta.url));
const caseIds = new Set(ALL_CASES.map((c) => c.id));
const catchers = new Set(FAULTY_ENDPOINTS.flatMap((e) => e.catchers));

describe("the catalogue of faulty endpoints", () => {
  test("names are unique, and every entry is either a reference fault or a proxy fault", () => {
    const names = FAULTY_ENDPOINTS.map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    for (const e of FAULTY_ENDPOINTS) {
      expect(e.description.length, e.name).toBeGreaterThan(10);
      expect(e.catchers.length, e.name).toBeGreaterThan(0);
      if (e.kind === "reference-fault") {
        expect(e.proxy, e.name).toBeUndefined();
        expect(e.embedded?.faults, e.name).toEqual([e.name]);
      } else {
        expect(PROXY_FAULT_NAMES, e.name).toContain(e.proxy);
        expect(e.embedded?.faults ?? [], e.name).toEqual([]);
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

  test.skipIf(!existsSync(FAULTS_MODULE))("every reference fault exists, and each one is used unless a reason says why not", async () => {
    const { FAULTS } = (await import(FAULTS_MODULE.href)) as { FAULTS: string[] };
    const used = new Set(FAULTY_ENDPOINTS.flatMap((e) => e.embedded?.faults ?? []));
    for (const name of used) expect(FAULTS, name).toContain(name);
    for (const name of Object.keys(UNUSED_REFERENCE_FAULTS)) expect(FAULTS, name).toContain(name);
    expect(FAULTS.filter((f) => !used.has(f) && !(f in UNUSED_REFERENCE_FAULTS))).toEqual([]);
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
  }, 30_000);
});
