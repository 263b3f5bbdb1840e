/**
 * `peer-conformance matrix`: the targets file is validated with the path of the bad field, a
 * server that does not come up is reported with its output, and a matrix of two reference
 * servers started by command writes matrix.md and matrix.html with a cell per case and target.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { matrixMain } from "../src/matrix/main.ts";
import { ServerStartError, startServer } from "../src/matrix/server.ts";
import { parseMatrixFile } from "../src/matrix/targets.ts";
import type { Report } from "../src/report.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(join(tmpdir(), "matrix-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const io = () => {
  const out = { stdout: "", stderr: "" };
  return { out, io: { stdout: { write: (t: string) => (out.stdout += t) }, stderr: { write: (t: string) => (out.stderr += t) }, cwd: dir } };
};

const invalid = (yaml: string) => {
  try {
    parseMatrixFile(yaml, "targets.yaml");
  } catch (error) {
    return (error as Error).message;
  }
  return "no error";
};

describe("the targets file", () => {
  test("a valid file: shared options, a command target and a url target", () => {
    const file = parseMatrixFile(
      "seed: 5\nonly: handshake, discovery\nruns: 3\ntargets:\n  - name: ref\n    command: node server.js --port {port}\n    ready-timeout: 5000\n    env: { A: 1 }\n  - name: remote\n    url: wss://example.test/ws/v1/peers\n    skip: [limits]\n    strict: true\n",
      "targets.yaml",
    );
    expect(file).toEqual({
      seed: 5,
      only: ["handshake", "discovery"],
      runs: 3,
      targets: [
        { name: "ref", command: "node server.js --port {port}", readyTimeoutMs: 5000, env: { A: "1" } },
        { name: "remote", url: "wss://example.test/ws/v1/peers", skip: ["limits"], strict: true },
      ],
    });
  });

  test.each([
    ["targets: [\n", /^targets\.yaml:\d+:\d+: not valid YAML/],
    ["- a\n- b\n", "targets.yaml: (top level): expected a mapping, got a list"],
    ["seed: 1\n", "targets.yaml: targets: expected a list of one or more targets, got nothing"],
    ["targets: []\n", "targets.yaml: targets: expected a list of one or more targets, got an empty list"],
    ["sede: 1\ntargets: [{name: a, url: 'ws://x'}]\n", "targets.yaml: sede: unknown key (expected one of seed, targets, only, skip, runs, slow, strict, timeout, token-command)"],
    ["targets:\n  - name: a\n", "targets.yaml: targets[0]: give url (a running server) or command (one to start)"],
    ["targets:\n  - url: ws://x\n", "targets.yaml: targets[0].name: expected a non-empty string, got nothing"],
    ["targets:\n  - name: a\n    url: ftp://x\n", 'targets.yaml: targets[0].url: expected a ws(s):// or http(s):// URL, got "ftp://x"'],
    ["targets:\n  - name: a\n    url: ws://x\n  - name: b\n    command: run\n    runs: many\n", 'targets.yaml: targets[1].runs: expected a positive integer, got "many"'],
    ["targets:\n  - name: a\n    url: ws://x\n    onyl: [handshake]\n", "targets.yaml: targets[0].onyl: unknown key (expected one of name, url, command, ready, ready-timeout, cwd, env, only, skip, runs, slow, strict, timeout, token-command)"],
    ["targets:\n  - name: a\n    url: ws://x\n    only: [handshak]\n", "targets.yaml: targets[0].only: 'handshak' matches no case id, requirement id, suite or section (see peer-conformance --list)"],
    ["targets:\n  - name: a\n    url: ws://x\n    ready: http://x/\n", "targets.yaml: targets[0].ready: only with command (a server the matrix starts)"],
    ["targets:\n  - name: a\n    url: ws://x:{port}\n", "targets.yaml: targets[0].url: {port} is only replaced for a target started by command"],
    ["targets:\n  - name: a\n    command: x\n    env: { B: [1] }\n", "targets.yaml: targets[0].env.B: expected a string, got [1]"],
    ["seed: 2147483648\ntargets:\n  - name: a\n    url: ws://x\n", "targets.yaml: seed: expected a 32-bit integer (-2147483648 to 2147483647), got 2147483648"],
    ["targets:\n  - name: Ref\n    url: ws://x\n  - name: ref\n    url: ws://y\n", 'targets.yaml: targets[1].name: "ref" names the same files as targets[0] ("Ref"); names must differ in more than case and punctuation'],
    ["targets:\n  - name: a\n    url: ws://x\n    slow: yes please\n", 'targets.yaml: targets[0].slow: expected true or false, got "yes please"'],
  ])("rejects %j", (yaml, message) => {
    if (typeof message === "string") expect(invalid(yaml)).toBe(message);
    else expect(invalid(yaml)).toMatch(message);
  });

  test("matrixMain: a usage error exits 2 with the message, before any target runs", async () => {
    writeFileSync(join(dir, "bad.yaml"), "targets:\n  - name: a\n    url: ws://x\n    runs: 0\n");
    const bad = io();
    expect(await matrixMain(["bad.yaml"], bad.io)).toBe(2);
    expect(bad.out.stderr).toBe("peer-conformance matrix: bad.yaml: targets[0].runs: expected a positive integer, got 0\n");
    const missing = io();
    expect(await matrixMain(["nope.yaml"], missing.io)).toBe(2);
    expect(missing.out.stderr).toBe("peer-conformance matrix: nope.yaml: cannot read it (ENOENT)\n");
    const none = io();
    expect(await matrixMain([], none.io)).toBe(2);
    expect(none.out.stderr).toMatch(/expected one targets FILE, got none/);
    const flag = io();
    expect(await matrixMain(["bad.yaml", "--sed", "1"], flag.io)).toBe(2);
    expect(flag.out.stderr).toMatch(/unknown flag --sed/);
  });
});

describe("a server started by command", () => {
  test("that exits before it is ready: the error has its exit code and its output", async () => {
    const error = await startServer({ command: "echo starting on {port}; echo 'bind: address in use' >&2; exit 3", ready: "http://127.0.0.1:{port}/", readyTimeoutMs: 5000, cwd: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerStartError);
    expect((error as Error).message).toMatch(/exited \(code 3\) before http:\/\/127\.0\.0\.1:\d+\/ answered; its output ended:\n {2}\| starting on \d+\n {2}\| bind: address in use/);
  });

  test("that never answers: stopped after ready-timeout, with the whole process group", async () => {
    const pidFile = join(dir, "child.pid");
    const error = await startServer({ command: `sleep 30 & echo $! > ${pidFile}; echo waiting; wait`, ready: "http://127.0.0.1:{port}/", readyTimeoutMs: 700, cwd: dir }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/did not answer at http:\/\/127\.0\.0\.1:\d+\/ within 700 ms \(ready-timeout\); it was stopped\. Its output ended:\n {2}\| waiting/);
    const pid = Number(readFileSync(pidFile, "utf8"));
    // Gone, or a zombie its new parent has not reaped yet.
    const alive = () => existsSync(`/proc/${pid}/stat`) && !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
    for (let i = 0; i < 20 && alive(); i++) await new Promise((r) => setTimeout(r, 50));
    expect(alive()).toBe(false);
  });
});

describe("a matrix of two reference servers started by command", () => {
  test("writes matrix.md and matrix.html with one cell per case and target, and each target's report", async () => {
    const server = `node --import tsx conformance/test/fixtures/matrix-server.ts {port}`;
    writeFileSync(
      join(dir, "two.yaml"),
      [
        "seed: 11",
        "runs: 2",
        "only: [handshake]",
        "targets:",
        `  - name: open`,
        `    command: ${server}`,
        `    cwd: ${ROOT}`,
        `  - name: tokens`,
        `    command: ${server} --require-token`,
        `    url: ws://127.0.0.1:{port}/ws/v1/peers`,
        `    cwd: ${ROOT}`,
        `    only: [handshake.complete, handshake.session-id]`,
        "",
      ].join("\n"),
    );
    const run = io();
    const code = await matrixMain(["two.yaml", "--out-dir", "out", "--json"], run.io);
    expect(run.out.stderr).not.toMatch(/not run/);
    expect(code).toBe(0);
    expect(run.out.stdout).toBe("2 of 2 targets passed (seed 11): open pass, tokens pass\nwrote out/matrix.md, out/matrix.html and out/targets/\n");
    const open = JSON.parse(readFileSync(join(dir, "out/targets/open.json"), "utf8")) as Report;
    const tokens = JSON.parse(readFileSync(join(dir, "out/targets/tokens.json"), "utf8")) as Report;
    expect(open.seed).toBe(11);
    expect(tokens.seed).toBe(11);
    expect(tokens.cases.map((c) => c.id)).toEqual(["handshake.complete", "handshake.session-id"]);
    expect(open.cases.length).toBeGreaterThan(10);

    const md = readFileSync(join(dir, "out/matrix.md"), "utf8");
    expect(md).toContain("| | open | tokens |");
    expect(md).toContain("| **result** | ✅ pass | ✅ pass |");
    expect(md).toContain(`| **passed** | ${open.summary.passed} | 2 |`);
    expect(md).toContain("| `handshake.complete` | MUST | ✅ pass | ✅ pass |");
    // A case only one target ran is "—" for the other.
    expect(md).toContain("| `handshake.timeout` | MUST | ✅ pass | — |");
    expect(md).toMatch(/## Where the targets differ\n\n\| case \| level \| open \| tokens \|\n\| --- \| --- \| --- \| --- \|\n\| `handshake\.[a-z-]+` \| MUST \| ✅ pass \| — \|\n/);
    const differing = open.cases.length - tokens.cases.length;
    expect(md.match(/^\| `handshake\./gm)).toHaveLength(open.cases.length + differing);

    const html = readFileSync(join(dir, "out/matrix.html"), "utf8");
    const cells = [...html.matchAll(/<td class="cell v-(\w+)" data-target="(\w+)" data-verdict="\w+" title="([^"]*)"><a href="([^"]+)">/g)];
    expect(cells).toHaveLength(open.cases.length + tokens.cases.length);
    expect(cells.filter((c) => c[2] === "tokens").map((c) => c[4])).toEqual(["targets/tokens.html#case-handshake.complete", "targets/tokens.html#case-handshake.session-id"]);
    expect(cells.every((c) => c[1] === "pass")).toBe(true);
    expect(html).toContain('<tr data-case="handshake.timeout" class="differs">');
    expect(existsSync(join(dir, "out/targets/open.html"))).toBe(true);
    // Both servers were stopped: their ports no longer answer.
    for (const report of [open, tokens]) await expect(fetch(`${report.target.replace(/^ws/, "http").replace(/\/ws\/v1\/peers$/, "")}/peers/capabilities`)).rejects.toThrow();
  }, 60_000);

  test("a target that cannot be run is a failed column with the reason, and the matrix exits 1", async () => {
    writeFileSync(join(dir, "down.yaml"), "targets:\n  - name: gone\n    url: http://127.0.0.1:9\n    only: [discovery]\n");
    const run = io();
    expect(await matrixMain(["down.yaml", "--out-dir", "down", "--seed", "3"], run.io)).toBe(1);
    expect(run.out.stdout).toMatch(/^0 of 1 targets passed \(seed 3\): gone not run\n/);
    const md = readFileSync(join(dir, "down/matrix.md"), "utf8");
    expect(md).toMatch(/\| \*\*result\*\* \| ❌ not run: .*127\.0\.0\.1:9/);
    expect(md).toContain("## Targets not run");
  });
});
