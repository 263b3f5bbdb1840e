/**
 * A client in another language, tested through `peer-conformance client --command` (issue 14): the
 * Python driver (python/peer_client_driver.py) implements the echo scenario of the contract (spec
 * §18.1) on `cryptography` and `websockets`, and ON PURPOSE does not validate the responder's
 * identity key (PP-HS-006, PP-KS-013, PP-KS-014). The report must say exactly that: the two
 * key-validation cases fail with their reason, in the JSON and the JUnit report, and every other
 * handshake case passes.
 *
 * Needs a python3 that imports websockets and cryptography (Debian: python3-websockets,
 * python3-cryptography; .ci/run installs them). Without one the tests skip and say so.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { validateReport } from "../../../schemas/src/index.ts";
import { main } from "../../src/cli.ts";
import type { Report } from "../../src/report.ts";

const DIR = fileURLToPath(new URL("./python/", import.meta.url));
const DRIVER = join(DIR, "peer_client_driver.py");

/** The first python3 that has both modules: the one on PATH, else Debian's (pyenv and venvs may shadow it). */
const PYTHON = ["python3", "/usr/bin/python3"].find((candidate) => spawnSync(candidate, ["-c", "import websockets, cryptography"], { stdio: "ignore" }).status === 0);
const SKIPPED = "skipped: no python3 imports websockets and cryptography (apt-get install python3-websockets python3-cryptography)";

/**
 * The §7.4 checks the driver leaves to OpenSSL, which does not make them: the identity key's
 * encoding and order (left out on purpose) and a small-order R in a signature (OpenSSL takes one
 * that satisfies the equation; it refuses a non-canonical R and an S not below L by itself).
 */
const KEY_CASES = ["client.handshake.identity-key-small-order", "client.handshake.identity-key-non-canonical", "client.handshake.signature-r-small-order"];
const PASSING = [
  "client.handshake.complete",
  "client.handshake.responder-signature-bit-flip",
  "client.handshake.responder-finished-wrong",
  "client.handshake.ephemeral-small-order",
  "client.handshake.ephemeral-reflected",
  "client.handshake.established-session-id-mismatch",
  "client.handshake.capability-not-offered",
  "client.handshake.ready-wrong-handshake-hash",
  "client.handshake.signature-scalar-plus-l",
  "client.handshake.signature-r-non-canonical",
  "client.handshake.version-not-offered",
  "client.handshake.roles-reversed",
];

function io() {
  const out: string[] = [];
  const err: string[] = [];
  const cwd = mkdtempSync(join(tmpdir(), "pc-python-"));
  return { io: { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) }, cwd }, out, err, cwd };
}

