/**
 * `peer-conformance client --listen PORT` (spec §18.1): a client that the runner cannot start asks
 * for its cases through the runner's control endpoint (GET /next), runs each and reports its exit
 * status (POST /result). The listening client here runs the reference driver's `main` in this
 * process, the way a browser or a phone would run its own client in its own.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { main as runDriver } from "../../../reference/src/cli/peer-client-driver.ts";
import { validateReport } from "../../../schemas/src/index.ts";
import { main } from "../../src/cli.ts";
import { ALL_CLIENT_CASES } from "../../src/client-mode/cases/index.ts";
import { clientSuite } from "../../src/client-mode/client-case.ts";
import { runClientConformance } from "../../src/client-mode/client-runner.ts";
import { startCaseListener } from "../../src/client-mode/listener.ts";
import { LISTEN_DEFAULTS, listenForClient } from "../../src/client-mode/listening-client.ts";
import type { Report } from "../../src/report.ts";

const CONTRACT_VARIABLES = ["PEER_URL", "PEER_SCENARIO", "PEER_ENTITY_ID", "PEER_PRIVATE_KEY", "PEER_SERVER_ID", "PEER_SERVER_KEY", "PEER_TRANSPORT"];

interface NextCase {
  id: string;
  title: string;
  env: Record<string, string>;
}

/**
 * A listening client: GET /next, run the case with the reference driver, POST /result, until GET
 * /next answers 204. `report` may change the status it reports (a faulty client). Returns the ids
 * it ran, in order.
 */
async function listeningClient(url: string, report: (id: string, status: number) => number = (_id, status) => status): Promise<string[]> {
  const ran: string[] = [];
  for (;;) {
    const next = await fetch(`${url}/next`);
    if (next.status === 204) return ran;
    expect(next.status).toBe(200);
    const { id, env } = (await next.json()) as NextCase;
    for (const name of CONTRACT_VARIABLES) expect(env[name], `${id}: ${name}`).toBeTruthy();
    const log: string[] = [];
    const status = await runDriver(env, { stderr: (line) => log.push(line) });
    ran.push(id);
    const posted = await fetch(`${url}/result`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ id, status: report(id, status), log: log.join("\n") }) });
    expect(posted.status, await posted.text()).toBe(204);
  }
}

/** Runs the CLI with --listen 0; the listening client starts once the runner has printed its URL. */
async function runListening(argv: string[], report?: (id: string, status: number) => number) {
  const out: string[] = [];
  const err: string[] = [];
  const cwd = mkdtempSync(join(tmpdir(), "pc-listen-"));
  let client: Promise<string[]> | undefined;
  let cases: unknown;
  const stderr = {
    write(text: string) {
      err.push(text);
      const url = /listening for a client on (http:\/\/127\.0\.0\.1:\d+):/.exec(text)?.[1];
      if (url)
        client = (async () => {
          cases = await (await fetch(`${url}/cases`)).json();
          return listeningClient(url, report);
        })();
    },
  };
  const code = await main(["client", "--listen", "0", "--reporter", "json=r.json", ...argv], { stdout: { write: (t: string) => out.push(t) }, stderr, cwd });
  expect(client, err.join("")).toBeDefined();
  const ran = await client!;
  const report_ = JSON.parse(readFileSync(join(cwd, "conformance-results", "r.json"), "utf8")) as Report;
  return { code, ran, cases, report: report_, err: err.join(""), out: out.join("") };
}

