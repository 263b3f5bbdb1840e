/**
 * A target that requires tokens (discovery `auth.required`, PP-AUTH-006): every probe identity gets
 * and presents its own token, through the target's §4.5 flow or a token command; a token command
 * that fails is the harness's error (exit 2), not the target's; no token reaches a report.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { removeScratchCopies, startFaultyReference } from "../selftest/scratch-reference.ts";
import { main } from "../src/cli.ts";
import type { ProbeIdentity } from "../src/probe/peer.ts";
import { identityFromSeed } from "../src/probe/peer.ts";
import { redactSecrets } from "../src/probe/redact.ts";
import { commandTokenProvider } from "../src/probe/token-command.ts";
import { TokenProviderError, TokenSource, type TokenProvider } from "../src/probe/token-source.ts";
import { EMBEDDED_LIMITS, runConformance, startEmbedded, type RunEvent } from "../src/runner.ts";

const FIXTURE = fileURLToPath(new URL("./fixtures/token-command.mjs", import.meta.url));
const TOKEN_COMMAND = `"${process.execPath}" "${FIXTURE}"`;

/** One case of each kind of connection a probe makes: WebSocket, HTTP binding, events, resume, scenarios, and the cases that test tokens. */
const CASES = [
  "handshake.complete",
  "websocket.not-json-in-session",
  "http.handshake-and-records",
  "http.poll-until-acknowledged",
  "events.broadcast-delivered",
  "resume.resume-after-drop",
  "delivery.route-between-peers",
  "scenarios.delivery-history",
  "keys.identity-point-forgery",
  "auth.bearer-header-and-query",
  "auth.token-must-match",
  "auth.identity-binding",
  "auth.required-on-session-routes",
  "auth.required",
];

const verdicts = (report: { cases: { id: string; verdict: string }[] }) => Object.fromEntries(report.cases.map((c) => [c.id, c.verdict]));

let server: { url: string; close(): Promise<void> };

beforeAll(async () => {
  server = await startEmbedded({ requireToken: true, limits: EMBEDDED_LIMITS });
});

afterAll(async () => {
  await server?.close();
});

describe("a target that requires tokens", () => {
  test("every selected case passes with the tokens of §4.5, and no token reaches the report", async () => {
    const notes: string[] = [];
    const report = await runConformance({ embedded: { requireToken: true }, only: CASES, seed: 11, runs: 5, traces: "all", onEvent: (e: RunEvent) => e.type === "start" && notes.push(...e.notes) });
    expect(verdicts(report)).toEqual(Object.fromEntries(CASES.map((id) => [id, "pass"])));
    expect(notes.join("\n")).toMatch(/requires tokens \(discovery auth\.required\)/);
    // The bad-key case took its token path: the gate at the token endpoint, named in its note.
    expect(report.cases.find((c) => c.id === "keys.identity-point-forgery")?.message).toMatch(/refused at the token endpoint/);
    // Every trace was kept; tokens were issued (POST /auth/verify) and sent in a query (PP-AUTH-005), yet none is in the report.
    const frames = report.cases.flatMap((c) => c.trace ?? []).map((e) => e.frame).join("\n");
    expect(frames).toContain("token=<redacted>");
    expect(frames).toContain('{"token":"<redacted>"');
    expect(JSON.stringify(report)).not.toMatch(/eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\./);
  }, 180_000);

  test("--token-command tokens are presented instead, one command per probe identity", async () => {
    const command = commandTokenProvider(TOKEN_COMMAND);
    const asked = new Set<string>();
    const tokenProvider: TokenProvider = (request) => {
      asked.add(request.entityId);
      return command(request);
    };
    const only = ["handshake.complete", "http.handshake-and-records", "events.subscribe", "auth.required"];
    const report = await runConformance({ target: server.url, only, seed: 12, runs: 3, tokenProvider });
    expect(verdicts(report)).toEqual(Object.fromEntries(only.map((id) => [id, "pass"])));
    expect(asked.size).toBeGreaterThanOrEqual(4);
  }, 120_000);
});

