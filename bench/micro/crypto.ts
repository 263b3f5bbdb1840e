/**
 * Micro-benchmark of the reference's crypto module (reference/src/crypto.ts), through its exported
 * API: `npx tsx bench/micro/crypto.ts [--ms 300]`. Run it once as is (libsodium) and once with
 * PEER_CRYPTO=node (the node:crypto fallback) to compare the two stacks in the same hour.
 * Short runs show direction only: take final figures on an idle machine.
 */
import { cpus } from "node:os";
import * as crypto from "../../reference/src/crypto.ts";

const msArg = process.argv.indexOf("--ms");
const budgetMs = msArg > 0 ? Number(process.argv[msArg + 1]) : 300;

/** Operations per second of `fn`, after a warm-up, over about `budgetMs`. */
function rate(fn: () => unknown): number {
  for (let i = 0; i < 200; i++) fn();
  let n = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(budgetMs) * 1_000_000n;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 50; i++) fn();
    n += 50;
    now = process.hrtime.bigint();
  }
  return (n * 1e9) / Number(now - start);
}

const key = crypto.randomBytes(32);
const nonce = crypto.randomBytes(12);
const aad = crypto.randomBytes(64);
const kib = crypto.randomBytes(1024);
const sealedChacha = crypto.aeadSeal("chacha20-poly1305", key, nonce, kib, aad);
const identity = crypto.generateEd25519();
const message = crypto.randomBytes(96);
const signature = crypto.ed25519Sign(identity, message);
const ours = crypto.generateX25519();
const peer = crypto.generateX25519();

const rows: [string, () => unknown][] = [
  ["ChaCha20-Poly1305 seal, 1 KiB", () => crypto.aeadSeal("chacha20-poly1305", key, nonce, kib, aad)],
  ["ChaCha20-Poly1305 open, 1 KiB", () => crypto.aeadOpen("chacha20-poly1305", key, nonce, sealedChacha, aad)],
  ["AES-256-GCM seal, 1 KiB", () => crypto.aeadSeal("aes-256-gcm", key, nonce, kib, aad)],
  ["X25519 key pair", () => crypto.generateX25519()],
  ["X25519 shared secret", () => crypto.x25519(ours.privateKey, peer.publicKey)],
  ["Ed25519 sign", () => crypto.ed25519Sign(identity, message)],
  ["Ed25519 verify (strict)", () => crypto.ed25519VerifyStrict(identity.publicKey, message, signature)],
  ["Ed25519 key check (PP-KS-013/014), uncached", () => crypto.ed25519PointProblem(identity.publicKey)],
  ["Ed25519 key check, cached", () => crypto.ed25519KeyProblemCached(identity.publicKey)],
  ["SHA-256, 3 parts of 32 B", () => crypto.sha256(key, nonce, key)],
  ["HMAC-SHA256, 32 B", () => crypto.hmacSha256(key, key)],
  ["HKDF, 64 B out", () => crypto.hkdf(key, key, 64)],
];

console.log(`crypto stack: ${crypto.CRYPTO_STACK}; Node ${process.version}; ${cpus()[0]?.model ?? "?"}; ${budgetMs} ms per row`);
console.log("| operation | ops/s | µs/op |\n| --- | ---: | ---: |");
for (const [name, fn] of rows) {
  const r = rate(fn);
  console.log(`| ${name} | ${Math.round(r).toLocaleString("en")} | ${(1e6 / r).toFixed(2)} |`);
}