describe("peer-conformance client --listen", () => {
  test("a listening client asks for each case, runs it and reports; the report is the one --command gives", async () => {
    const only = ["client.handshake.complete", "client.handshake.identity-key-small-order", "client.handshake.responder-signature-bit-flip", "client.records.does-not-decrypt"];
    const run = await runListening(["--only", only.join(",")]);
    expect(run.code, run.err + run.out).toBe(0);
    expect(run.ran).toEqual(only);
    // GET /cases: the selected cases in order, each with its scenario and the case's own variables.
    expect(run.cases).toEqual({ cases: only.map((id) => ({ id, title: ALL_CLIENT_CASES.find((c) => c.id === id)!.title, scenario: ALL_CLIENT_CASES.find((c) => c.id === id)!.scenario, env: { ...ALL_CLIENT_CASES.find((c) => c.id === id)!.env } })) });
    expect(validateReport(run.report)).toEqual({ ok: true });
    expect(run.report.target).toMatch(/^client: a listening client \(http:\/\/127\.0\.0\.1:\d+\)$/);
    expect(run.report.summary).toMatchObject({ passed: 4, failed: 0, errors: 0, total: 4 });
    expect(run.err).toMatch(/^peer-conformance: listening for a client on http:\/\/127\.0\.0\.1:\d+: GET http:\/\/127\.0\.0\.1:\d+\/next for a case, POST http:\/\/127\.0\.0\.1:\d+\/result when it ends \(spec §18\.1\)$/m);
  }, 120_000);

  test("a client that reports 0 after refusing a small-order identity key fails that case on its status; the wire checks are the same", async () => {
    const refusal = "client.handshake.identity-key-small-order";
    const run = await runListening(["--only", `client.handshake.complete,${refusal}`], () => 0);
    expect(run.code).toBe(1);
    expect(Object.fromEntries(run.report.cases.map((c) => [c.id, c.verdict]))).toEqual({ "client.handshake.complete": "pass", [refusal]: "fail" });
    // It refused on the wire (the driver's own log says so); only the status it reported is wrong.
    expect(run.report.cases[1]).toMatchObject({ expected: ["the client's driver reports the refusal: exit 1 (spec §18.1)"], actual: expect.stringMatching(/^exit 0; the client reported status 0 after \d+ ms \(log: .*done exit=1\)$/) });
  }, 120_000);

  test.each([
    [["client", "--listen", "0", "--command", "drive"], "--command and --listen are two ways to attach a client: give one (--command starts a driver per case, --listen waits for a client that asks for its cases)"],
    [["--listen", "0"], "--listen belongs to peer-conformance client (a client that connects by itself)"],
    [["client", "--listen", "http"], "--listen expects a port from 0 (any free one) to 65535, got 'http'"],
    [["client", "--listen", "65536"], "--listen expects a port from 0 (any free one) to 65535, got '65536'"],
  ])("%j is a usage error", async (argv, message) => {
    const err: string[] = [];
    expect(await main(argv, { stdout: { write: () => true }, stderr: { write: (t: string) => err.push(t) }, cwd: tmpdir() })).toBe(2);
    expect(err.join("")).toBe(`peer-conformance: ${message}\n`);
  });

  test("spec §18.1 and the guide describe the endpoint the runner serves, with its wait", () => {
    const spec = readFileSync("spec/peer-protocol-v1.2.md", "utf8");
    const section = spec.slice(spec.indexOf("### 18.1"), spec.indexOf("## 19."));
    const guide = readFileSync("docs/guides/client-conformance.md", "utf8");
    for (const request of ["GET /cases", "GET /next", "POST /result"]) {
      expect(section).toContain(`| \`${request}\` |`);
      expect(guide).toContain(`| \`${request}\` |`);
    }
    expect(section).toContain(`within ${LISTEN_DEFAULTS.waitMs / 1000} seconds ends the run`);
    expect(guide).toContain(`within ${LISTEN_DEFAULTS.waitMs / 1000} s ends the run`);
    expect(section).not.toContain("(planned)");
  });

  test("a port already taken is a usage error naming it", async () => {
    const taken = await listenForClient({ port: 0 });
    const err: string[] = [];
    try {
      expect(await main(["client", "--listen", String(taken.port)], { stdout: { write: () => true }, stderr: { write: (t: string) => err.push(t) }, cwd: tmpdir() })).toBe(2);
    } finally {
      await taken.close();
    }
    expect(err.join("")).toBe(`peer-conformance: --listen ${taken.port}: cannot listen on 127.0.0.1:${taken.port} (EADDRINUSE)\n`);
  });
});

