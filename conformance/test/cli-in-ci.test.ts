/**
 * The CLI as a CI job meets it (issue 13): a target that is not Peer Protocol stops at pre-flight,
 * a target that dies mid-run aborts with exit 2, the baseline shows in JUnit and JSON, inputs are
 * checked before the first case, progress goes to stderr and the summary stays on stdout, and TLS
 * targets are reached with --ca or --insecure. Real servers throughout: the reference server (in
 * process, or as a child process that is killed), a plain `ws` echo server, and the self-test's
 * fault proxy for a case that fails.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { WebSocketServer } from "ws";
import { validateReport } from "../../schemas/src/index.ts";
import { main } from "../src/cli.ts";
import type { Report } from "../src/report.ts";
import { startEmbedded } from "../src/runner.ts";
import { startFaultProxy } from "../selftest/fault-proxy.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

function io(onStderr?: (text: string) => void) {
  const out: string[] = [];
  const err: string[] = [];
  const cwd = mkdtempSync(join(tmpdir(), "pc-ci-"));
  return {
    io: {
      stdout: { write: (t: string) => out.push(t) },
      stderr: {
        write: (t: string) => {
          err.push(t);
          onStderr?.(t);
          return true;
        },
      },
      cwd,
    },
    out,
    err,
    cwd,
  };
}

const reportIn = (cwd: string, file: string): Report => JSON.parse(readFileSync(join(cwd, "conformance-results", file), "utf8")) as Report;

describe("pre-flight", () => {
  let echo: WebSocketServer;
  let url: string;
  beforeAll(async () => {
    echo = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    echo.on("connection", (ws) => ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary })));
    await new Promise<void>((resolve) => echo.once("listening", () => resolve()));
    url = `ws://127.0.0.1:${(echo.address() as { port: number }).port}/ws/v1/peers`;
  });
  afterAll(() => new Promise<void>((resolve) => echo.close(() => resolve())));

  test("a WebSocket echo server stops the run in one line with exit 2, before any case, and no file is written", async () => {
    const { io: streams, out, err, cwd } = io();
    expect(await main([url, "--reporter", "junit=j.xml"], streams)).toBe(2);
    const lines = err.join("").trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(`peer-conformance: pre-flight: discovery and a first handshake with ${url}`);
    expect(lines[1]).toBe(`peer-conformance: ${url} does not speak Peer Protocol v1.2: GET /peers/capabilities answered HTTP 426, and HANDSHAKE_INIT was answered with itself (an echo server?)`);
    expect(out.join("")).toBe("");
    expect(readdirSync(cwd)).toEqual([]);
  });
});

describe("a target that dies mid-run", () => {
  let server: ChildProcess;
  let url: string;
  beforeAll(async () => {
    server = spawn(process.execPath, ["--import", "tsx", "reference/src/cli/peer-server.ts", "--port", "0", "--log-level", "silent"], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
    url = await new Promise<string>((resolve, reject) => {
      let text = "";
      server.stdout!.on("data", (chunk: Buffer) => {
        text += chunk.toString();
        const match = /listening on (ws:\/\/\S+)/.exec(text);
        if (match) resolve(match[1]!);
      });
      server.once("exit", (code) => reject(new Error(`peer-server exited with ${code}: ${text}`)));
    });
  }, 30_000);
  afterAll(() => {
    server.kill("SIGKILL");
  });

  test("aborts with exit 2 and 'target stopped answering'; the case it died in is an error, not a failure, and gets no replay file", async () => {
    let killed = false;
    const { io: streams, err, cwd } = io((text) => {
      // Killed for real (SIGKILL) once the second case has finished.
      if (!killed && /^\[ ?2\/\d+\]/.test(text)) {
        killed = true;
        server.kill("SIGKILL");
      }
    });
    expect(await main([url, "--only", "handshake", "--reporter", "json=run.json", "--reporter", "junit=run.xml"], streams)).toBe(2);
    expect(killed).toBe(true);
    const stderr = err.join("");
    expect(stderr).toMatch(/peer-conformance: run aborted: the target stopped answering during case handshake\.[\w.-]+ \(GET \/peers\/capabilities: ECONNREFUSED/);
    const report = reportIn(cwd, "run.json");
    expect(validateReport(report)).toEqual({ ok: true });
    expect(report.aborted).toMatch(/^the target stopped answering during case handshake\.[\w.-]+ .*; \d+ of \d+ cases not run$/);
    expect(report.cases.slice(0, 2).map((c) => c.verdict)).toEqual(["pass", "pass"]);
    const last = report.cases.at(-1)!;
    expect(last.verdict).toBe("error");
    expect(report.summary.failed).toBe(0);
    expect(report.cases.length).toBeLessThan(21);
    expect(readdirSync(join(cwd, "conformance-results")).filter((f) => f.startsWith("conformance-replay-"))).toEqual([]);
    expect(readFileSync(join(cwd, "conformance-results", "run.xml"), "utf8")).toMatch(/<testsuites [^>]*failures="0" errors="2"/);
  }, 60_000);
});

describe("the baseline in JUnit and JSON", () => {
  let close: () => Promise<void>;
  let url: string;
  beforeAll(async () => {
    // A real failure: the proxy inverts `retryable` in the server's ERROR envelopes (PP-ERR-003).
    const upstream = await startEmbedded();
    const proxy = await startFaultProxy(upstream.url, { fault: "wrong-retryable" });
    url = proxy.url;
    close = async () => {
      await proxy.close();
      await upstream.close();
    };
  }, 30_000);
  afterAll(() => close());

  test("with the failure expected, the run exits 0 and JUnit shows 0 failures; an entry that passes is stale: exit 1, a failure in JUnit and in JSON", async () => {
    const { io: streams, cwd } = io();
    writeFileSync(join(cwd, "baseline.json"), JSON.stringify([{ id: "errors.registry-values", reason: "retryable inverted, issue 42" }]));
    expect(await main([url, "--only", "errors.registry-values,handshake.complete", "--expected-failures", "baseline.json", "--reporter", "junit=j.xml", "--reporter", "json=r.json"], streams)).toBe(0);
    const junit = readFileSync(join(cwd, "conformance-results", "j.xml"), "utf8");
    expect(junit).toMatch(/<testsuites [^>]*tests="2" failures="0" errors="0" skipped="1"/);
    expect(junit).toContain('<skipped message="expected failure (baseline): retryable inverted, issue 42"/>');
    const report = reportIn(cwd, "r.json");
    expect(report.baseline).toEqual({ file: "baseline.json", expected: [{ id: "errors.registry-values", reason: "retryable inverted, issue 42" }], stale: [] });
    expect(report.cases.find((c) => c.id === "errors.registry-values")!.verdict).toBe("fail");
    expect(validateReport(report)).toEqual({ ok: true });

    writeFileSync(join(cwd, "baseline.txt"), "errors.registry-values\nhandshake.complete  # fixed since\n");
    expect(await main([url, "--only", "errors.registry-values,handshake.complete", "--expected-failures", "baseline.txt", "--reporter", "junit=j2.xml", "--reporter", "json=r2.json"], streams)).toBe(1);
    const stale = readFileSync(join(cwd, "conformance-results", "j2.xml"), "utf8");
    expect(stale).toMatch(/<testsuites [^>]*tests="3" failures="1" errors="0" skipped="1"/);
    expect(stale).toContain('name="stale entry handshake.complete"');
    expect(reportIn(cwd, "r2.json").baseline!.stale).toEqual([{ id: "handshake.complete", why: "passes" }]);
  }, 60_000);
});

describe("inputs are checked before the first case", () => {
  // Port 1 refuses connections: an error about it would mean the run had started.
  const unreachable = "http://127.0.0.1:1";

  test.each([
    // A regular file where a directory should be (root can write anywhere else).
    ["junit=not-a-dir/j.xml", (cwd: string) => `--reporter junit=not-a-dir/j.xml: cannot write ${join(cwd, "conformance-results", "not-a-dir", "j.xml")} (part of its path is a file, not a directory)`],
    [`json=${tmpdir()}`, () => `--reporter json=${tmpdir()}: ${tmpdir()} is a directory`],
  ])("an unwritable report path (%s) is a usage error, and nothing is left behind", async (flag, message) => {
    const { io: streams, err, cwd } = io();
    mkdirSync(join(cwd, "conformance-results"));
    writeFileSync(join(cwd, "conformance-results", "not-a-dir"), "");
    expect(await main([unreachable, "--reporter", flag], streams)).toBe(2);
    expect(err.join("")).toBe(`peer-conformance: ${message(cwd)}\n`);
    expect(readdirSync(join(cwd, "conformance-results"))).toEqual(["not-a-dir"]);
  });

  test("a baseline entry that names no case is a usage error naming it", async () => {
    const { io: streams, err, cwd } = io();
    writeFileSync(join(cwd, "baseline.txt"), "handshake.complete\nhandshake.compelte\n");
    expect(await main([unreachable, "--expected-failures", "baseline.txt"], streams)).toBe(2);
    expect(err.join("")).toBe("peer-conformance: --expected-failures baseline.txt: 'handshake.compelte' is not a case id (see --list)\n");
  });

  test("a second reporter on stdout is a usage error", async () => {
    const { io: streams, err } = io();
    expect(await main([unreachable, "--reporter", "json", "--reporter", "junit"], streams)).toBe(2);
    expect(err.join("")).toBe("peer-conformance: at most one --reporter can write to stdout, got json, junit: give the others a file (--reporter junit=FILE)\n");
  });

  test("--ca with a file that is not PEM is a usage error", async () => {
    const { io: streams, err, cwd } = io();
    writeFileSync(join(cwd, "ca.txt"), "not a certificate");
    expect(await main([unreachable, "--ca", "ca.txt"], streams)).toBe(2);
    expect(err.join("")).toBe("peer-conformance: --ca ca.txt: expected PEM certificates (-----BEGIN CERTIFICATE-----)\n");
  });
});

describe("what the console shows", () => {
  test("progress on stderr, one line per case; the summary on stdout beside file reporters; --quiet drops it; a report on stdout moves it to stderr", async () => {
    const a = io();
    expect(await main(["--only", "handshake.complete,handshake.session-id", "--reporter", "junit=j.xml"], a.io)).toBe(0);
    const progress = a.err.join("").split("\n").filter((line) => line.startsWith("["));
    expect(progress).toEqual([expect.stringMatching(/^\[1\/2\] ✔ pass {2}handshake\.complete \(\d+ ms\)$/), expect.stringMatching(/^\[2\/2\] ✔ pass {2}handshake\.session-id \(\d+ ms\)$/)]);
    expect(a.out.join("")).toMatch(/2 passed, 0 failed, 0 warned, 0 skipped of 2 in [\d.]+ s\nMUST requirements checked by this run: \d+ of the \d+ its cases cite/);

    const quiet = io();
    expect(await main(["--only", "handshake.complete", "--reporter", "junit=j.xml", "--quiet"], quiet.io)).toBe(0);
    expect(quiet.out.join("")).toBe("");
    expect(existsSync(join(quiet.cwd, "conformance-results", "j.xml"))).toBe(true);

    const json = io();
    expect(await main(["--only", "handshake.complete", "--reporter", "json"], json.io)).toBe(0);
    expect((JSON.parse(json.out.join("")) as Report).summary.passed).toBe(1);
    expect(json.err.join("")).toContain("1 passed, 0 failed");
  }, 60_000);
});

describe("TLS targets", () => {
  let dir: string;
  let close: () => Promise<void>;
  let url: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "pc-tls-"));
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
    const upstream = await startEmbedded();
    const proxy = await startFaultProxy(upstream.url, { fault: null, tls: { cert: readFileSync(join(dir, "cert.pem")), key: readFileSync(join(dir, "key.pem")) } });
    url = proxy.url;
    close = async () => {
      await proxy.close();
      await upstream.close();
    };
  }, 30_000);
  afterAll(() => close());

  test("a self-signed certificate is told in plain words; --ca FILE and --insecure reach the target", async () => {
    expect(url).toMatch(/^https:/);
    const plain = io();
    expect(await main([url, "--only", "handshake.complete"], plain.io)).toBe(2);
    expect(plain.err.join("")).toContain(`peer-conformance: cannot reach ${url}: the target's certificate is self-signed: pass it (or its CA) with --ca FILE, or skip verification with --insecure\n`);

    const withCa = io();
    expect(await main([url, "--only", "handshake.complete", "--ca", join(dir, "cert.pem"), "--reporter", "json=r.json"], withCa.io)).toBe(0);
    expect(reportIn(withCa.cwd, "r.json").cases.map((c) => c.verdict)).toEqual(["pass"]);

    const insecure = io();
    expect(await main([url, "--only", "handshake.complete", "--insecure"], insecure.io)).toBe(0);

    // The settings of one run are not left behind for the next.
    const again = io();
    expect(await main([url, "--only", "handshake.complete"], again.io)).toBe(2);
  }, 60_000);
});