describe.skipIf(!PYTHON)(`the Python driver${PYTHON ? "" : ` (${SKIPPED})`}`, () => {
  const python = PYTHON as string;

  test("its encoding, key schedule and records match the spec's vectors (python -m unittest)", () => {
    const run = spawnSync(python, ["-m", "unittest", "discover", "-s", DIR], { encoding: "utf8" });
    expect(run.stderr).toMatch(/^Ran \d+ tests/m);
    expect(run.status, run.stderr).toBe(0);
  });

  test("the report catches its missing identity-key validation and OpenSSL's small-order R, and only those, over the handshake cases", async () => {
    const run = io();
    const command = `'${python}' '${DRIVER}'`;
    expect(await main(["client", "--command", command, "--only", "client.handshake", "--reporter", "json=r.json", "--reporter", "junit=j.xml"], run.io)).toBe(1);
    const report = JSON.parse(readFileSync(join(run.cwd, "conformance-results", "r.json"), "utf8")) as Report;
    expect(validateReport(report)).toEqual({ ok: true });
    expect(report.target).toBe(`client: ${command}`);
    expect(Object.fromEntries(report.cases.map((c) => [c.id, c.verdict]))).toEqual(Object.fromEntries([...PASSING.map((id) => [id, "pass"]), ...KEY_CASES.map((id) => [id, "fail"])]));
    expect(report.summary).toMatchObject({ passed: PASSING.length, failed: KEY_CASES.length, errors: 0 });

    // The reason: the driver answered the bad key's HANDSHAKE_INIT_ACK with its CHALLENGE_RESPONSE
    // instead of aborting with AUTHENTICATION_FAILED, and its own stderr shows it going on.
    const small = report.cases.find((c) => c.id === KEY_CASES[0])!;
    expect(small.requirements).toEqual(["PP-HS-006", "PP-KS-014"]);
    expect(small.expected).toEqual(["the client refuses HANDSHAKE_INIT_ACK with IK_R is the identity point 01 00..00 (small order); sig_R is the forgery R = identity, S = 0 that permissive verifiers accept under it"]);
    expect(small.actual).toMatch(/^it went on: accepted: sent CHALLENGE_RESPONSE; the client (was stopped by SIG\w+|exited with \d+) after \d+ ms \(stderr: /);
    const nonCanonical = report.cases.find((c) => c.id === KEY_CASES[1])!;
    expect(nonCanonical.requirements).toEqual(["PP-HS-006", "PP-KS-013"]);
    expect(nonCanonical.expected).toEqual(["the client refuses HANDSHAKE_INIT_ACK with IK_R is the non-canonical encoding y = p + 1 (of the identity point); sig_R is the forgery R = identity, S = 0"]);
    expect(nonCanonical.actual).toMatch(/^it went on: accepted: sent CHALLENGE_RESPONSE; /);
    // The wire trace goes with each failure: the bad key out, the client's CHALLENGE_RESPONSE in.
    for (const c of [small, nonCanonical]) {
      const frames = (c.trace ?? []).map((t) => `${t.dir} ${t.frame}`);
      expect(frames.some((f) => f.startsWith('out {"message_id"') && f.includes('"type":"HANDSHAKE_INIT_ACK"')), c.id).toBe(true);
      expect(frames.some((f) => f.startsWith("in ") && f.includes('"type": "CHALLENGE_RESPONSE"')), c.id).toBe(true);
    }
    expect(small.trace!.some((t) => t.frame.includes('"identity_key":"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"'))).toBe(true);
    expect(nonCanonical.trace!.some((t) => t.frame.includes('"identity_key":"7v_______________________________________38"'))).toBe(true);

    // JUnit, as CI shows it: a <failure> for each key case with its reason and requirement, none for the others.
    const junit = readFileSync(join(run.cwd, "conformance-results", "j.xml"), "utf8");
    const testcases = junit.split("<testcase ").slice(1);
    for (const id of KEY_CASES) {
      const testcase = testcases.find((t) => t.includes(`name="${id}: `))!;
      expect(testcase, id).toMatch(/<failure message="[^"]*" type="MUST">/);
      // The identity-key faults are taken at HANDSHAKE_INIT_ACK, the small-order R at SESSION_ESTABLISHED.
      expect(testcase, id).toContain(`actual:   it went on: accepted: sent ${id.endsWith("signature-r-small-order") ? "SESSION_CONFIRM" : "CHALLENGE_RESPONSE"}`);
      expect(testcase, id).toContain(id.endsWith("signature-r-small-order") ? "PP-KS-016 (MUST): An endpoint MUST reject an Ed25519 signature whose R is non-canonical or of small order" : "PP-HS-006 (MUST): An endpoint MUST reject an identity key that is not a canonical encoding of an Ed25519 point or that has small order");
    }
    for (const id of PASSING) expect(testcases.find((t) => t.includes(`name="${id}: `)), id).toMatch(/^[^>]*><\/testcase>/);
    expect(run.out.join("")).toContain(`${PASSING.length} passed, ${KEY_CASES.length} failed`);
  }, 120_000);

  test("it says why it cannot run a scenario it does not implement (exit 2), and never prints the private key", () => {
    const seed = Buffer.alloc(32, 7).toString("base64url");
    const env = { ...process.env, PEER_URL: "ws://127.0.0.1:9/ws/v1/peers", PEER_ENTITY_ID: "agent-py", PEER_PRIVATE_KEY: seed, PEER_SERVER_ID: "server-1", PEER_SERVER_KEY: Buffer.alloc(32, 1).toString("base64url"), PEER_TIMEOUT_MS: "5000" };
    const large = spawnSync(python, [DRIVER], { env: { ...env, PEER_SCENARIO: "large" }, encoding: "utf8" });
    expect(large.status).toBe(2);
    expect(large.stderr).toBe('peer_client_driver.py: PEER_SCENARIO "large" is not supported by this driver, which implements echo only\n');
    // Nothing listens on the discard port: the connection fails, which is exit 1 (spec §18.1).
    const unreachable = spawnSync(python, [DRIVER], { env: { ...env, PEER_SCENARIO: "echo" }, encoding: "utf8" });
    expect(unreachable.status).toBe(1);
    expect(unreachable.stderr).toMatch(/^start scenario=echo entity=agent-py server=server-1 url=ws:\/\/127\.0\.0\.1:9\/ws\/v1\/peers\nfailed: could not connect to ws:\/\/127\.0\.0\.1:9\/ws\/v1\/peers: .+\ndone exit=1\n$/);
    expect(unreachable.stderr).not.toContain(seed);
  }, 30_000);
});