const fakeCases = clientSuite("fake", "99. Fake", [
  {
    id: "first",
    title: "a case whose client reports nothing",
    requirements: ["PP-HS-002"],
    level: "MUST",
    scenario: "echo",
    async run(ctx) {
      const exit = await ctx.exit(300);
      ctx.check(exit.code === 0, "exit 0", `exit ${exit.code}`);
    },
  },
  {
    id: "second",
    title: "a case after it",
    requirements: ["PP-HS-002"],
    level: "MUST",
    scenario: "echo",
    async run(ctx) {
      const exit = await ctx.exit(10_000);
      ctx.check(exit.code === 0, "exit 0", `exit ${exit.code}`);
    },
  },
]);

describe("the listening client's runner", () => {
  test("a client that never comes makes its case a harness error and ends the run, saying so", async () => {
    const listening = await listenForClient({ port: 0, waitMs: 300, graceMs: 100 });
    try {
      const report = await runClientConformance({ client: listening, cases: fakeCases, startListener: startCaseListener, seed: 7 });
      expect(report.cases).toHaveLength(1);
      expect(report.cases[0]).toMatchObject({ id: "client.fake.first", verdict: "error", message: `the listening client did not ask for case client.fake.first (GET ${listening.url}/next) within 300 ms; a listening client runs GET /next, the case, POST /result, until GET /next answers 204` });
      expect(report.aborted).toBe(`the listening client did not ask for case client.fake.first (GET ${listening.url}/next) within 300 ms; a listening client runs GET /next, the case, POST /result, until GET /next answers 204; 1 of 2 cases not run`);
      expect(report.summary).toMatchObject({ errors: 1, total: 1 });
      expect(validateReport(report)).toEqual({ ok: true });
    } finally {
      await listening.close();
    }
  }, 30_000);

  test("a client that does not report fails the checks that need its status, worded as a missing report; the endpoint refuses malformed and stale reports", async () => {
    const listening = await listenForClient({ port: 0, waitMs: 5000, graceMs: 100 });
    const { url } = listening;
    const post = (body: string) => fetch(`${url}/result`, { method: "POST", body }).then(async (r) => ({ status: r.status, text: await r.text() }));
    // Takes each case and reports nothing; then checks how the endpoint answers reports that are wrong.
    const client = (async () => {
      const first = (await (await fetch(`${url}/next`)).json()) as NextCase;
      expect(first.id).toBe("client.fake.first");
      const second = (await (await fetch(`${url}/next`)).json()) as NextCase;
      expect(second.id).toBe("client.fake.second");
      expect(await post("not json")).toEqual({ status: 400, text: '{"error":"the body is not JSON"}' });
      expect(await post(JSON.stringify({ id: second.id, status: 3 }))).toEqual({ status: 400, text: '{"error":"\\"status\\" must be 0 (completed), 1 (did not complete) or 2 (could not run), got 3"}' });
      expect(await post(JSON.stringify({ id: first.id, status: 0 }))).toEqual({ status: 409, text: '{"error":"case client.fake.first is not in progress (the case in progress is client.fake.second)"}' });
      expect(await post(JSON.stringify({ id: second.id, status: 0, log: "done exit=0" }))).toEqual({ status: 204, text: "" });
      expect(await post(JSON.stringify({ id: second.id, status: 0 }))).toMatchObject({ status: 409 });
      expect((await fetch(`${url}/next`)).status).toBe(204);
    })();
    try {
      const report = await runClientConformance({ client: listening, cases: fakeCases, startListener: startCaseListener, seed: 7 });
      await client;
      expect(report.cases[0]).toMatchObject({ id: "client.fake.first", verdict: "fail", expected: ["the client reports how the case ended (POST /result) within 300 ms"], actual: "nothing within 300 ms; the client reports how the case ended (POST /result): it did not" });
      expect(report.cases[1]).toMatchObject({ id: "client.fake.second", verdict: "pass" });
      expect(report.aborted).toBeUndefined();
    } finally {
      await listening.close();
    }
  }, 30_000);
});
