/**
 * Secrets at rest in Redis. Redis is inside the trust boundary of a cluster (docs/guides/deployment.md),
 * but traffic keys, resumption secrets and queued messages are what an attacker who reads a Redis
 * dump or backup would want most. With `--redis-key-file`, each such value is sealed with
 * ChaCha20-Poly1305 under that key before it leaves the node; the AAD names the Redis key and
 * field it belongs to, so a value copied to another field or session does not open.
 */
import { readFileSync } from "node:fs";
import { aeadOpen, aeadSeal, randomBytes } from "../../crypto.ts";

const NONCE_BYTES = 12;

/** A value in Redis that does not open: another at-rest key, or tampered. */
export class AtRestError extends Error {}

export interface AtRest {
  /** True when values are sealed (a key file was given). */
  readonly sealed: boolean;
  wrap(value: Buffer, context: string): string;
  /** The value, or an Error naming the context when it does not open (wrong key, or tampered). */
  unwrap(stored: string, context: string): Buffer;
}

/** No key file: values are stored as base64 (Redis is trusted as a whole). */
export const PLAIN_AT_REST: AtRest = {
  sealed: false,
  wrap: (value) => value.toString("base64"),
  unwrap: (stored) => Buffer.from(stored, "base64"),
};

export function sealedAtRest(key: Buffer): AtRest {
  if (key.length !== 32) throw new Error(`the at-rest key must be 32 bytes, got ${key.length}`);
  return {
    sealed: true,
    wrap(value, context) {
      const nonce = randomBytes(NONCE_BYTES); // random 96-bit nonces: far below the birthday bound for one key's lifetime of writes
      return Buffer.concat([nonce, aeadSeal("chacha20-poly1305", key, nonce, value, Buffer.from(context, "utf8"))]).toString("base64");
    },
    unwrap(stored, context) {
      const bytes = Buffer.from(stored, "base64");
      const opened = bytes.length > NONCE_BYTES ? aeadOpen("chacha20-poly1305", key, bytes.subarray(0, NONCE_BYTES), bytes.subarray(NONCE_BYTES), Buffer.from(context, "utf8")) : null;
      if (!opened) throw new AtRestError(`a value in Redis (${context}) does not open under --redis-key-file: another key, or tampered`);
      return opened;
    },
  };
}

/** Reads `--redis-key-file`: 64 hex digits (32 bytes), surrounding whitespace allowed. */
export function readKeyFile(path: string): Buffer {
  let text: string;
  try {
    text = readFileSync(path, "utf8").trim();
  } catch (error) {
    throw new Error(`--redis-key-file: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  if (!/^[0-9a-fA-F]{64}$/.test(text)) throw new Error(`--redis-key-file: ${path} must hold 64 hex digits (32 random bytes, e.g. \`openssl rand -hex 32\`)`);
  return Buffer.from(text, "hex");
}
