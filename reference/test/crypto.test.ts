/**
 * The crypto module's choice of stack (reference/src/crypto.ts): libsodium when `sodium-native`
 * loads, `node:crypto` when PEER_CRYPTO=node asks for it or when `sodium-native` cannot load, said
 * once on stderr. Each case runs a fresh Node process, since the stack is chosen once, at load.
 * The vectors themselves are reproduced on both stacks by spec/test/vectors.test.ts.
 */
import { spawnSync } from "node:child_process";
import { hkdfSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { afterAll, expect, test } from "vitest";
import records from "../../spec/vectors/records.json" with { type: "json" };
import negative from "../../spec/vectors/negative.json" with { type: "json" };
import { hkdf, randomBytes } from "../src/crypto.ts";

const CRYPTO = fileURLToPath(new URL("../src/crypto.ts", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "pp-crypto-stack-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A preload that makes `require("sodium-native")` fail, as on a platform without a prebuilt binary. */
const NO_SODIUM = join(scratch, "no-sodium.cjs");
writeFileSync(NO_SODIUM, `const Module = require("node:module");
const load = Module._load;
Module._load = function (request, ...rest) {
  if (request === "sodium-native") throw new Error("No native build was found for this platform");
  return load.call(this, request, ...rest);
};
`);

/** Seals the records vector's first record and verifies the identity-point forgery, in a child process. */
function runChild(env: Record<string, string | undefined>, preload: string[] = []) {
  const v = records.records[0] as { key: string; nonce: string; plaintext: string; aad: string };
  const forgery = negative.cases.find((c) => c.name.startsWith("identity-point forgery")) as { public_key: string; message: string; signature: string };
  const script = `
    const c = await import(${JSON.stringify(CRYPTO)});
    const hex = (h) => Buffer.from(h, "hex");
    const sealed = c.aeadSeal("chacha20-poly1305", hex(${JSON.stringify(v.key)}), hex(${JSON.stringify(v.nonce)}), Buffer.from(${JSON.stringify(v.plaintext)}), Buffer.from(${JSON.stringify(v.aad)}));
    const forged = c.ed25519VerifyStrict(hex(${JSON.stringify(forgery.public_key)}), hex(${JSON.stringify(forgery.message)}), hex(${JSON.stringify(forgery.signature)}));
    console.log(JSON.stringify({ stack: c.CRYPTO_STACK, sealed: sealed.toString("hex"), forged }));
  `;
  const child = spawnSync(process.execPath, [...preload.flatMap((p) => ["--require", p]), "--import", "tsx", "--input-type=module", "-e", script], { env: { ...process.env, ...env }, encoding: "utf8", timeout: 30_000 });
  return { status: child.status, stderr: child.stderr, out: child.status === 0 ? (JSON.parse(child.stdout) as { stack: string; sealed: string; forged: boolean }) : undefined };
}

test("loads libsodium by default and says nothing", () => {
  const { status, stderr, out } = runChild({ PEER_CRYPTO: undefined });
  expect(status, stderr).toBe(0);
  expect(out?.stack).toBe("libsodium");
  expect(out?.sealed).toBe(records.records[0]?.ciphertext_and_tag);
  expect(out?.forged).toBe(false);
  expect(stderr).not.toMatch(/sodium/);
});

test("uses node:crypto under PEER_CRYPTO=node, with the same bytes and the same strictness", () => {
  const { status, stderr, out } = runChild({ PEER_CRYPTO: "node" });
  expect(status, stderr).toBe(0);
  expect(out?.stack).toBe("node:crypto");
  expect(out?.sealed).toBe(records.records[0]?.ciphertext_and_tag);
  expect(out?.forged).toBe(false);
});

test("falls back to node:crypto when sodium-native cannot load, and says so once on stderr", () => {
  const { status, stderr, out } = runChild({ PEER_CRYPTO: undefined }, [NO_SODIUM]);
  expect(status, stderr).toBe(0);
  expect(out?.stack).toBe("node:crypto");
  expect(out?.sealed).toBe(records.records[0]?.ciphertext_and_tag);
  expect(out?.forged).toBe(false);
  expect(stderr.match(/sodium-native did not load \(No native build was found for this platform\); using node:crypto/g)).toHaveLength(1);
});

test("refuses a PEER_CRYPTO it does not know, rather than guessing", () => {
  const { status, stderr } = runChild({ PEER_CRYPTO: "openssl" });
  expect(status).not.toBe(0);
  expect(stderr).toMatch(/PEER_CRYPTO must be "sodium" or "node", not "openssl"/);
});

test("hkdf, composed from HMAC-SHA256 (RFC 5869 §2.2, §2.3), equals node:crypto's hkdfSync", () => {
  const bytes = fc.uint8Array({ minLength: 0, maxLength: 80 });
  fc.assert(
    fc.property(bytes, bytes, fc.integer({ min: 1, max: 255 }), (salt, ikm, length) => hkdf(salt, ikm, length).equals(Buffer.from(hkdfSync("sha256", ikm, salt, new Uint8Array(0), length)))),
    { numRuns: 500 },
  );
});

test("randomBytes gives n bytes in memory of their own, different each time", () => {
  const a = randomBytes(32);
  const b = randomBytes(32);
  expect(a).toHaveLength(32);
  expect(a.buffer.byteLength).toBe(32); // not a slice of Buffer's shared pool, which a retained key would keep alive
  expect(a.equals(b)).toBe(false);
  expect(randomBytes(0)).toHaveLength(0);
});
