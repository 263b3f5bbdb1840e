/** `peer-conformance client`: the whole client catalogue against the reference client, and the CLI's client flags. */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { validateReport } from "../../../schemas/src/index.ts";
import { main } from "../../src/cli.ts";
import { ALL_CLIENT_CASES } from "../../src/client-mode/cases/index.ts";
import { CLIENT_REQUIREMENTS, clientCoverage } from "../../src/client-mode/coverage.ts";
import { CLIENT_EXCLUSIONS } from "../../src/client-mode/exclusions.ts";
import type { Report } from "../../src/report.ts";

function io() {
  const out: string[] = [];
  const err: string[] = [];
  const cwd = mkdtempSync(join(tmpdir(), "pc-client-"));
  return { io: { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) }, cwd }, out, err, cwd };
}

describe("peer-conformance client", () => {
  test("passes every client case against the reference client, with the client class's coverage in the report", async () => {
    const run = io();
    const code = await main(["client", "--seed", "1", "--reporter", "json=r.json", "--reporter", "junit=j.xml"], run.io);
    const report = JSON.parse(readFileSync(join(run.cwd, "conformance-results", "r.json"), "utf8")) as Report;
    // Name every case that did not pass, with why, before the exit status says only that one did not.
    expect(report.cases.filter((c) => c.verdict !== "pass").map((c) => `${c.id}: ${c.verdict}: ${c.expected?.[0] ?? c.message ?? ""} / ${c.actual ?? ""}`)).toEqual([]);
    expect(code).toBe(0);
    expect(validateReport(report)).toEqual({ ok: true });
    expect(report.target).toBe("client: the reference client (peer-client-driver)");
    expect(report.summary).toMatchObject({ passed: ALL_CLIENT_CASES.length, failed: 0, errors: 0 });
    expect(report.coverage.total_must).toBe(108);
    expect(run.out.join("")).toContain(`${ALL_CLIENT_CASES.length} passed, 0 failed`);
    expect(run.out.join("")).toMatch(/note: client mode: the runner is the server; coverage counts the 108 MUST requirements of the client class \(spec §18\)\. client-mode MUST coverage: of the 108 requirements of the client class \(spec §18\), \d+ have a client case and \d+ are excluded with a reason \((\d+)%\)/);
    // Issue 14's bar: at least 90% of the client class's MUST requirements have a case or an exclusion.
    expect(Number(/excluded with a reason \((\d+)%\)/.exec(run.out.join(""))?.[1])).toBeGreaterThanOrEqual(90);
  }, 300_000);

  test("a driver that misreports its client's refusals fails the refusal cases", async () => {
    const run = io();
    const only = "client.handshake.responder-signature-bit-flip";
    const command = `'${process.execPath}' --import tsx '${join(process.cwd(), "reference/src/cli/peer-client-driver.ts")}'; exit 0`;
    expect(await main(["client", "--command", command, "--only", only, "--reporter", "json=r.json"], run.io)).toBe(1);
    const report = JSON.parse(readFileSync(join(run.cwd, "conformance-results", "r.json"), "utf8")) as Report;
    expect(report.cases[0]).toMatchObject({ id: only, verdict: "fail", expected: ["the client's driver reports the refusal: exit 1 (spec §18.1)"], actual: expect.stringMatching(/^exit 0/) });
  }, 60_000);

  test.each([
    [["client", "ws://x"], "peer-conformance client takes no TARGET (the runner is the server); got ws://x"],
    [["ws://x", "--command", "drive"], "--command belongs to peer-conformance client (a client's test driver)"],
    [["client", "--command", " "], "--command needs the command that starts your client's test driver"],
    [["client", "--slow", "--token-command", "x"], "--slow, --token-command apply to server mode only, not to peer-conformance client"],
  ])("%j is a usage error", async (argv, message) => {
    const run = io();
    expect(await main(argv, run.io)).toBe(2);
    expect(run.err.join("")).toBe(`peer-conformance: ${message}\n`);
  });

  test("client --list names every client case and prints the client-mode coverage", async () => {
    const run = io();
    expect(await main(["client", "--list"], run.io)).toBe(0);
    const text = run.out.join("");
    for (const c of ALL_CLIENT_CASES) expect(text).toContain(c.id);
    const cov = clientCoverage(ALL_CLIENT_CASES);
    expect(cov.covered.length + cov.excluded.length + cov.uncovered.length).toBe(108);
    expect(text).toContain(`client-mode MUST coverage: of the 108 requirements of the client class (spec §18), ${cov.covered.length} have a client case and ${cov.excluded.length} are excluded with a reason (${Math.round((100 * (cov.covered.length + cov.excluded.length)) / 108)}%)`);
    expect((cov.covered.length + cov.excluded.length) / 108).toBeGreaterThanOrEqual(0.9);
  });

  test("every client exclusion names a requirement of the client class that no client case cites, with a reason", () => {
    const classIds = new Set(CLIENT_REQUIREMENTS.map((r) => r.id));
    const cited = new Set(ALL_CLIENT_CASES.flatMap((c) => c.requirements));
    for (const e of CLIENT_EXCLUSIONS) {
      expect(classIds.has(e.requirement), e.requirement).toBe(true);
      expect(cited.has(e.requirement), e.requirement).toBe(false);
      expect(e.reason.length, e.requirement).toBeGreaterThan(20);
    }
  });
});
