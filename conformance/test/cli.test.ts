import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { main, parseCli, readReplay, replayFileName } from "../src/cli.ts";
import { UsageError } from "../src/selection.ts";

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) }, cwd: mkdtempSync(join(tmpdir(), "pc-cli-")) }, out, err };
}

describe("flag parsing", () => {
  test("defaults: no file reporters (the summary goes to stdout), ./conformance-results, no target", () => {
    expect(parseCli([])).toMatchObject({ target: undefined, reporters: [], outDir: "conformance-results", quiet: false, insecure: false, only: [], strict: false, slow: false });
  });

  test("every flag is read, repeatable ones accumulate", () => {
    const o = parseCli(["ws://h:1/ws/v1/peers", "--only", "handshake,PP-KS-001", "--only", "keys", "--skip", "handshake.timeout", "--strict", "--slow", "--runs", "7", "--seed=-3", "--path", "1:0", "--timeout", "900", "--reporter", "json=out.json", "--reporter", "junit", "--expected-failures", "base.txt"]);
    expect(o).toMatchObject({ target: "ws://h:1/ws/v1/peers", only: ["handshake", "PP-KS-001", "keys"], skip: ["handshake.timeout"], strict: true, slow: true, runs: 7, seed: -3, path: "1:0", timeoutMs: 900, reporters: [{ name: "json", file: "out.json" }, { name: "junit" }], expectedFailures: "base.txt" });
  });

  test("--token-command is read as one shell command", () => {
    expect(parseCli(["--token-command", "vault read -field=token secret/$PEER_ENTITY_ID"]).tokenCommand).toBe("vault read -field=token secret/$PEER_ENTITY_ID");
    expect(parseCli([]).tokenCommand).toBeUndefined();
  });

  test.each([
    [["--frobnicate"], "unknown flag --frobnicate"],
    [["--runs", "abc"], "--runs expects a positive integer, got 'abc'"],
    [["--runs", "0"], "--runs expects a positive integer, got '0'"],
    [["--seed", "4294967296"], "--seed expects a 32-bit integer"],
    [["--timeout", "1.5"], "--timeout expects a positive number of milliseconds, got '1.5'"],
    [["--reporter", "xml"], "--reporter expects pretty|json|junit|markdown|html[=FILE], got 'xml'"],
    [["--out-dir", " "], "--out-dir needs a directory"],
    [["--ca", ""], "--ca needs a PEM file"],
    [["--reporter", "json="], "--reporter json= needs a file name"],
    [["--time-budget", "0"], "--time-budget expects a positive number of seconds (at most 86400), got '0'"],
    [["--path", "a:b"], "--path expects a fast-check path such as 3:0:1 (or 3:0:1~AB:C for a generated scenario, as the report prints it), got 'a:b'"],
    [["ftp://x"], "TARGET must be a ws(s):// or http(s):// URL, got 'ftp://x'"],
    [["ws://a", "ws://b"], "expected at most one TARGET"],
    [["--only"], "--only needs a value"],
    [["--seed", "-3"], "--seed: write a value that starts with '-' as --seed=VALUE"],
    [["--token-command", " "], "--token-command needs a command that prints a token"],
  ])("%j is a usage error naming the flag and the expected form", (argv, message) => {
    expect(() => parseCli(argv)).toThrow(UsageError);
    expect(() => parseCli(argv)).toThrow(message);
  });
});

describe("main", () => {
  test("a bad flag prints one line to stderr and exits 2", async () => {
    const { io: streams, err, out } = io();
    expect(await main(["--runs", "x"], streams)).toBe(2);
    expect(err.join("")).toBe("peer-conformance: --runs expects a positive integer, got 'x'\n");
    expect(out).toEqual([]);
  });

  test("--list prints every case with its requirements and exits 0 without a target", async () => {
    const { io: streams, out } = io();
    expect(await main(["--list"], streams)).toBe(0);
    expect(out.join("")).toMatch(/keys\.identity-point-forgery {2}\[MUST\] PP-HS-006/);
  });

  test("a selector that matches nothing exits 2", async () => {
    const { io: streams, err } = io();
    expect(await main(["--list", "--only", "no-such-case"], streams)).toBe(2);
    expect(err.join("")).toContain("'no-such-case' match no case");
  });

  test("an unreachable target exits 2 with one line naming the URL", async () => {
    const { io: streams, err } = io();
    expect(await main(["http://127.0.0.1:1", "--only", "handshake.complete"], streams)).toBe(2);
    expect(err.join("")).toMatch(/\npeer-conformance: cannot reach http:\/\/127\.0\.0\.1:1: [^\n]+\n$/);
  });

  test("a missing expected-failures file is a usage error", async () => {
    const { io: streams, err } = io();
    expect(await main(["http://127.0.0.1:1", "--expected-failures", "/nonexistent/base.txt"], streams)).toBe(2);
    expect(err.join("")).toContain("--expected-failures /nonexistent/base.txt: ENOENT");
  });

  test("--help and --version exit 0", async () => {
    const { io: streams, out } = io();
    expect(await main(["--help"], streams)).toBe(0);
    expect(await main(["--version"], streams)).toBe(0);
    expect(out.join("")).toContain("Usage: peer-conformance [TARGET] [options]");
  });
});

describe("replay files", () => {
  test("are named after the case and read back", () => {
    expect(replayFileName("keys.zero-shared-secret")).toBe("conformance-replay-keys.zero-shared-secret.json");
    const dir = mkdtempSync(join(tmpdir(), "pc-replay-"));
    const file = join(dir, "r.json");
    writeFileSync(file, JSON.stringify({ tool: "peer-conformance", case: "delivery.echo", seed: 5, path: "2:1", target: "embedded" }));
    expect(readReplay(file)).toMatchObject({ case: "delivery.echo", seed: 5, path: "2:1" });
    writeFileSync(file, "{}");
    expect(() => readReplay(file)).toThrow(/expected \{"case", "seed", "target"/);
    expect(readFileSync(file, "utf8")).toBe("{}");
  });
});
