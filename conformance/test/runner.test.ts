/**
 * The runner against a stand-in target that serves only the discovery document: verdicts,
 * capability and --slow skips, timeouts, fast-check counterexamples and their exact replay.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { suite, type Case } from "../src/case.ts";
import { runConformance } from "../src/runner.ts";
import { UsageError } from "../src/selection.ts";
import { VALIDATORS } from "../src/schemas.ts";

let server: Server;
let target: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === "/peers/capabilities") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ protocol: "peer-protocol", versions: ["1.2"], server_id: "stand-in", identity_key: "A".repeat(43), capabilities: ["websocket"], limits: { handshake_timeout_ms: 1234 } }));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const seen: { values: number[] } = { values: [] };

const cases: Case[] = suite("fake", "99. Fake", [
  { id: "pass", title: "passes", requirements: ["PP-HS-001"], level: "MUST", run: async (ctx) => ctx.check(ctx.target.serverId === "stand-in" && ctx.limits.handshake_timeout_ms === 1234, "discovery read", "not read") },
  { id: "fail", title: "fails", requirements: ["PP-HS-001"], level: "MUST", run: async (ctx) => ctx.fail("ERROR INVALID_STATE", "READY") },
  { id: "should", title: "fails a SHOULD", requirements: ["PP-ERR-006"], level: "SHOULD", run: async (ctx) => ctx.fail("related_message_id", "none") },
  { id: "needs-events", title: "needs events", requirements: ["PP-TRN-006"], level: "MUST", requires: ["events"], run: async () => {} },
  { id: "slow", title: "slow", requirements: ["PP-LIM-005"], level: "MUST", slow: true, run: async () => {} },
  { id: "hangs", title: "hangs", requirements: ["PP-HS-011"], level: "MUST", run: () => new Promise(() => {}) },
  { id: "throws", title: "throws", requirements: ["PP-HS-001"], level: "MUST", run: async () => { throw new TypeError("boom"); } },
  {
    id: "property",
    title: "a property that fails for values over 100",
    requirements: ["PP-DLV-009"],
    level: "MUST",
    run: async (ctx) =>
      ctx.property(fc.integer({ min: 0, max: 1000 }), async (n) => {
        seen.values.push(n);
        ctx.check(n <= 100, "n <= 100", `n = ${n}`);
      }),
  },
]);

const run = (only: string[], extra: Parameters<typeof runConformance>[0] = {}) => runConformance({ target, cases, only, seed: 42, runs: 50, timeoutMs: 300, validators: VALIDATORS, ...extra });

describe("runConformance", () => {
  test("turns outcomes into verdicts, with h2spec-style expected/actual and a schema-valid report", async () => {
    const report = await run(["fake.pass", "fake.fail", "fake.should", "fake.needs-events", "fake.slow", "fake.hangs", "fake.throws"]);
    const verdicts = Object.fromEntries(report.cases.map((c) => [c.id, c.verdict]));
    expect(verdicts).toEqual({ "fake.pass": "pass", "fake.fail": "fail", "fake.should": "warn", "fake.needs-events": "skip", "fake.slow": "skip", "fake.hangs": "fail", "fake.throws": "error" });
    const fail = report.cases.find((c) => c.id === "fake.fail")!;
    expect(fail).toMatchObject({ expected: ["ERROR INVALID_STATE"], actual: "READY", suite: "99. Fake" });
    expect(report.cases.find((c) => c.id === "fake.hangs")!.message).toMatch(/within 300 ms/);
    // A probe exception is the harness's failure, kept apart from the target's, and says where it was thrown.
    const thrown = report.cases.find((c) => c.id === "fake.throws")!;
    expect(thrown.message).toMatch(/^the harness raised TypeError: boom/);
    expect(thrown.message).toContain("this is a bug in peer-conformance, not in the target");
    expect(thrown.actual).toBeUndefined();
    expect(report.summary).toEqual({ passed: 1, failed: 2, skipped: 2, warned: 1, errors: 1, total: 7 });
    expect(report.seed).toBe(42);
    expect(VALIDATORS.validateReport(report)).toEqual({ ok: true });
  });

  test("--strict turns a failed SHOULD case into a failure; --slow runs slow cases", async () => {
    const report = await run(["fake.should", "fake.slow"], { strict: true, slow: true });
    expect(report.cases.map((c) => c.verdict)).toEqual(["fail", "pass"]);
  });

  test("a failed property reports its shrunk counterexample and a replay path that reproduces it", async () => {
    const report = await run(["fake.property"]);
    const result = report.cases[0]!;
    expect(result.verdict).toBe("fail");
    expect(result.counterexample).toBe("101");
    expect(result.replay?.seed).toBe(42);
    seen.values = [];
    const replayed = await run(["fake.property"], { path: result.replay!.path });
    expect(replayed.cases[0]!.counterexample).toBe("101");
    expect(seen.values[0]).toBe(101);
  });

  test("the same seed gives the same run", async () => {
    seen.values = [];
    await run(["fake.property"], { seed: 7 });
    const first = [...seen.values];
    seen.values = [];
    await run(["fake.property"], { seed: 7 });
    expect(seen.values).toEqual(first);
  });

  test("selection errors are usage errors", async () => {
    await expect(run(["nothing-matches"])).rejects.toThrow(UsageError);
    await expect(run(["fake"], { path: "1:2" })).rejects.toThrow(/--path replays one case/);
  });
});