test("under required tokens the bad-key cases still fail against a server that lets a small-order key in: at its token endpoint", async () => {
  // The handshake under a bad key presents the token of the probe's valid key, which PP-AUTH-007
  // refuses anyway; the cases are not vacuous because they first ask §4.5 for the bad key's token.
  const faulty = await startFaultyReference("token-for-small-order-key", { requireToken: true, limits: EMBEDDED_LIMITS });
  try {
    const only = ["keys.identity-point-forgery", "keys.small-order-identity-keys"];
    const report = await runConformance({ target: faulty.url, only, seed: 14 });
    expect(verdicts(report)).toEqual({ "keys.identity-point-forgery": "fail", "keys.small-order-identity-keys": "fail" });
    expect(report.cases[0]?.message).toMatch(/with the signature R = identity, S = 0; got HTTP 200 \{"token":"<redacted>/);
  } finally {
    await faulty.close();
    removeScratchCopies();
  }
}, 60_000);

describe("a token command that fails is a harness error, not the target's", () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) }, cwd: mkdtempSync(join(tmpdir(), "pc-tokens-")) }, out, err };
  };

  test("the CLI exits 2 naming the command and its stderr, and runs no case", async () => {
    const { io: streams, out, err } = io();
    const command = "echo 'the vault is sealed' >&2; exit 3";
    expect(await main([server.url, "--only", "handshake.complete", "--token-command", command], streams)).toBe(2);
    const stderr = err.join("").split("\n").filter((line) => !line.startsWith("peer-conformance: pre-flight:")).join("\n");
    expect(stderr.startsWith(`peer-conformance: --token-command "${command}" exited with code 3 for entity probe-`)).toBe(true);
    expect(stderr.endsWith("; its stderr: the vault is sealed\n")).toBe(true);
    expect(out.join("")).not.toMatch(/handshake\.complete|failed/);
  }, 30_000);

  test.each([
    ["true", { timeoutMs: 10_000 }, /printed no token on stdout/],
    // The shell's own child keeps the pipes open: the timeout must not wait for it.
    ["sleep 5; echo late", { timeoutMs: 300 }, /gave no token within 300 ms/],
    ["echo two words", { timeoutMs: 10_000 }, /more than one word/],
  ])("%s: TokenProviderError", async (command, options, message) => {
    const provider = commandTokenProvider(command, options);
    const started = Date.now();
    const failure = await provider({ entityId: "probe-x", publicKey: "k", privateKey: "s", target: "http://127.0.0.1:1" }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TokenProviderError);
    expect(String((failure as Error).message)).toMatch(message);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  test("a provider that fails during a case stops the run with TokenProviderError, not a failed case", async () => {
    let calls = 0;
    const tokenProvider: TokenProvider = async () => {
      calls++;
      if (calls > 1) throw new Error("the identity provider went away");
      return "first-and-only";
    };
    await expect(runConformance({ target: server.url, only: ["handshake.complete"], seed: 13, tokenProvider })).rejects.toThrow(/the token provider failed for entity \S+: the identity provider went away/);
  }, 30_000);
});

describe("TokenSource", () => {
  const jwt = (exp: number) => `eyJhbGciOiJFZERTQSJ9.${Buffer.from(JSON.stringify({ exp })).toString("base64url")}.sig`;
  const identity = (n: number): ProbeIdentity => identityFromSeed(new Uint8Array(32).fill(n));

  test("keeps a token per (entity id, key) and fetches it again before it expires", async () => {
    let now = 1_000_000_000_000;
    const issued: string[] = [];
    const source = new TokenSource({
      baseUrl: "http://target",
      discovery: null,
      now: () => now,
      provider: async ({ entityId, publicKey }) => {
        issued.push(`${entityId}/${publicKey}`);
        return jwt(now / 1000 + 300);
      },
    });
    expect(source.presents).toBe(true);
    const a = identity(1);
    const first = await source.tokenFor(a);
    expect(await source.tokenFor(a)).toBe(first);
    await source.tokenFor(identity(2));
    await source.tokenFor({ ...a, entityId: "another-entity" });
    expect(issued).toHaveLength(3);
    // 300 s tokens are renewed once less than 30 s remain.
    now += 269_000;
    expect(await source.tokenFor(a)).toBe(first);
    now += 2_000;
    expect(await source.tokenFor(a)).not.toBe(first);
    expect(issued).toHaveLength(4);
  });

  test("concurrent probes of one identity share one fetch", async () => {
    let calls = 0;
    const source = new TokenSource({ baseUrl: "http://target", discovery: null, provider: async () => (calls++, jwt(Date.now() / 1000 + 300)) });
    const a = identity(3);
    const tokens = await Promise.all([source.tokenFor(a), source.tokenFor(a), source.tokenFor(a)]);
    expect(new Set(tokens).size).toBe(1);
    expect(calls).toBe(1);
  });

  test("presents tokens only when discovery requires them or a provider is given", () => {
    expect(new TokenSource({ baseUrl: "http://t", discovery: { auth: { required: false } } }).presents).toBe(false);
    expect(new TokenSource({ baseUrl: "http://t", discovery: null }).presents).toBe(false);
    expect(new TokenSource({ baseUrl: "http://t", discovery: { auth: { required: true } } }).presents).toBe(true);
  });
});

test("redactSecrets removes bearer tokens, token query values, issued tokens and JWTs", () => {
  const token = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln";
  expect(redactSecrets(`Authorization: Bearer ${token}`)).toBe("Authorization: Bearer <redacted>");
  expect(redactSecrets(`<connect ws://h/ws/v1/peers?session_id=s&token=opaque-123&x=1>`)).toBe("<connect ws://h/ws/v1/peers?session_id=s&token=<redacted>&x=1>");
  expect(redactSecrets(`HTTP 200 {"token":"${token}","expires_at":1}`)).toBe('HTTP 200 {"token":"<redacted>","expires_at":1}');
  expect(redactSecrets(`echoed ${token} back`)).toBe("echoed <redacted> back");
  // A message that quotes an answer cut at 200 characters may cut the token too.
  expect(redactSecrets(`got HTTP 200 {"token":"${token.slice(0, 30)}`)).toBe('got HTTP 200 {"token":"<redacted>');
  expect(redactSecrets(`… ${token.slice(0, 30)}`)).toBe("… <redacted>");
  expect(redactSecrets('{"challenge":"abc","expires_at":1}')).toBe('{"challenge":"abc","expires_at":1}');
});
